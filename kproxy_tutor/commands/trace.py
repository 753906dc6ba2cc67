"""`kproxy-tutor trace`: follow a request through kube-proxy's rules (iptables, nftables or IPVS mode), hook by hook, to the Pod."""

from typing import TYPE_CHECKING, Annotated

import typer

from kproxy_tutor import completion_values as values
from kproxy_tutor.i18n import _

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.work import Progress


def register(app: typer.Typer) -> None:
    @app.command(
        "trace",
        help=_(
            "Follow one request through the rules kube-proxy writes: DNS, every netfilter hook and "
            "matching rule, DNAT to a Pod, masquerade (and why), delivery and the reply through conntrack. "
            "With --mode nftables or ipvs, through that mode's table or virtual servers on every node on the way. "
            "Example: kproxy-tutor trace -f cluster.yaml --from client --to web:80"
        ),
    )
    def trace_command(
        source: Annotated[
            str,
            typer.Option(
                "--from",
                metavar="POD|NODE|IP",
                help=_(
                    "Who sends: a Pod (NAME or NS/NAME), a node (a process on it) or an IP (outside the cluster)."
                ),
            ),
        ],
        target: Annotated[
            str,
            typer.Option(
                "--to",
                metavar="SERVICE[:PORT]|IP:PORT",
                help=_("Where to: a Service name (found through cluster DNS), IP:PORT or NODE:PORT."),
            ),
        ],
        files: Annotated[
            list[str] | None,
            typer.Option(
                "--file",
                "-f",
                metavar="FILE",
                help=_("Manifest file to load; repeat for more; - reads stdin."),
            ),
        ] = None,
        rules: Annotated[
            str | None,
            typer.Option(
                "--rules",
                metavar="DUMP",
                help=_(
                    "Trace through a real node's iptables-save (or ip6tables-save) output instead of compiled "
                    "manifests."
                ),
            ),
        ] = None,
        node_ips: Annotated[
            list[str] | None,
            typer.Option(
                "--node-ip",
                metavar="IP",
                help=_(
                    "With --rules: an address of that node (for -m addrtype LOCAL); repeat for more. "
                    "IPv6 addresses mean an ip6tables-save dump."
                ),
            ),
        ] = None,
        protocol: Annotated[
            str | None,
            typer.Option(
                "--proto", metavar="tcp|udp|sctp", help=_("Protocol (default: the Service port's, else tcp).")
            ),
        ] = None,
        node: Annotated[
            str | None,
            typer.Option(
                "--node",
                metavar="NAME",
                help=_(
                    "The node a client outside the cluster comes in on (for load-balancer and external IPs)."
                ),
            ),
        ] = None,
        count: Annotated[
            int,
            typer.Option(
                "--count",
                "-n",
                min=1,
                max=1_000_000,
                help=_("Open N new connections and show how they spread over the endpoints."),
            ),
        ] = 1,
        seed: Annotated[
            int | None,
            typer.Option(
                "--seed", help=_("Seed of the random numbers -m statistic draws (same seed, same choices).")
            ),
        ] = None,
        output: Annotated[
            str | None,
            typer.Option(
                "--output", "-o", metavar="json", help=_("json: the outcome and every step, for scripts.")
            ),
        ] = None,
        family: Annotated[
            str | None,
            typer.Option(
                "--family",
                metavar="ipv4|ipv6",
                autocompletion=values.trace_families,
                help=_(
                    "With a Service or node name: its address of this IP family (default: a Service's "
                    "primary family, spec.ipFamilies[0]). An address in --to picks its own family."
                ),
            ),
        ] = None,
        mode: Annotated[
            str | None,
            typer.Option(
                "--mode",
                metavar="iptables|nftables|ipvs",
                autocompletion=values.modes,
                help=_(
                    "kube-proxy's proxy mode whose rules the packet goes through (default: "
                    "the mode a KubeProxyConfiguration in FILE sets, else iptables)."
                ),
            ),
        ] = None,
    ) -> None:
        import json
        import random

        from kproxy_tutor import runtime
        from kproxy_tutor.errors import N_, UsageError
        from kproxy_tutor.sandbox.trace.export import trace_data
        from kproxy_tutor.ui.console import display, make_console

        if output not in (None, "json"):
            raise UsageError(N_("Unknown output format {value!r}: the only one is json."), value=output)
        if (files is None) == (rules is None):
            raise UsageError(
                N_("Give the cluster with -f FILE, or a node's rules with --rules DUMP (one of the two).")
            )
        if node_ips and rules is None:
            raise UsageError(
                N_("--node-ip goes with --rules (with -f the nodes' addresses come from the manifests).")
            )
        from kproxy_tutor.commands.rules import check_options, warn_if_deprecated
        from kproxy_tutor.sandbox.modes import check_mode

        check_options(mode)  # a wrong --mode is a usage error (exit 2), before anything is read

        if rules is not None and check_mode(mode or "iptables") != "iptables":
            raise UsageError(N_("--rules reads an iptables-save dump: it goes with --mode iptables."))
        if seed is None:
            seed = random.SystemRandom().randrange(2**32)
        from kproxy_tutor.ui.work_progress import WorkProgress

        # Compiling a node's rules happens at its first packet; this display shows it when long.
        compiling = WorkProgress()
        session, mode = _session(files, rules, node_ips or [], node, seed, mode, compiling)
        warn_if_deprecated(mode)
        if node is not None and session.cluster is not None:
            from kproxy_tutor.sandbox.trace.request import split_host_port, target_node

            owner = target_node(session.cluster, split_host_port(target)[0])
            if owner is not None and owner != node:
                raise UsageError(
                    N_(
                        "{target} is an address of node {owner}, so the packet comes in on {owner}; "
                        "--node only chooses the node for load-balancer and external IPs."
                    ),
                    target=target,
                    owner=owner,
                )
        if session.cluster is not None:
            from kproxy_tutor.shell.names import check_request

            check_request(session.cluster, source, target, UsageError)  # did-you-mean for both names
        from kproxy_tutor.sandbox.trace.request import check_family_choice

        client, destination = session.resolve(source, target, protocol, node, check_family_choice(family))
        tracer = session.tracer_for(destination.family)
        plain = runtime.current().plain
        console = make_console()
        if mode != "iptables" and output != "json":
            from rich.text import Text

            console.print(
                Text(_("Mode {mode}: each node's {mode} rules, node to node and back.").format(mode=mode))
            )
        if count > 1:
            import gc

            from kproxy_tutor.sandbox.trace.load import run_load

            # Thousands of traces allocate many small objects; keep the collector from walking the
            # whole (possibly 10,000-Service) cluster model again and again.
            gc.collect()
            gc.freeze()
            from kproxy_tutor.ui.load_view import print_load

            with compiling:  # one display: the node's compilation, then the connections
                result = run_load(
                    tracer,
                    client,
                    destination.ip,
                    destination.port,
                    destination.protocol,
                    count,
                    progress=compiling,
                )
            if output == "json":
                first = session.annotate(result.first, destination)
                data = trace_data(first, client, destination, result, mode=mode, seed=seed)
                typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
                return
            network = tracer.network

            def pod_of(ip: str) -> str | None:
                pod = network.pod_at(ip)
                return pod.name if pod is not None else None

            label = client.name or client.ip
            print_load(console, result, pod_of, plain or not display().color, label, target, mode)
            return
        with compiling:
            trace = session.connect(client, destination)
        if output == "json":
            typer.echo(
                json.dumps(
                    trace_data(trace, client, destination, mode=mode, seed=seed), ensure_ascii=False, indent=2
                )
            )
            return
        from kproxy_tutor.ui.trace_view import print_trace

        print_trace(console, trace, animate=display().animate and not plain)


def _session(
    files: list[str] | None,
    rules: str | None,
    node_ips: list[str],
    node: str | None,
    seed: int,  # type: ignore[no-untyped-def]
    mode: str | None,
    progress: "Progress | None" = None,
):
    """The trace session and the mode it runs in (a dump is iptables; manifests may choose the mode)."""
    from kproxy_tutor.sandbox.trace.session import TraceSession

    if rules is not None:
        from kproxy_tutor.errors import N_, UsageError
        from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset
        from kproxy_tutor.sandbox.manifests import read_source
        from kproxy_tutor.sandbox.trace.request import check_node_ips

        text, name = read_source(rules)
        ips = check_node_ips(node_ips)
        if not ips:
            raise UsageError(
                N_(
                    "With --rules, give the node's own addresses with --node-ip (they decide -m addrtype LOCAL)."
                )
            )
        return TraceSession.from_dump(parse_ruleset(text, name), ips, node or "node", seed), "iptables"
    from kproxy_tutor.commands.rules import load_with_mode

    loaded, mode = load_with_mode(files or [], mode)
    return TraceSession.from_cluster(loaded.cluster, seed, progress=progress, mode=mode), mode
