"""`glossary` and `search` in a real pseudo-terminal, both languages, with did-you-mean."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")
pytestmark = [
    pytest.mark.pty,
    pytest.mark.skipif(os.name != "posix", reason="pexpect.spawn needs a POSIX pseudo-terminal"),
]


def run(home: Path, *args: str, columns: int = 80) -> tuple[str, int]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KPROXY_TUTOR", "LC_", "LANG", "COLUMNS"))
    }
    env.update({"KPROXY_TUTOR_HOME": str(home), "NO_COLOR": "1", "TERM": "xterm"})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kproxy_tutor", *args],
        env=env,
        dimensions=(40, columns),
        timeout=30,
        encoding="utf-8",
    )
    child.expect(pexpect.EOF)
    child.close()
    # Bold is allowed with NO_COLOR; the text is what is checked.
    text = re.sub(r"\x1b\[[0-9;]*m", "", child.before.replace("\r\n", "\n"))
    return text, int(child.exitstatus or 0)


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_glossary_term_in_russian_fits_the_terminal(learner_home: Path, columns: int) -> None:
    out, code = run(learner_home, "glossary", "masquerade", columns=columns)
    assert code == 0
    assert out.startswith("masquerade (en: masquerading)")
    assert "Объясняется: урок 3" in out and "Открыть: kproxy-tutor learn 3" in out
    assert all(len(line) <= columns and line == line.rstrip() for line in out.splitlines())
    # Identifiers are never split across lines.
    assert "kproxy-tutor learn 3" in out and "0x4000" in out


def test_glossary_in_english_and_did_you_mean(learner_home: Path) -> None:
    out, code = run(learner_home, "--lang", "en", "glossary", "EndpointSlise")
    assert code == 1
    assert "The glossary has no term 'EndpointSlise'. Did you mean: EndpointSlice" in " ".join(out.split())
    assert "Try: kproxy-tutor glossary EndpointSlice" in out
    out, code = run(learner_home, "--lang", "en", "glossary", "endpointslice")
    assert code == 0 and "Taught in: lesson 2" in out


def test_a_rejected_variant_points_at_the_term(learner_home: Path) -> None:
    out, code = run(learner_home, "glossary", "маскарадинг")
    assert code == 1 and "Может быть, вы имели в виду: masquerade?" in " ".join(out.split())


def test_search_in_both_languages(learner_home: Path) -> None:
    out, code = run(learner_home, "search", "канареечн")
    assert code == 0 and "kproxy-tutor learn 3 --step 1: Мониторинг" in out
    out, code = run(learner_home, "--lang", "en", "search", "canary", "chain")
    assert code == 0 and "kproxy-tutor learn 3 --step 1: Watching" in out and "canary" in out
    out, code = run(learner_home, "--lang", "en", "search", "zzzqqq")
    assert code == 1 and "No step of the lessons contains: zzzqqq" in out
