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
            "The scaling lab: build clusters of 10, 100, 1,000 and 10,000 Services and compare the three proxy "
            "modes: rules in the ruleset, rules the first packet of a new connection examines (average and worst "
            "over a sample of Services), and the measured sync time. Example: kproxy-tutor scale-lab --sizes 10,100,1000"
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
    ) -> None:
        from kproxy_tutor.sandbox.scaling import measure
        from kproxy_tutor.ui.scale_view import print_scale_lab, progress_printer

        wanted = _sizes(sizes)
        with progress_printer() as progress:
            points = measure(wanted, endpoints, seed, progress=progress)
        print_scale_lab(points)
