"""`kproxy-tutor rules`: the iptables rules kube-proxy writes for a node of the cluster in the given manifests."""

from typing import Annotated

import typer

from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(
        "rules",
        help=_(
            "Show the iptables rules kube-proxy (iptables mode) writes on a node for the Kubernetes objects "
            "in FILE (YAML or JSON, e.g. the output of kubectl get svc,endpointslices,pods,nodes -A -o yaml). "
            "Example: kproxy-tutor rules -f cluster.yaml --node worker-1"
        ),
    )
    def rules_command(
        files: Annotated[
            list[str],
            typer.Option("--file", "-f", metavar="FILE", help=_("Manifest file to load; repeat for more; - reads stdin.")),
        ],
        node: Annotated[
            str | None,
            typer.Option("--node", metavar="NAME", help=_("Node whose rules to show (default: the first node).")),
        ] = None,
        fmt: Annotated[
            str,
            typer.Option(
                "--format",
                metavar="save|restore",
                help=_("save: what iptables-save prints on the node; restore: the payload kube-proxy feeds to iptables-restore."),
            ),
        ] = "save",
        table: Annotated[
            str | None, typer.Option("--table", metavar="nat|filter", help=_("Show only this table."))
        ] = None,
        service: Annotated[
            str | None,
            typer.Option("--service", metavar="NS/NAME", help=_("Show only the chains and rules of this Service.")),
        ] = None,
    ) -> None:
        import sys

        from kproxy_tutor import runtime
        from kproxy_tutor.sandbox.iptables.dump import rules_text
        from kproxy_tutor.sandbox.manifests import load_paths

        loaded = load_paths(files)
        for warning in loaded.warnings:
            typer.echo(
                _("{location}: warning: ").format(location=warning.location)
                + _(warning.message).format(**warning.params),
                err=True,
            )
        text = rules_text(loaded.cluster, node, fmt, table, service)
        if sys.stdout.isatty() and not runtime.current().plain:
            from kproxy_tutor.ui.console import make_console
            from kproxy_tutor.ui.highlight import highlight

            make_console().print(highlight(text.rstrip("\n"), "iptables"), soft_wrap=True)
        else:
            # Plain bytes when piped, so the output is valid iptables-restore input.
            sys.stdout.write(text)
