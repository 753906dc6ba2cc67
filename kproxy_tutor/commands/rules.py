"""`kproxy-tutor rules`: the rules kube-proxy writes for a node of the cluster in the given manifests, in iptables, nftables or IPVS mode."""

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from kproxy_tutor import completion_values as values
from kproxy_tutor.i18n import _

_T = TypeVar("_T")


def register(app: typer.Typer) -> None:
    @app.command(
        "rules",
        help=_(
            "Show the rules kube-proxy writes on a node for the Kubernetes objects in FILE (YAML or JSON, e.g. "
            "the output of kubectl get svc,endpointslices,pods,nodes -A -o yaml), in iptables mode (the default), "
            "nftables or IPVS mode. Example: kproxy-tutor rules -f cluster.yaml --node worker-1 --mode nftables"
        ),
    )
    def rules_command(
        files: Annotated[
            list[str],
            typer.Option(
                "--file",
                "-f",
                metavar="FILE",
                help=_("Manifest file to load; repeat for more; - reads stdin."),
            ),
        ],
        node: Annotated[
            str | None,
            typer.Option(
                "--node", metavar="NAME", help=_("Node whose rules to show (default: the first node).")
            ),
        ] = None,
        mode: Annotated[
            str | None,
            typer.Option(
                "--mode",
                metavar="iptables|nftables|ipvs",
                autocompletion=values.modes,
                help=_(
                    "kube-proxy's proxy mode (default: the mode a KubeProxyConfiguration in FILE sets, else iptables)."
                ),
            ),
        ] = None,
        fmt: Annotated[
            str | None,
            typer.Option(
                "--format",
                metavar="FORMAT",
                autocompletion=values.formats,
                help=_(
                    "Which view. iptables mode: save (what iptables-save prints on the node, the default) or restore "
                    "(the payload kube-proxy feeds to iptables-restore). nftables mode: list (nft list table ip "
                    "kube-proxy, the default), transaction (what kube-proxy sends to nft -f on its first sync, in "
                    "its order) or transaction-sorted (the same objects sorted as upstream's tests compare them). "
                    "IPVS mode: ipvsadm (ipvsadm -Ln, the default), ipset (ipset list), iptables (iptables-save), "
                    "kube-ipvs0 (ip addr show kube-ipvs0) or sysctl (the sysctls kube-proxy sets, strictARP's "
                    "among them)."
                ),
            ),
        ] = None,
        table: Annotated[
            str | None,
            typer.Option(
                "--table", metavar="nat|filter|mangle", help=_("Show only this table (iptables mode).")
            ),
        ] = None,
        service: Annotated[
            str | None,
            typer.Option(
                "--service",
                metavar="NS/NAME",
                help=_(
                    "Show only this Service's part: iptables mode its chains and the rules that jump to them; "
                    "nftables mode its chains and its set and map elements; IPVS mode its virtual servers "
                    "(--format ipvsadm) or its kube-ipvs0 addresses. The ipset and iptables views of IPVS mode "
                    "are shared by all Services and refuse --service."
                ),
            ),
        ] = None,
        family: Annotated[
            str | None,
            typer.Option(
                "--family",
                metavar="ipv4|ipv6|both",
                autocompletion=values.rules_families,
                help=_(
                    "Which IP family's proxier to show (kube-proxy runs one per family). Default: both on a "
                    "dual-stack node, each under its own heading; else the node's one family."
                ),
            ),
        ] = None,
    ) -> None:
        import sys

        from kproxy_tutor import runtime
        from kproxy_tutor.errors import N_, UsageError
        from kproxy_tutor.sandbox.modes import (
            FORMATS,
            check_family_choice,
            check_format,
            compile_mode,
            family_tool,
            shown_families,
        )

        # Option values are checked before any file is read: a wrong one is a usage error (exit 2).
        check_options(mode, fmt, table)
        usage_checked(lambda: check_family_choice(family))
        loaded, mode = load_with_mode(files, mode)
        warn_if_deprecated(mode)
        view = usage_checked(lambda: check_format(mode, fmt))
        families = usage_checked(lambda: shown_families(loaded.cluster, node, mode, family))
        from kproxy_tutor.ui.work_progress import WorkProgress

        if mode != "iptables" and table is not None:
            raise UsageError(N_("--table goes with --mode iptables."))
        parts = []
        for one in families:
            if mode == "iptables":
                from kproxy_tutor.sandbox.iptables.dump import rules_text

                with WorkProgress() as progress:
                    part = rules_text(loaded.cluster, node, view, table, service, progress, one)
            else:
                with WorkProgress() as progress:
                    compiled = compile_mode(loaded.cluster, node, mode, progress=progress, family=one)
                part = compiled.texts[FORMATS[mode][view]]
                if service is not None:
                    part = service_text(compiled, loaded.cluster, mode, view, service)
            if len(families) > 1:
                # A comment line: iptables-restore and nft -f skip it, so each part stays valid input.
                heading = _("# {family} proxier: {command}").format(
                    family=one, command=family_tool(mode, view, one)
                )
                part = f"{heading}\n{part}"
            parts.append(part)
        text = "\n".join(parts)
        if sys.stdout.isatty() and not runtime.current().plain:
            from kproxy_tutor.ui.console import make_console
            from kproxy_tutor.ui.highlight import highlight

            languages = {"nftables": "nft", "ipvsadm": "ipvsadm", "iptables": "iptables"}
            language = languages.get(view, languages.get(mode, "text"))
            from kproxy_tutor.ui.wrap import wrap_rule

            console = make_console()
            # At a terminal a long rule breaks between its arguments, with a continuation mark,
            # instead of being cut by the terminal inside a chain name or an address.
            for line in highlight(text.rstrip("\n"), language).split("\n", allow_blank=True):
                for piece in wrap_rule(line, console.width):
                    console.print(piece, soft_wrap=True)
        else:
            # Plain bytes when piped, so the output is valid iptables-restore input.
            sys.stdout.write(text)


def service_text(compiled, cluster, mode: str, view: str, service: str) -> str:  # type: ignore[no-untyped-def]
    """``--service`` outside iptables mode: the Service's part of the view, or a usage error naming the views that split."""
    from kproxy_tutor.errors import N_, UsageError
    from kproxy_tutor.sandbox import service_view

    if view not in service_view.SPLIT_VIEWS[mode]:
        raise UsageError(
            N_(
                "--service does not narrow the {view} view of {mode} mode (it is shared by all Services); use {views}."
            ),
            view=view,
            mode=mode,
            views=", ".join(f"--format {v}" for v in service_view.SPLIT_VIEWS[mode]),
        )
    namespace, sep, name = service.partition("/")
    if not sep:
        namespace, name = "default", service
    if (namespace, name) not in cluster.services:
        from kproxy_tutor.suggest import close_match

        known = [n for ns, n in cluster.services if ns == namespace]
        suggestion = close_match(name, known)
        if suggestion is not None:
            raise UsageError(
                N_("There is no Service {namespace}/{name}. Did you mean {suggestion!r}?"),
                namespace=namespace,
                name=name,
                suggestion=f"{namespace}/{suggestion}",
            )
        raise UsageError(N_("There is no Service {namespace}/{name}."), namespace=namespace, name=name)
    if mode == "nftables":
        from kproxy_tutor.sandbox.nftables import render_listing, render_transaction
        from kproxy_tutor.sandbox.nftables.transaction import service_transaction

        table = service_view.nft_service_table(compiled.state, cluster, namespace, name)
        if view == "list":
            return render_listing(table)
        return service_transaction(table) if view == "transaction" else render_transaction(table)
    from kproxy_tutor.sandbox.ipvs import render_ip_addr, render_ipvsadm

    state = service_view.ipvs_service_state(compiled.state, cluster, namespace, name)
    return render_ipvsadm(state) if view == "ipvsadm" else render_ip_addr(state)


def usage_checked(check: Callable[[], _T]) -> _T:
    """``check()``, with the sandbox's refusal of a command-line option value made a usage error."""
    from kproxy_tutor.errors import SandboxInputError, as_usage

    try:
        return check()
    except SandboxInputError as error:
        raise as_usage(error) from None


def check_options(mode: str | None, fmt: str | None = None, table: str | None = None) -> None:
    """Refuse an unknown --mode, --format (for a given --mode) or --table as a usage error."""
    from kproxy_tutor.errors import N_, UsageError
    from kproxy_tutor.sandbox.iptables.dump import TABLES
    from kproxy_tutor.sandbox.modes import check_format, check_mode

    if mode is not None:
        usage_checked(lambda: check_mode(mode))
        if fmt is not None:
            usage_checked(lambda: check_format(mode, fmt))
    if table is not None and table not in TABLES:
        raise UsageError(N_("Unknown table {value!r}: use nat, filter or mangle."), value=table)


def deprecation_text(mode: str) -> str | None:
    """The warning a deprecated mode gets wherever it is chosen (None for the others)."""
    from kproxy_tutor.sandbox.modes import MODE_INFO

    info = MODE_INFO[mode]
    if not info.deprecated_in:
        return None
    return _("{mode} mode is deprecated since Kubernetes {version}; {replacement} mode replaces it.").format(
        mode=info.name.upper() if info.name == "ipvs" else info.name,
        version=info.deprecated_in,
        replacement=info.replacement,
    )


def warn_if_deprecated(mode: str) -> None:
    """On stderr, so piped rules stay valid input for their tool."""
    text = deprecation_text(mode)
    if text is not None:
        typer.echo(_("warning: ") + text, err=True)


def load_with_mode(files: list[str], mode: str | None):  # type: ignore[no-untyped-def]
    """Load the manifests once and settle the mode: ``mode``, else a KubeProxyConfiguration's, else iptables.

    Prints the loader's warnings (on stderr), and says so when the manifests chose the mode.
    A long load shows its progress on stderr (in a terminal).
    """
    from kproxy_tutor.sandbox.manifests import load_texts, read_source
    from kproxy_tutor.sandbox.modes import DEFAULT_MODE, check_mode
    from kproxy_tutor.ui.work_progress import WorkProgress

    with WorkProgress() as progress:
        loaded = load_texts((read_source(path) for path in files), progress)
    for warning in loaded.warnings:
        typer.echo(
            _("{location}: warning: ").format(location=warning.location)
            + _(warning.message).format(**warning.params),
            err=True,
        )
    configured = loaded.configured_mode
    if mode is None and configured is not None:
        mode = configured
        typer.echo(
            _(
                "Mode {mode}: the KubeProxyConfiguration in the manifests sets it (--mode overrides it)."
            ).format(mode=mode),
            err=True,
        )
    return loaded, check_mode(mode or DEFAULT_MODE)
