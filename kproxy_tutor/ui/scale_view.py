"""Show the scaling lab: a table per cluster size, a bar chart of rules examined, and a caption that reads the numbers.

With ``--plain`` everything is linear text (one line per mode and size, bars drawn with ``#``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kproxy_tutor.i18n import _, format_decimal, format_number, ngettext
from kproxy_tutor.sandbox.scaling import ScalePoint
from kproxy_tutor.ui.console import display, glyphs, make_console

BAR_WIDTH = 40
MODE_STYLE = {"iptables": "red", "nftables": "green", "ipvs": "cyan"}


def _num(value: float) -> str:
    return glyphs(format_number(round(value)))


def _examined(point: ScalePoint, mode: str, worst: bool) -> str:
    figures = point.modes[mode]
    value = figures.examined_worst if worst else figures.examined_avg
    text = _num(value) if worst else format_decimal(value, 1, fixed=True)
    if figures.lookups:
        text += f" (+{format_number(figures.lookups)})"
    return text


def _seconds(value: float) -> str:
    return _("{ms} ms").format(ms=format_decimal(value * 1000, 1, fixed=True))


@contextmanager
def progress_printer() -> Iterator[Callable[[int, str], None]]:
    """Tell the learner which cluster is being compiled (10,000 Services take a few seconds)."""
    console = make_console(stderr=True)

    def report(size: int, mode: str) -> None:
        if display().interactive or display().plain:
            console.print(
                _("Compiling {n} Services in {mode} mode...").format(n=_num(size), mode=mode),
                markup=False,
                highlight=False,
            )

    yield report


def _table(points: list[ScalePoint]) -> object:
    from rich.table import Table

    table = Table(title=_("Per mode and cluster size"), title_justify="left")
    for header in (
        _("Services"),
        _("mode"),
        _("rules"),
        _("set/map elements"),
        _("examined: average"),
        _("examined: worst"),
        _("sync time"),
    ):
        table.add_column(header, justify="left" if header in (_("mode"),) else "right")
    for point in points:
        for mode, f in point.modes.items():
            table.add_row(
                _num(point.services),
                f"[{MODE_STYLE.get(mode, '')}]{mode}[/]",
                _num(f.rules),
                _num(f.elements),
                _examined(point, mode, False),
                _examined(point, mode, True),
                _seconds(f.sync_seconds),
            )
        table.add_section()
    return table


def _bars(points: list[ScalePoint], plain: bool) -> list[str]:
    top = max((f.examined_worst for p in points for f in p.modes.values()), default=1) or 1
    lines = [_("Rules examined for the first packet of a new connection (worst in the sample):")]
    for point in points:
        for mode, f in point.modes.items():
            length = max(1, round(BAR_WIDTH * f.examined_worst / top))
            bar = ("#" if plain else "█") * length
            label = f"{_num(point.services):>7} {mode:<9}"
            lines.append(f"  {label} {bar} {_num(f.examined_worst)}")
    return lines


def caption(points: list[ScalePoint]) -> str:
    """What the numbers show, in the learner's language, with the figures of the smallest and largest cluster."""
    first, last = points[0], points[-1]
    ipt_small, ipt_big = first.modes["iptables"].examined_worst, last.modes["iptables"].examined_worst
    nft_big = last.modes["nftables"].examined_worst
    ipvs_big = last.modes["ipvs"].examined_worst
    return _(
        "iptables mode keeps one rule per Service port in KUBE-SERVICES and the kernel checks them in order, so "
        "the first packet of a connection examined up to {ipt_small} rules with {small} Services and {ipt_big} "
        "with {big}: the cost grows with the number of Services (O(n)). nftables mode finds the Service with one "
        "verdict-map lookup: {nft} rules whatever the size (O(1)). IPVS mode keeps a constant handful of iptables "
        "rules that match ipsets ({ipvs} rules) and then one hash lookup for the virtual server; its ipsets and "
        "IPVS tables grow instead. Sync times are measured on this machine by the sandbox, not by kube-proxy: "
        "compare them between modes, not with a real cluster."
    ).format(
        ipt_small=_num(ipt_small),
        small=_num(first.services),
        ipt_big=_num(ipt_big),
        big=_num(last.services),
        nft=_num(nft_big),
        ipvs=_num(ipvs_big),
    )


def _plain_lines(points: list[ScalePoint]) -> list[str]:
    lines = []
    for point in points:
        lines.append(
            ngettext(
                "{n} Service, {e} endpoints each:", "{n} Services, {e} endpoints each:", point.services
            ).format(n=_num(point.services), e=_num(point.endpoints))
        )
        for mode, f in point.modes.items():
            lines.append(
                "  "
                + _(
                    "{mode}: {rules} rules, {elements} set/map elements; examined: average {avg}, "
                    "worst {worst}; sync {sync}"
                ).format(
                    mode=mode,
                    rules=_num(f.rules),
                    elements=_num(f.elements),
                    avg=_examined(point, mode, False),
                    worst=_examined(point, mode, True),
                    sync=_seconds(f.sync_seconds),
                )
            )
    return lines


def print_scale_lab(points: list[ScalePoint]) -> None:
    if not points:
        return
    console = make_console()
    plain = display().plain
    if plain:
        for line in _plain_lines(points):
            console.print(glyphs(line), markup=False, highlight=False, overflow="fold")
    else:
        console.print(_table(points))
    if any(f.lookups for p in points for f in p.modes.values()):
        console.print(
            _("(+1): plus one IPVS hash lookup for the virtual server."), markup=False, highlight=False
        )
    console.print()
    for line in _bars(points, plain):
        if plain:
            console.print(glyphs(line), markup=False, highlight=False, overflow="fold")
        else:
            console.print(glyphs(line), markup=False, highlight=False, no_wrap=True, overflow="ellipsis")
    console.print()
    console.print(glyphs(caption(points)), markup=False, highlight=False)
