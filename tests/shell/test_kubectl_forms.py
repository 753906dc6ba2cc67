"""Golden transcripts of the kubectl forms people type, in both languages (regenerate with --update-goldens)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

#: name → (scenario, script). Each runs in English and in Russian: tool output stays English,
#: the messages around it (and every error) follow the language.
FORMS: dict[str, tuple[str | None, str]] = {
    "watch": (
        None,
        """
watch on
kubectl create deployment web --image nginx --replicas 3 --port 80
kubectl expose deployment web --port 80
kubectl scale deployment web --replicas 1
""",
    ),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("name", sorted(FORMS))
def test_kubectl_form(name: str, lang: str, run_shell: Callable, golden: Callable[[str, str], None]) -> None:
    scenario, script = FORMS[name]
    _code, text, _session = run_shell(script, scenario, lang, keep_going=True)
    golden(f"kubectl-{name}" + ("" if lang == "en" else ".ru"), text)
