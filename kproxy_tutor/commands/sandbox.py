"""`kproxy-tutor sandbox`: the embedded mini-cluster shell (interactive, or a script of commands)."""

from __future__ import annotations

from typing import Annotated

import typer

from kproxy_tutor import completion_values as values
from kproxy_tutor.i18n import _


def register(app: typer.Typer) -> None:
    @app.command(
        "sandbox",
        help=_(
            "Open the sandbox shell: create Deployments and Services with kubectl-like commands, watch "
            "kube-proxy receive the API events and rewrite its rules (iptables, nftables or IPVS mode), and "
            "send requests through them with curl. Type help inside for the commands. Without a terminal (or "
            "with --script) the commands are read from stdin (or FILE) and each is echoed before its output."
        ),
    )
    def sandbox_command(
        scenario: Annotated[
            str | None,
            typer.Option(
                "--scenario",
                metavar="NAME",
                help=_("Start from a scenario (see --list-scenarios)."),
                autocompletion=values.scenarios,
            ),
        ] = None,
        node: Annotated[
            str | None,
            typer.Option(
                "--node",
                metavar="NAME",
                help=_("The node whose rules you look at first."),
                autocompletion=values.nodes,
            ),
        ] = None,
        list_scenarios: Annotated[
            bool, typer.Option("--list-scenarios", help=_("List the scenarios and exit."))
        ] = False,
        script: Annotated[
            str | None,
            typer.Option(
                "--script", metavar="FILE", help=_("Run the commands in FILE (- for stdin) and exit.")
            ),
        ] = None,
        mode: Annotated[
            str,
            typer.Option(
                "--mode",
                metavar="iptables|nftables|ipvs",
                autocompletion=values.modes,
                help=_("kube-proxy's proxy mode on every node (change it inside with the mode command)."),
            ),
        ] = "iptables",
        keep_going: Annotated[
            bool,
            typer.Option(
                "--keep-going",
                help=_("In a script, go on after a failed command (the exit code is still 4)."),
            ),
        ] = False,
    ) -> int:
        return run_sandbox(scenario, node, list_scenarios, script, keep_going, mode)


def run_sandbox(
    scenario: str | None,
    node: str | None,
    list_scenarios: bool,
    script: str | None,
    keep_going: bool,
    mode: str = "iptables",
) -> int:
    import sys

    from kproxy_tutor.commands.rules import usage_checked
    from kproxy_tutor.errors import ExitCode
    from kproxy_tutor.sandbox.modes import check_mode
    from kproxy_tutor.shell.mode_commands import deprecation_note
    from kproxy_tutor.shell.output import ScenarioList
    from kproxy_tutor.shell.scenarios import all_scenarios, find_scenario, scenario_names
    from kproxy_tutor.shell.session import Session
    from kproxy_tutor.ui.console import make_console
    from kproxy_tutor.ui.shell_repl import run_interactive, run_script
    from kproxy_tutor.ui.shell_view import ShellView

    console = make_console()
    if list_scenarios:
        scenarios = all_scenarios()
        view = ShellView(console)
        view.scenarios(ScenarioList(tuple((s.name, s.title, s.description) for s in scenarios)))
        return int(ExitCode.OK)
    # Wrong option values are usage errors (exit 2), found before anything is built.
    usage_checked(lambda: check_mode(mode))
    if scenario and scenario not in scenario_names():
        usage_checked(lambda: find_scenario(scenario))
    chosen = find_scenario(scenario) if scenario else None
    session = Session(chosen, node, mode)
    # IPVS is deprecated: say so whenever it is chosen, on stderr so a script's output stays the session's.
    note = deprecation_note(mode)
    if note is not None:
        ShellView(make_console(stderr=True)).show([note])
    if script is not None or not (sys.stdin.isatty() and sys.stdout.isatty()):
        view = ShellView(console, make_console(stderr=True))
        if script is None or script == "-":
            from kproxy_tutor.shell.script import bounded_lines

            return run_script(session, bounded_lines(sys.stdin), view, keep_going)
        from kproxy_tutor.sandbox.manifests import read_source

        text, _source = read_source(script)
        return run_script(session, text.splitlines(), view, keep_going)
    view = ShellView(console)
    if chosen is not None:
        view.scenario_intro(chosen.title, chosen.description, chosen.try_commands)
    return run_interactive(session, view)
