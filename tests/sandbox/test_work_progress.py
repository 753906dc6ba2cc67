"""Long sandbox work reports progress through a callback; the display shows only in a terminal."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from kproxy_tutor import i18n, runtime
from kproxy_tutor.sandbox.manifests import load_texts
from kproxy_tutor.sandbox.modes import compile_mode
from kproxy_tutor.ui import work_progress
from kproxy_tutor.ui.work_progress import WorkProgress, phase_label

DB = Path(__file__).resolve().parent.parent / "scenarios" / "db-service.yaml"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def many_services(count: int) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\n"
        f"spec: {{clusterIP: 10.96.{i // 250}.{1 + i % 250}, ports: [{{port: 80}}]}}\n"
        for i in range(count)
    )


def test_load_and_sync_report_progress_codes() -> None:
    calls: list[tuple[str, int, int]] = []
    loaded = load_texts([(many_services(1100), "many.yaml")], lambda *c: calls.append(c))
    assert {c[0] for c in calls} == {"parse", "load"}
    assert calls[-1][0] == "load" and calls[-1][1] == calls[-1][2] == 1100
    parse = [c for c in calls if c[0] == "parse"]
    assert parse == sorted(parse) and parse[-1][1] <= parse[-1][2]
    for mode in ("iptables", "nftables", "ipvs"):
        synced: list[tuple[str, int, int]] = []
        compile_mode(loaded.cluster, None, mode, progress=lambda *c, s=synced: s.append(c))
        assert synced[0] == ("sync", 0, 1100) and synced[-1] == ("sync", 1100, 1100), mode


@pytest.mark.parametrize(
    ("term", "plain", "tty", "wanted"),
    [
        ("xterm-256color", False, True, True),
        ("dumb", False, True, False),
        ("xterm-256color", True, True, False),
        ("xterm-256color", False, False, False),
    ],
)
def test_progress_only_in_a_terminal(
    monkeypatch: pytest.MonkeyPatch, term: str, plain: bool, tty: bool, wanted: bool
) -> None:
    monkeypatch.setenv("TERM", term)
    monkeypatch.delenv("KPROXY_TUTOR_PLAIN", raising=False)
    monkeypatch.setattr(sys, "stderr", _Terminal() if tty else io.StringIO())
    monkeypatch.setattr(runtime, "_run", runtime.Run(plain=plain))
    assert work_progress.progress_wanted() is wanted
    assert WorkProgress().enabled is wanted


def test_quick_work_shows_nothing_and_a_display_stops_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    quick = WorkProgress(delay=60, enabled=True)
    with quick:
        quick("load", 1, 10)
    assert quick._display is None  # under the delay: never started
    slow = WorkProgress(delay=0, enabled=True)
    with pytest.raises(KeyboardInterrupt), slow:
        slow("trace", 512, 10_000)
        assert slow._display is not None
        raise KeyboardInterrupt  # Ctrl-C: the display is stopped, the interruption goes on
    assert slow._display is None


def test_phase_labels_are_translated() -> None:
    before = i18n.current_language()
    i18n.set_language("ru")
    try:
        assert phase_label("trace") == "Трассировка соединений"
        assert phase_label("load") == "Загрузка объектов"
        i18n.set_language("en")
        assert phase_label("sync") == "Writing the rules"
    finally:
        i18n.set_language(before)
