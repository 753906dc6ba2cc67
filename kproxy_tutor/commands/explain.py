"""`kproxy-tutor explain`: read a real node's kube-proxy rules, explain them Service by Service, and check them against manifests."""

from typing import Annotated

import typer

from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(
        "explain",
        help=_(
            "Explain the rules kube-proxy wrote on a real node, Service by Service, in words: addresses, "
            "traffic policies, endpoints with their probabilities, masquerade and REJECT/DROP rules, each "
            "with the lesson that teaches it. DUMP is the output of iptables-save (iptables mode, or the "
            "iptables part of IPVS mode), nft list table ip kube-proxy or nft list ruleset (nftables "
            "mode), or for IPVS mode ipvsadm -Ln, ipset list and iptables-save in one file; the format "
            "is detected. With -f, compare with what kube-proxy v1.35 writes for those manifests on that "
            "node (kubectl get svc,endpointslices,pods,nodes -A -o yaml > cluster.yaml). Exit codes: 0 the "
            "rules agree (or, without -f, show no problem), 1 differences or problems found, 2 bad usage, 4 unreadable input. The JSON fields of -o json are "
            "described by kproxy-tutor help explain-json. "
            "Example: sudo iptables-save | kproxy-tutor explain --rules -"
        ),
    )
    def explain_command(
        rules: Annotated[
            str,
            typer.Option(
                "--rules",
                metavar="DUMP",
                help=_("The node's rules: a file with iptables-save or nft list output; - reads stdin."),
            ),
        ],
        files: Annotated[
            list[str] | None,
            typer.Option(
                "--file",
                "-f",
                metavar="FILE",
                help=_(
                    "Manifests of the cluster to compare with (YAML or JSON, as kubectl get prints them); repeat for more."
                ),
            ),
        ] = None,
        node: Annotated[
            str | None,
            typer.Option(
                "--node",
                metavar="NAME",
                help=_("With -f: the node the dump comes from (default: the first node)."),
            ),
        ] = None,
        service: Annotated[
            str | None,
            typer.Option(
                "--service",
                metavar="NS/NAME",
                help=_("Explain only this Service (NAME alone means namespace default)."),
            ),
        ] = None,
        output: Annotated[
            str | None,
            typer.Option(
                "--output",
                "-o",
                metavar="json",
                help=_("json: everything, for scripts."),
            ),
        ] = None,
    ) -> None:
        import sys

        from kproxy_tutor.errors import N_, ExitCode, UsageError

        if output not in (None, "json"):
            raise UsageError(N_("Unknown output format {value!r}: the only one is json."), value=output)
        if node is not None and not files:
            raise UsageError(N_("--node goes with -f (the node of the manifests the dump is compared with)."))
        if service is not None and "/" not in service:
            service = f"default/{service}"

        if rules == "-" and sys.stdin.isatty():
            typer.echo(_("Paste the dump, then press Ctrl-D."), err=True)
        from kproxy_tutor.sandbox.gcpause import paused_gc

        # A big node's dump, its explanation and their text are millions of objects without cycles:
        # the collector stays paused until they are freed (when _explain returns), so it never
        # walks them (each full collection over them would cost about a second).
        with paused_gc():
            found = _explain(rules, files, node, service, output)
        sys.stdout.flush()
        if found:
            raise typer.Exit(int(ExitCode.FAILURE))


def _explain(
    rules: str, files: list[str] | None, node: str | None, service: str | None, output: str | None
) -> bool:
    """Read, explain, compare and print; whether problems (or differences) were found."""
    import sys

    from kproxy_tutor import runtime
    from kproxy_tutor.errors import N_, UsageError
    from kproxy_tutor.explain import compare_with, explain_text, select_service
    from kproxy_tutor.sandbox.manifests import read_source
    from kproxy_tutor.ui.work_progress import DELAY, WorkProgress

    text, name = read_source(rules)
    # A big dump surely takes longer than the display's usual delay: show it from the start.
    delay = 0.0 if len(text) >= BIG_DUMP else DELAY
    with WorkProgress(delay) as progress:
        explanation = explain_text(text, name, progress)
    del text
    differences = None
    if files:
        from kproxy_tutor.commands.rules import load_with_mode

        # The dump's mode decides how the manifests are compiled (no "mode set by the manifests" note).
        dump_mode = explanation.mode if explanation.mode != "none" else "iptables"
        loaded, _mode = load_with_mode(files, dump_mode)
        with WorkProgress() as progress:
            differences = compare_with(explanation, loaded.cluster, node, progress)
    if service is not None:
        explanation = select_service(explanation, service)
        if differences is not None:
            names = {v.name for v in explanation.service_ports}
            differences = [d for d in differences if d.service in names]
        if not explanation.service_ports and not differences:
            raise UsageError(N_("There is no Service {service} in these rules."), service=service)
    if output == "json":
        from kproxy_tutor.explain.export import json_pieces

        # What typer.echo would write (JSON holds no terminal escapes to strip), in pieces as they
        # are encoded, so that a reader who stops early (| head) ends the work at once.
        batch: list[str] = []
        size = 0
        for piece in json_pieces(explanation, differences):
            batch.append(piece)
            size += len(piece)
            if size >= _CHUNK:
                sys.stdout.write("".join(batch))
                batch, size = [], 0
        sys.stdout.write("".join(batch))
    else:
        from kproxy_tutor.ui.console import make_console
        from kproxy_tutor.ui.explain_view import print_explanation

        with WorkProgress(delay) as progress:
            print_explanation(make_console(), explanation, differences, runtime.current().plain, progress)
    return bool(explanation.findings if differences is None else differences)


#: Characters of dump from which the progress display shows at once (a 10,000-Service node has 15-25 MB).
BIG_DUMP = 2_000_000
#: Characters written at a time.
_CHUNK = 1 << 20
