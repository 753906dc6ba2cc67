"""`kproxy-tutor lab`: the sandbox's rules in a real kernel, inside throwaway network namespaces (up, curl, sync, status, down)."""

from typing import Annotated

import typer

from kproxy_tutor.i18n import _

DEFAULT_SCENARIO = "db-service"


def _sources(scenario: str | None, files: list[str] | None) -> tuple[list[tuple[str, str]], str, str | None]:
    """(manifest texts, label, node named by the scenario) from --scenario or -f."""
    from kproxy_tutor.errors import N_, UsageError

    if scenario and files:
        raise UsageError(N_("Give either --scenario or -f, not both."))
    if files:
        from kproxy_tutor.sandbox.manifests import read_source

        return [read_source(path) for path in files], ", ".join(files), None
    from kproxy_tutor.shell.scenarios import find_scenario

    found = find_scenario(scenario or DEFAULT_SCENARIO)
    return [(found.manifests, found.source)], found.name, found.node or None


def _scale(value: str) -> tuple[str, int]:
    from kproxy_tutor.errors import N_, UsageError

    name, sep, replicas = value.rpartition("=")
    if (
        not sep
        or not name
        or not (replicas.isascii() and replicas.isdigit())
        or len(replicas.lstrip("0")) > 12
    ):
        raise UsageError(
            N_("--scale wants DEPLOYMENT=REPLICAS, e.g. --scale database=4 (got {value!r})."), value=value
        )
    return name, int(replicas)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help=_(
            "The kernel lab: a miniature node built from network namespaces, with the sandbox's rules loaded "
            "into its kernel tables, a namespace and a tiny server per Pod, and a client namespace. Real "
            "connections show that the rules carry traffic. Needs Linux, root and the ip, iptables and nft "
            "tools; nothing is changed outside the lab's own namespaces.\n\n"
            "Start with: sudo kproxy-tutor lab up --scenario db-service"
        ),
        no_args_is_help=True,
    )

    @group.command(
        "up",
        help=_(
            "Build the lab for a scenario (default: db-service) or for your manifests, and load kube-proxy's rules "
            "for one node. The lab stays up until `lab down` (with --hold: until you press Enter or Ctrl-C)."
        ),
    )
    def up(
        scenario: Annotated[
            str | None,
            typer.Option("--scenario", "-s", metavar="NAME", help=_("A sandbox scenario, e.g. db-service.")),
        ] = None,
        files: Annotated[
            list[str] | None,
            typer.Option("--file", "-f", metavar="FILE", help=_("Manifest file to load; repeat for more.")),
        ] = None,
        mode: Annotated[
            str,
            typer.Option(
                "--mode", metavar="iptables|nftables", help=_("Which kube-proxy mode writes the rules.")
            ),
        ] = "iptables",
        node: Annotated[
            str | None,
            typer.Option(
                "--node",
                metavar="NAME",
                help=_("The node the lab plays (default: the scenario's node, else the first worker)."),
            ),
        ] = None,
        hold: Annotated[
            bool,
            typer.Option(
                "--hold", help=_("Keep the lab only while this command runs; Enter or Ctrl-C removes it.")
            ),
        ] = False,
    ) -> None:
        from kproxy_tutor.lab.rules import MODES
        from kproxy_tutor.lab.session import Lab
        from kproxy_tutor.ui.lab_view import print_down, print_up

        if mode not in MODES:
            from kproxy_tutor.errors import N_, UsageError

            raise UsageError(
                N_("Unknown mode {mode!r}; the lab knows: {modes}."), mode=mode, modes=", ".join(MODES)
            )
        sources, label, scenario_node = _sources(scenario, files)
        lab = Lab.up(sources, label, mode, node or scenario_node)
        if not hold:
            print_up(lab)
            return
        try:
            print_up(lab, hold=True)
            input()
        except (KeyboardInterrupt, EOFError):
            pass
        finally:
            print_down(lab.record, *lab.down())

    @group.command(
        "curl",
        help=_(
            "Open real TCP connections to a Service (SERVICE[:PORT], IP:PORT, [IPv6]:PORT or NODE:PORT) from the "
            "client namespace or a Pod, and show which Pods answered, the kernel's own counters and conntrack entries, and the tutor's "
            "prediction."
        ),
    )
    def curl(
        target: Annotated[str, typer.Argument(metavar="SERVICE[:PORT]", help=_("Where to connect."))],
        count: Annotated[
            int, typer.Option("-n", "--count", metavar="N", help=_("Number of connections (1 to 1000)."))
        ] = 1,
        from_: Annotated[
            str | None,
            typer.Option("--from", metavar="POD", help=_("Connect from this Pod instead of the client.")),
        ] = None,
        family: Annotated[
            str | None,
            typer.Option(
                "--family",
                metavar="ipv4|ipv6",
                help=_(
                    "With a Service or node name: its address of this IP family (default: a Service's "
                    "primary family, spec.ipFamilies[0]). An address picks its own family."
                ),
            ),
        ] = None,
    ) -> None:
        from kproxy_tutor.lab.measure import curl as run_curl
        from kproxy_tutor.lab.session import Lab
        from kproxy_tutor.sandbox.trace.request import check_family_choice
        from kproxy_tutor.ui.lab_view import print_curl

        chosen = check_family_choice(family)  # before the lab is attached: a typo costs no replay
        print_curl(run_curl(Lab.attach(), target, count, from_, family=chosen))

    @group.command(
        "sync",
        help=_(
            "Change the sandbox and let kube-proxy sync the lab's kernel: --scale sends a partial payload (only the "
            "changed Service's chains), -f loads new manifests with a full sync. Pods come and go with their namespaces."
        ),
    )
    def sync(
        scale: Annotated[
            list[str] | None,
            typer.Option("--scale", metavar="DEPLOYMENT=N", help=_("Scale a Deployment, e.g. database=4.")),
        ] = None,
        files: Annotated[
            list[str] | None,
            typer.Option("--file", "-f", metavar="FILE", help=_("New manifests for the whole cluster.")),
        ] = None,
    ) -> None:
        from kproxy_tutor.lab.session import Lab
        from kproxy_tutor.ui.lab_view import print_sync

        lab = Lab.attach()
        reports = []
        if files:
            sources, label, _node = _sources(None, files)
            reports.append(lab.replace_manifests(sources, label))
        for value in scale or []:
            reports.append(lab.scale(*_scale(value)))
        if not reports:
            reports.append(lab.resync())
        for report in reports:
            print_sync(report)

    @group.command("status", help=_("Show the lab that is up: namespaces, Pods, servers and rules."))
    def status() -> None:
        from kproxy_tutor.lab.session import Lab
        from kproxy_tutor.ui.lab_view import print_status

        print_status(Lab.attach())

    @group.command(
        "down",
        help=_(
            "Remove the lab: stop its servers and delete all its namespaces (also what a crashed run left)."
        ),
    )
    def down() -> None:
        from kproxy_tutor.lab.session import remove_recorded
        from kproxy_tutor.ui.lab_view import print_down

        record, (stopped, deleted) = remove_recorded()
        print_down(record, stopped, deleted)

    app.add_typer(group, name="lab")
