"""The shell's scenarios: Kubernetes manifests with a small bilingual header, shipped in ``shell/scenarios/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.shell.documents import split_header

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    #: The node whose rules the shell shows first.
    node: str
    #: Shell commands to try first, in order (the intro lists them, a test runs them).
    try_commands: tuple[str, ...]
    #: The manifests with the header blanked out (line numbers kept for error messages).
    manifests: str
    source: str


def _bilingual(value: object, field: str, source: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(value.get(lang), str) and value[lang] for lang in ("ru", "en")
    ):
        raise SandboxInputError(N_("{path} needs non-empty ru and en texts."), location=source, path=field)
    return {"ru": value["ru"], "en": value["en"]}


def _commands(value: object, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise SandboxInputError(N_("{path} must be a list of shell commands."), location=source, path="try")
    return tuple(item.strip() for item in value)


def read_scenario(path: Path) -> Scenario:
    text = path.read_text(encoding="utf-8")
    source = f"scenarios/{path.name}"
    header, manifests = split_header(text, source)
    if header is None or header.get("kind") != "Scenario":
        raise SandboxInputError(N_("This scenario has no kproxy-tutor/v1 Scenario header."), location=source)
    meta = header.get("metadata") or {}
    node = header.get("node", "")
    return Scenario(
        name=str(meta.get("name") or path.stem),
        title=_bilingual(header.get("title"), "title", source),
        description=_bilingual(header.get("description"), "description", source),
        node=node if isinstance(node, str) else "",
        try_commands=_commands(header.get("try"), source),
        manifests=manifests,
        source=source,
    )


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def all_scenarios() -> list[Scenario]:
    return [read_scenario(SCENARIO_DIR / f"{name}.yaml") for name in scenario_names()]


def find_scenario(name: str) -> Scenario:
    from kproxy_tutor.suggest import close_match

    names = scenario_names()
    if name not in names:
        close = close_match(name, names)
        if close:
            raise SandboxInputError(
                N_("There is no scenario {name!r}. Did you mean {suggestion!r}?"),
                name=name,
                suggestion=close,
            )
        raise SandboxInputError(
            N_("There is no scenario {name!r}. Scenarios: {names}."), name=name, names=", ".join(names)
        )
    return read_scenario(SCENARIO_DIR / f"{name}.yaml")
