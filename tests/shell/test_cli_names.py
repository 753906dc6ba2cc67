"""Names on the command line: did-you-mean for exercises, lessons, scenarios, nodes, --from and --to; shell completion of values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kproxy_tutor.entry import main

SCENARIOS = Path(__file__).resolve().parents[2] / "kproxy_tutor" / "shell" / "scenarios"


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["exercise", "how-scale"], "'how-scale-probability'"),
        (["learn", "modez"], "'modes'"),
        (["sandbox", "--scenario", "db-servce"], "'db-service'"),
        (["sandbox", "--node", "worker-3"], "'worker-2'"),
        (["trace", "-f", str(SCENARIOS / "db-service.yaml"), "--from", "wbe", "--to", "db-service"], "'web'"),
        (
            ["trace", "-f", str(SCENARIOS / "db-service.yaml"), "--from", "web", "--to", "db-servce:5432"],
            "'db-service:5432'",
        ),
        (["help", "sandbx"], "'sandbox'"),
    ],
)
def test_did_you_mean_in_both_languages(
    args: list[str], suggestion: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115
    assert main(["--lang", "en", *args]) != 0
    err = capsys.readouterr().err
    assert f"Did you mean {suggestion}?" in err
    assert main(["--lang", "ru", *args]) != 0
    err = capsys.readouterr().err
    assert f"Может быть, вы имели в виду {suggestion}?" in err


def complete(words: str) -> list[str]:
    env = {**os.environ, "_KPROXY_TUTOR_COMPLETE": "complete_bash", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    result = subprocess.run(
        [sys.executable, "-m", "kproxy_tutor"], env=env, capture_output=True, text=True, timeout=60
    )
    return result.stdout.split()


def test_installed_completion_offers_values() -> None:
    assert "how-scale-probability" in complete("kproxy-tutor exercise how")
    assert complete("kproxy-tutor sandbox --scenario db") == ["db-service"]
    assert complete("kproxy-tutor rules --mode nf") == ["nftables"]
    assert "quiz-answers" in complete("kproxy-tutor help qu")


def test_help_shows_a_command_or_a_shipped_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "help", "quiz-answers"]) == 0
    assert "--answers FILE" in capsys.readouterr().out
    assert main(["--lang", "en", "help", "rules"]) == 0
    assert "--service" in capsys.readouterr().out


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_help_texts_point_to_documents_that_ship(lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    """No --help names a docs/ path (an installed tutor has none); the documents ship inside the wheel."""
    import tomllib

    from kproxy_tutor.cli import build_app, doc_topics

    assert main(["--lang", lang, "--help"]) == 0
    import typer.main

    command = typer.main.get_command(build_app(rich_help=False))
    texts = [command.help or ""]
    for sub in command.commands.values():  # type: ignore[attr-defined]
        texts.append(sub.help or "")
        texts += [getattr(p, "help", "") or "" for p in sub.params]
    assert not [t for t in texts if "docs/" in t]
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    included = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert included.get("docs") == "kproxy_tutor/_data/docs"
    assert "quiz-answers" in doc_topics() and "sandbox-shell" in doc_topics()
    capsys.readouterr()
