"""Render ``trace --count N``: where N new connections landed, next to the shares the rules' probabilities promise."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kproxy_tutor.i18n import _, format_number, format_percent, ngettext
from kproxy_tutor.sandbox.packet import OutcomeKind
from kproxy_tutor.sandbox.trace.load import LoadResult
from kproxy_tutor.ui.console import glyphs

if TYPE_CHECKING:
    from rich.console import Console

BAR_WIDTH = 30


def _label(key: str, pod_of: Callable[[str], str | None]) -> str:
    names = {
        OutcomeKind.REJECTED: _("rejected (REJECT)"),
        OutcomeKind.DROPPED: _("dropped (DROP)"),
        OutcomeKind.NOT_SERVICE: _("not a Service"),
    }
    if key in names:
        return names[key]
    pod = pod_of(key.rsplit(":", 1)[0].strip("[]"))  # ``ip:port`` or ``[ipv6]:port``
    return f"{key} ({pod})" if pod else key


def load_rows(
    result: LoadResult, pod_of: Callable[[str], str | None]
) -> list[tuple[str, int, float, float | None]]:
    """(label, connections, observed share, expected share or None), endpoints in the rules' order first."""
    keys = list(result.expected) + sorted(k for k in result.counts if k not in result.expected)
    return [
        (
            _label(k, pod_of),
            result.counts.get(k, 0),
            result.counts.get(k, 0) / result.count,
            result.expected.get(k),
        )
        for k in keys
    ]


def print_load(
    console: Console,
    result: LoadResult,
    pod_of: Callable[[str], str | None],
    plain: bool,
    client: str,
    target: str,
    mode: str = "iptables",
) -> None:
    from rich.table import Table
    from rich.text import Text

    n = result.count
    console.print(
        ngettext(
            "{n} new connection from {client} to {target} (each with a new source port, "
            "so each is a new conntrack entry and walks the nat rules):",
            "{n} new connections from {client} to {target} (each with a new source port, "
            "so each is a new conntrack entry and walks the nat rules):",
            n,
        ).format(n=format_number(n), client=client, target=target),
        markup=False,
        highlight=False,
    )
    rows = load_rows(result, pod_of)
    expected_header = _("expected") if result.chain is None else _("expected by the rules")
    if plain:
        console.print("")
        for label, count, share, expected in rows:
            expected_text = format_percent(expected, 1, fixed=True) if expected is not None else "-"
            console.print(
                f"  {label}: {format_number(count)} ({format_percent(share, 1, fixed=True)}); {expected_header}: {expected_text}",
                markup=False,
                highlight=False,
            )
    else:
        table = Table(box=None, show_edge=False, pad_edge=False)
        # An endpoint (``[fd00:10:244::2]:8080``) is never split: the Pod's name wraps instead.
        widest = max((len(label.split(" ", 1)[0]) for label, *_rest in rows), default=0)
        table.add_column(_("where"), overflow="fold", min_width=min(widest, max(console.width - 16, 10)))
        table.add_column(_("connections"), justify="right")
        table.add_column(_("share"), justify="right")
        table.add_column(expected_header, justify="right")
        table.add_column("", no_wrap=True, overflow="crop")
        for label, count, share, expected in rows:
            bar = Text(glyphs("█" * round(share * BAR_WIDTH)), style="green")
            if expected is not None:
                bar.append(glyphs(" ▏") if abs(share - expected) < 0.05 else "", style="dim")
            table.add_row(
                Text(label),  # not markup: an IPv6 endpoint's brackets are not a style
                format_number(count),
                format_percent(share, 1, fixed=True),
                format_percent(expected, 1, fixed=True) if expected is not None else "-",
                bar,
            )
        console.print(table)
    if result.chain is not None:
        console.print(glyphs(_shares_note(mode, result.chain)), markup=False, highlight=False, style="dim")
    if result.sticky:
        console.print(
            _sticky_note(mode, result.sticky).format(n=format_number(result.sticky)),
            markup=False,
            highlight=False,
        )


def _shares_note(mode: str, chain: str) -> str:
    if mode == "nftables":
        return _(
            "The expected shares come from numgen random mod N in {chain}: each of its N endpoint chains "
            "is taken with probability 1/N."
        ).format(chain=chain)
    if mode == "ipvs":
        return _(
            "The expected shares come from the scheduler of virtual server {chain}: each real server gets "
            "its weight's part of the new connections (rr: an equal part)."
        ).format(chain=chain)
    return _(
        "The expected shares come from the -m statistic probabilities in {chain}: rule i is taken "
        "with its probability times the chance that no earlier rule was."
    ).format(chain=chain)


def _sticky_note(mode: str, sticky: int) -> str:
    if mode == "nftables":
        return ngettext(
            "{n} connection was sent to its endpoint by session affinity (the client's address in an "
            "@affinity set): the same client stays on the same Pod until the timeout.",
            "{n} connections were sent to their endpoint by session affinity (the client's address in an "
            "@affinity set): the same client stays on the same Pod until the timeout.",
            sticky,
        )
    if mode == "ipvs":
        return ngettext(
            "{n} connection was sent to its real server by IPVS persistence (session affinity): the same "
            "client stays on the same Pod until the timeout.",
            "{n} connections were sent to their real server by IPVS persistence (session affinity): the "
            "same client stays on the same Pod until the timeout.",
            sticky,
        )
    return ngettext(
        "{n} connection was sent to its endpoint by a session-affinity rule (-m recent --rcheck): the same client "
        "stays on the same Pod until the timeout.",
        "{n} connections were sent to their endpoint by a session-affinity rule (-m recent --rcheck): the same "
        "client stays on the same Pod until the timeout.",
        sticky,
    )
