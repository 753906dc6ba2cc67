"""The shell's ``help``: an overview that fits one screen, then the commands under a word, then one command."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from rich.cells import cell_len

from kproxy_tutor.shell import grammar
from kproxy_tutor.shell.session import Session
from kproxy_tutor.ui.shell_repl import run_script
from kproxy_tutor.ui.shell_view import ShellView
from tests.shell.test_width import terminal


def at_terminal(script: str, width: int) -> list[str]:
    buffer = io.StringIO()
    console = terminal(buffer, width)
    run_script(Session(None), script.splitlines(), ShellView(console, console), keep_going=True)
    return buffer.getvalue().splitlines()


def test_every_command_is_under_exactly_one_entry_of_the_overview() -> None:
    entries = [tuple(entry.split()) for _title, group in grammar.HELP_GROUPS for entry in group]
    for command in grammar.COMMANDS:
        under = [entry for entry in entries if command.words[: len(entry)] == entry]
        assert len(under) == 1, (command.name, under)


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(("width", "rows"), [(80, 24), (40, 24)])
def test_the_overview_fits_one_screen_with_the_prompt(
    lang: str, width: int, rows: int, language: Callable[[str], None]
) -> None:
    language(lang)
    lines = at_terminal("help", width)
    assert all(cell_len(line) <= width for line in lines)
    # The echoed command and the next prompt take two more rows.
    assert len(lines) + 1 <= rows, "\n".join(lines)
    text = "\n".join(lines)
    for entry in ("kubectl", "ip6tables-save", "curl", "scenario"):
        assert entry in text


def test_help_with_a_first_word_lists_the_commands_under_it(
    run_shell: Callable[..., tuple[int, str, Session]],
) -> None:
    code, out, _session = run_shell("help k delete\nhelp nft\nhelp kubectl")
    assert code == 0
    deletes = out.split("$ help nft")[0]
    for kind in ("pod", "service", "deployment"):
        assert f"kubectl delete {kind} NAME" in deletes
    assert deletes.count("Delete a Pod, Service or Deployment.") == 1  # said once for the three
    nft = out.split("$ help nft")[1].split("$ help kubectl")[0]
    assert "nft list table ip|ip6 kube-proxy" in nft and "nft list ruleset" in nft
    kubectl = out.split("$ help kubectl")[1]
    assert "kubectl create deployment NAME" in kubectl and "kubectl edit TYPE NAME" in kubectl
    assert "iptables-save" not in kubectl


def test_help_with_one_command_or_a_typo(run_shell: Callable[..., tuple[int, str, Session]]) -> None:
    code, out, _session = run_shell("help kubectl get")
    assert code == 0 and "Usage: kubectl get TYPE" in out and "Examples:" in out
    code, out, _session = run_shell("help kubctl")
    assert code != 0 and "kubectl" in out
