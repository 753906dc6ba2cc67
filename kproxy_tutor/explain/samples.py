"""Node dumps that ship with the tutor (``dumps/NAME.txt``), for exercises that read a node's rules."""

from __future__ import annotations

from pathlib import Path

from kproxy_tutor.errors import N_, SandboxInputError

_DIR = Path(__file__).resolve().parent / "dumps"


def sample_names() -> list[str]:
    return sorted(p.stem for p in _DIR.glob("*.txt"))


def sample_text(name: str) -> str:
    """The dump ``name``; a SandboxInputError naming the shipped ones when there is no such dump."""
    if name not in sample_names():
        raise SandboxInputError(
            N_("There is no shipped dump {name}; there are: {known}."),
            name=name,
            known=", ".join(sample_names()),
        )
    return (_DIR / f"{name}.txt").read_text(encoding="utf-8")


def stale_services(name: str) -> list[str]:
    """``NS/NAME`` of every Service whose chains in dump ``name`` nothing leads to, as explain finds them."""
    from kproxy_tutor.explain import explain_text

    explanation = explain_text(sample_text(name), name)
    return sorted(
        {f.service.split(":", 1)[0] for f in explanation.findings if f.code == "stale-chains" and f.service}
    )
