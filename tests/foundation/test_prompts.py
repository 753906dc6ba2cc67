"""The prompter: menus in a terminal, numbered prompts otherwise, cancel on Ctrl-C and end of input."""

from __future__ import annotations

import io

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from kproxy_tutor.errors import Interrupted, UsageError
from kproxy_tutor.ui.prompts import (
    Choice,
    PlainPrompter,
    QuestionaryPrompter,
    ScriptedPrompter,
    confirm_destructive,
)

CHOICES = [Choice("iptables", "iptables"), Choice("nftables", "nftables"), Choice("ipvs", "IPVS")]


def test_questionary_select_with_arrow_keys() -> None:
    with create_pipe_input() as pipe:
        pipe.send_text("\x1b[B\r")
        assert QuestionaryPrompter(input=pipe, output=DummyOutput()).select("Mode?", CHOICES) == "nftables"


def test_questionary_ctrl_c_is_interrupted() -> None:
    with create_pipe_input() as pipe:
        pipe.send_text("\x03")
        with pytest.raises(Interrupted):
            QuestionaryPrompter(input=pipe, output=DummyOutput()).select("Mode?", CHOICES)


def test_plain_select_by_number_and_reprompt() -> None:
    out = io.StringIO()
    prompter = PlainPrompter(stdin=io.StringIO("9\nabc\n3\n"), stdout=out)
    assert prompter.select("Mode?", CHOICES) == "ipvs"
    text = out.getvalue()
    assert "1. iptables" in text and "3. IPVS" in text
    assert text.count("1 to 3") == 2 or text.count("1 до 3") == 2


def test_plain_checkbox_and_text() -> None:
    prompter = PlainPrompter(stdin=io.StringIO("3, 1\n  kube-proxy  \n"), stdout=io.StringIO())
    assert prompter.checkbox("Which?", CHOICES) == ["iptables", "ipvs"]
    assert prompter.text("Name?") == "  kube-proxy  "


@pytest.mark.parametrize("answer", ["", "n\n", "нет\n"])
def test_plain_confirm_defaults_to_no(answer: str) -> None:
    assert PlainPrompter(stdin=io.StringIO(answer or "\n"), stdout=io.StringIO()).confirm("Delete?") is False


def test_plain_end_of_input_is_interrupted() -> None:
    with pytest.raises(Interrupted):
        PlainPrompter(stdin=io.StringIO(""), stdout=io.StringIO()).select("Mode?", CHOICES)


def test_scripted_runs_out_as_end_of_input() -> None:
    prompter = ScriptedPrompter(["ipvs"])
    assert prompter.select("Mode?", CHOICES) == "ipvs"
    with pytest.raises(Interrupted):
        prompter.select("Again?", CHOICES)


def test_destructive_confirmation_needs_yes_without_terminal() -> None:
    not_a_terminal = PlainPrompter(stdin=io.StringIO("y\n"), stdout=io.StringIO())
    assert not not_a_terminal.interactive
    with pytest.raises(UsageError):
        confirm_destructive(not_a_terminal, "Delete?", yes=False)
    assert confirm_destructive(not_a_terminal, "Delete?", yes=True) is True
