"""`kproxy-tutor scale-lab`: build clusters of growing size and compare how iptables, nftables and IPVS mode scale."""

from typing import Annotated

import typer

from kproxy_tutor.i18n import _

DEFAULT_SIZES = "10,100,1000,10000"


def _sizes(text: str) -> list[int]:
    from kproxy_tutor.errors import N_, UsageError

    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and 1 <= int(p) <= 50_000 for p in parts):
        raise UsageError(
            N_(
                "--sizes wants numbers of Services from 1 to 50000, comma-separated, e.g. 10,100,1000 "
                "(got {value!r})."
            ),
            value=text,
        )
    return sorted({int(p) for p in parts})


def register(app: typer.Typer) -> None:
    @app.command(
        "scale-lab",
        help=_(
            "The scaling lab: build clusters of 10, 100, 1,000 and 10,000 Services and compare what grows in each "
            "proxy mode, computed from the rules it compiles: rules in the ruleset, rules the first packet of a new "
            "connection examines, lines and bytes kube-proxy writes per full and per partial sync, kernel objects "
            "replaced. As root, with iptables-restore and nft installed, it also measures how long they take to load "
            "100 and 1,000 Services in a throwaway network namespace on this machine (--no-kernel skips that). "
            "Example: kproxy-tutor scale-lab --sizes 10,100,1000"
        ),
    )
    def scale_lab(
        sizes: Annotated[
            str,
            typer.Option(
                "--sizes", metavar="N,N,...", help=_("Numbers of Services to build, comma-separated.")
            ),
        ] = DEFAULT_SIZES,
        endpoints: Annotated[
            int, typer.Option("--endpoints", min=1, max=50, help=_("Endpoints (Pods) behind each Service."))
        ] = 5,
        seed: Annotated[
            int, typer.Option("--seed", help=_("Seed for the sample of Services and random choices."))
        ] = 0,
        kernel: Annotated[
            bool,
            typer.Option(
                "--kernel/--no-kernel",
                help=_(
                    "Measure iptables-restore and nft -f load times for 100 and 1,000 Services in a throwaway "
                    "network namespace (needs root and the tools; skipped with a reason otherwise)."
                ),
            ),
        ] = True,
    ) -> None:
        from kproxy_tutor.sandbox.scaling import measure
        from kproxy_tutor.ui.scale_view import kernel_progress_printer, print_scale_lab, progress_printer

        wanted = _sizes(sizes)
        with progress_printer() as progress:
            points = measure(wanted, endpoints, seed, progress=progress)
        report = None
        if kernel:
            from kproxy_tutor.lab.loadtime import DEFAULT_SIZES as KERNEL_SIZES
            from kproxy_tutor.lab.loadtime import measure_load_times

            with kernel_progress_printer() as loading:
                report = measure_load_times(KERNEL_SIZES, endpoints, progress=loading)
        print_scale_lab(points, report)
