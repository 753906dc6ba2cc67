"""Show the scaling lab: what grows with the cluster in each mode (computed), then what this machine's kernel
tools took to load it (measured, labelled so), and a caption that reads the numbers.

Wide terminals (72 columns and more) get tables; narrow ones and ``--plain`` get one line per
figure group, wrapped at spaces, so nothing is ever cut with "…". Numbers go through Babel for
the learner's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kproxy_tutor.i18n import _, format_decimal, format_number, ngettext
from kproxy_tutor.sandbox.scaling import ModeFigures, ScalePoint, SyncFigures
from kproxy_tutor.ui.console import display, glyphs, make_console

MODE_STYLE = {"iptables": "red", "nftables": "green", "ipvs": "cyan"}
TABLE_MIN_WIDTH = 72


# Numbers ---------------------------------------------------------------------------------------
def _spaces(text: str) -> str:
    # Babel groups Russian digits with no-break spaces; an ASCII terminal gets plain ones.
    return text if display().unicode else text.replace("\u00a0", " ").replace("\u202f", " ")


def num(value: float, decimals: int = 0) -> str:
    if not decimals:
        return _spaces(format_number(round(value)))
    return _spaces(format_decimal(value, decimals, fixed=True))


def _unit(template: str, number: str) -> str:
    # A number and its unit never part at the end of a line.
    return _spaces(template.replace(" ", "\u00a0").format(n=number))


def size(value: int) -> str:
    """Bytes as B, kB or MB (decimal units, as iptables-restore input sizes are usually quoted)."""
    if value < 10_000:
        return _unit(_("{n} B"), num(value))
    if value < 1_000_000:
        return _unit(_("{n} kB"), num(value / 1000, 1))
    return _unit(_("{n} MB"), num(value / 1_000_000, 1))


def milliseconds(seconds: float) -> str:
    return _unit(_("{n} ms"), num(seconds * 1000, 0 if seconds >= 0.1 else 1))


def _examined(f: ModeFigures, worst: bool) -> str:
    text = num(f.examined_worst) if worst else num(f.examined_avg, 1)
    return text + (f" (+{f.lookups})" if f.lookups else "")


# Progress --------------------------------------------------------------------------------------
@contextmanager
def _status() -> Iterator[Callable[[str], None]]:
    """A transient status line in a terminal (it vanishes when the lab is done); plain lines with --plain."""
    console = make_console(stderr=True)
    if display().animate:
        with console.status("") as status:
            yield lambda text: status.update(text)
        return

    def say(text: str) -> None:
        if display().plain:
            console.print(text, markup=False, highlight=False)

    yield say


@contextmanager
def progress_printer() -> Iterator[Callable[[int, str], None]]:
    """Tell the learner what is being built (10,000 Services take a while)."""
    with _status() as say:
        yield lambda services, mode: say(
            ngettext(
                "Compiling {n} Service in {mode} mode...",
                "Compiling {n} Services in {mode} mode...",
                services,
            ).format(n=num(services), mode=mode)
        )


@contextmanager
def kernel_progress_printer() -> Iterator[Callable[[int, str], None]]:
    def text(services: int, mode: str) -> str:
        tool = "iptables-restore" if mode == "iptables" else "nft -f"
        return ngettext(
            "Loading {n} Service with {tool} in a throwaway network namespace...",
            "Loading {n} Services with {tool} in a throwaway network namespace...",
            services,
        ).format(n=num(services), tool=tool)

    with _status() as say:
        yield lambda services, mode: say(text(services, mode))


# Tables (wide terminals) -----------------------------------------------------------------------
def _table(title: str, headers: list[str]) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 1 else "right", overflow="fold")
    return table


def _mode(mode: str) -> str:
    return f"[{MODE_STYLE.get(mode, '')}]{mode}[/]" if not display().plain else mode


def _tables(points: list[ScalePoint]) -> list[Any]:
    rules = _table(
        _("Rules, and what the first packet of a new connection examines:"),
        [
            _("Services"),
            _("mode"),
            _("rules"),
            _("set/map elements"),
            _("examined: average"),
            _("examined: worst"),
        ],
    )
    writes = _table(
        _("What kube-proxy writes per sync (partial: one endpoint added):"),
        [
            _("Services"),
            _("mode"),
            _("full: lines"),
            _("full: size"),
            _("partial: lines"),
            _("partial: size"),
        ],
    )
    replaced = _table(
        _("Kernel objects replaced per sync:"),
        [_("Services"), _("mode"), _("full sync"), _("partial sync")],
    )
    for point in points:
        for mode, f in point.modes.items():
            label = (num(point.services), _mode(mode))
            rules.add_row(*label, num(f.rules), num(f.elements), _examined(f, False), _examined(f, True))
            writes.add_row(
                *label, num(f.full.lines), size(f.full.bytes), num(f.partial.lines), size(f.partial.bytes)
            )
            replaced.add_row(*label, num(f.full.replaced), num(f.partial.replaced))
        for table in (rules, writes, replaced):
            table.add_section()
    return [rules, writes, replaced]


# Lines (narrow terminals, --plain) -------------------------------------------------------------
def _sync_text(f: SyncFigures) -> str:
    return _("{lines} lines, {size}, {replaced} kernel objects replaced").format(
        lines=num(f.lines), size=size(f.bytes), replaced=num(f.replaced)
    )


def _lines(points: list[ScalePoint]) -> list[str]:
    out = []
    for point in points:
        out.append(
            ngettext(
                "{n} Service, {e} endpoints each:", "{n} Services, {e} endpoints each:", point.services
            ).format(n=num(point.services), e=num(point.endpoints))
        )
        for mode, f in point.modes.items():
            out.append(
                "  "
                + _(
                    "{mode}: {rules} rules, {elements} set/map elements; first packet examines {avg} rules on "
                    "average, {worst} at worst"
                ).format(
                    mode=mode,
                    rules=num(f.rules),
                    elements=num(f.elements),
                    avg=_examined(f, False),
                    worst=_examined(f, True),
                )
            )
            out.append("    " + _("full sync: {figures}").format(figures=_sync_text(f.full)))
            out.append("    " + _("partial sync: {figures}").format(figures=_sync_text(f.partial)))
    return out


def _bars(points: list[ScalePoint], width: int, plain: bool) -> list[str]:
    top = max((f.examined_worst for p in points for f in p.modes.values()), default=1) or 1
    numbers = max(len(num(f.examined_worst)) for p in points for f in p.modes.values())
    label_width = max(len(num(p.services)) for p in points) + 10
    bar_width = max(8, min(40, width - label_width - numbers - 4))
    lines = [_("Rules examined for the first packet of a new connection (worst in the sample):")]
    for point in points:
        for mode, f in point.modes.items():
            length = max(1, round(bar_width * f.examined_worst / top))
            bar = ("#" if plain else "█") * length
            label = f"{num(point.services):>{label_width - 10}} {mode:<9}"
            lines.append(f"{label} {bar} {num(f.examined_worst)}")
    return lines


# Measured on this machine ----------------------------------------------------------------------
def kernel_lines(report: Any) -> list[str]:
    """The measured figures, each labelled with the tool and the machine; or why there are none."""
    if report is None:
        return [_("Kernel load times: not measured (--no-kernel).")]
    out = []
    if report.times:
        tools = ", ".join(v for k, v in report.versions.items() if k != "kernel")
        out.append(
            _(
                "Measured on this machine (Linux {kernel}; {tools}), each load in a throwaway network "
                "namespace, {e} endpoints per Service, median of up to {repeats} runs:"
            ).format(
                kernel=report.versions.get("kernel", "?"),
                tools=tools,
                e=num(report.endpoints),
                repeats=report.repeats,
            )
        )
        for t in report.times:
            tool = "iptables-restore" if t.mode == "iptables" else "nft -f"
            out.append(
                "  "
                + ngettext(
                    "{tool}, {n} Service: full sync {full}, partial sync {partial}",
                    "{tool}, {n} Services: full sync {full}, partial sync {partial}",
                    t.services,
                ).format(
                    tool=tool,
                    n=num(t.services),
                    full=milliseconds(t.full_seconds),
                    partial=milliseconds(t.partial_seconds),
                )
            )
    for skipped in report.skipped:
        what = _("Kernel load times") if skipped.mode == "all" else skipped.mode
        out.append(f"{what}: " + _(skipped.reason).format(**skipped.params))
    return out


# Caption ---------------------------------------------------------------------------------------
def caption(points: list[ScalePoint]) -> str:
    """What the numbers show, in the learner's language, quoting the smallest and largest cluster."""
    first, last = points[0], points[-1]
    ipt, nft, ipvs = (last.modes[m] for m in ("iptables", "nftables", "ipvs"))
    return _(
        "iptables mode keeps one rule per Service port in KUBE-SERVICES and the kernel checks them in order, so "
        "the first packet of a connection examined up to {ipt_small} rules with {small} Services and {ipt_big} "
        "with {big}: the cost grows with the number of Services (O(n)). Its updates grow too: even a partial sync "
        "after one endpoint change rewrites all of KUBE-SERVICES ({ipt_partial} lines with {big} Services). "
        "nftables mode finds the Service with one verdict-map lookup ({nft} rules whatever the size, O(1)), and a "
        "partial sync sends only what changed ({nft_partial} lines). IPVS mode keeps a constant handful of "
        "iptables rules that match ipsets ({ipvs} rules) plus one hash lookup; its ipsets and IPVS tables grow "
        "instead. Every figure above is computed from the rules this tutor compiles; only the load times are "
        "measured, and only on this machine."
    ).format(
        ipt_small=num(first.modes["iptables"].examined_worst),
        small=num(first.services),
        ipt_big=num(ipt.examined_worst),
        big=num(last.services),
        ipt_partial=num(ipt.partial.lines),
        nft=num(nft.examined_worst),
        nft_partial=num(nft.partial.lines),
        ipvs=num(ipvs.examined_worst),
    )


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, broken at ASCII spaces only: a number grouped with
    no-break spaces, a number and its unit, an identifier never part. Continuations keep the indent."""
    import textwrap

    indent = text[: len(text) - len(text.lstrip(" "))]
    return textwrap.wrap(
        text,
        width,
        subsequent_indent=indent + "  " if indent else "",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [""]


def render(points: list[ScalePoint], kernel: Any, console: Any) -> None:
    if not points:
        return
    plain = display().plain
    width = console.size.width

    def line(text: str) -> None:
        for wrapped in wrap(glyphs(text), width):
            console.print(wrapped, markup=False, highlight=False, no_wrap=True, overflow="ignore", crop=False)

    if plain or width < TABLE_MIN_WIDTH:
        line(_("What grows with the cluster (computed from the compiled rules):"))
        for text in _lines(points):
            line(text)
    else:
        for table in _tables(points):
            console.print(table)
    if any(f.lookups for p in points for f in p.modes.values()):
        line(_("(+1): plus one IPVS hash lookup for the virtual server."))
    line(
        _(
            "Kernel objects replaced: iptables, the rules of every chain kube-proxy declares (iptables-legacy even "
            "swaps each whole table); nftables, the chains, rules and elements in the transaction; IPVS, its "
            "iptables rules plus the ipset members, IPVS servers and addresses that changed."
        )
    )
    console.print()
    for text in _bars(points, width, plain):
        line(text)
    console.print()
    for text in kernel_lines(kernel):
        line(text)
    console.print()
    line(caption(points))


def print_scale_lab(points: list[ScalePoint], kernel: Any = None) -> None:
    render(points, kernel, make_console())
