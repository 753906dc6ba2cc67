"""The sandbox shell's loops: an interactive prompt (history, Tab completion) and scripted runs.

The prompt uses prompt_toolkit directly (it is installed as questionary's dependency): a REPL
needs history, completion and multi-line input, which questionary's one-question prompts lack.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kproxy_tutor.errors import ExitCode, TutorError
from kproxy_tutor.i18n import _
from kproxy_tutor.shell.output import ExitRequest
from kproxy_tutor.shell.parser import ShellUsageError, parse_line
from kproxy_tutor.shell.script import Block, blocks, is_document_end, strip_heredoc, wants_document
from kproxy_tutor.shell.session import Session
from kproxy_tutor.ui.errors import message_of
from kproxy_tutor.ui.shell_view import ShellView

if TYPE_CHECKING:
    from prompt_toolkit.completion import CompleteEvent, Completion
    from prompt_toolkit.document import Document


def run_block(session: Session, view: ShellView, block: Block) -> tuple[bool, bool]:
    """Run one command; returns (it succeeded, the learner asked to leave)."""
    try:
        if block.unterminated:
            raise ShellUsageError(_unterminated())
        if block.line.strip() and not block.line.lstrip().startswith("#"):
            session.history.append(block.line)
        invocation = parse_line(block.line)
        if invocation is None:
            return True, False
        outputs = session.execute(invocation, block.document)
    except TutorError as error:
        text = message_of(error)
        if error.location:
            text = f"{error.location}: {text}"
        view.error(text, getattr(error, "usage", None))
        kept = getattr(error, "kept", None)
        if kept:
            view.prose(
                _("Nothing was changed; your edit is kept in {path}.").format(path=kept), "", view.errors
            )
        return False, False
    view.show(outputs)
    return True, any(isinstance(o, ExitRequest) for o in outputs)


def _unterminated() -> str:
    from kproxy_tutor.errors import N_

    return N_("The YAML after 'kubectl apply -f -' has no closing line EOF.")


def run_script(session: Session, lines: Iterable[str], view: ShellView, keep_going: bool = False) -> int:
    """Echo and run each command; stop at the first error (exit 4) unless ``keep_going``."""
    failed = False
    for block in blocks(lines):
        if not block.line.strip() or block.line.lstrip().startswith("#"):
            continue
        view.line(f"$ {block.line}", "bold")
        if block.document is not None:
            for text in block.document.rstrip("\n").split("\n"):
                view.tool(text, "dim")
            view.tool("EOF", "dim")
        ok, leave = run_block(session, view, block)
        if not ok:
            failed = True
            if not keep_going:
                return int(ExitCode.SANDBOX_INPUT)
        if leave:
            break
    return int(ExitCode.SANDBOX_INPUT) if failed else int(ExitCode.OK)


class _Completer:
    """prompt_toolkit's completer interface over the terminal-free ``shell.completion``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        from prompt_toolkit.completion import Completion

        from kproxy_tutor.shell.completion import complete, inserted

        word, candidates = complete(self.session, document.text_before_cursor)
        for candidate in candidates:
            yield Completion(inserted(candidate), start_position=-len(word), display=candidate)

    async def get_completions_async(self, document: Document, complete_event: CompleteEvent) -> Any:
        for completion in self.get_completions(document, complete_event):
            yield completion


def history_path() -> Any:
    from kproxy_tutor.store import state_dir

    path = state_dir() / "sandbox-history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path


def run_interactive(session: Session, view: ShellView) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    Completer.register(_Completer)
    path = history_path()
    history = FileHistory(str(path)) if path is not None else InMemoryHistory()
    prompt: PromptSession[str] = PromptSession(
        history=history,
        completer=_Completer(session),  # type: ignore[arg-type]
        complete_while_typing=False,
    )
    from kproxy_tutor.shell.editor import open_editor

    session.editor = open_editor  # a terminal: kubectl edit may open the learner's editor
    view.line(_("Sandbox shell: type help for the commands, exit or Ctrl-D to leave."), "dim")
    while True:
        try:
            line = prompt.prompt(f"({session.node}) $ ")
        except KeyboardInterrupt:
            continue  # Ctrl-C clears the line, as in a shell
        except EOFError:
            keep_unsaved(session, view)
            return int(ExitCode.OK)
        document = None
        if wants_document(line):
            document = _read_document(prompt)
            if document is None:
                continue
            line = strip_heredoc(line)
        _ok, leave = run_block(session, view, Block(line, document))
        if leave:
            keep_unsaved(session, view)
            return int(ExitCode.OK)


def autosave_path() -> Any:
    from kproxy_tutor.store import state_dir

    return state_dir() / "sandbox-autosave.yaml"


def keep_unsaved(session: Session, view: ShellView) -> None:
    """Leaving with changes not saved: save them where the learner can load them again, and say where."""
    if not session.unsaved:
        return
    from kproxy_tutor.shell.commands import write_state

    path = autosave_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_state(session, path)
    except (OSError, TutorError):
        view.line(
            _("Your changes to the sandbox were not saved (the state directory cannot be written)."), "yellow"
        )
        return
    view.line(
        _(
            "Your changes to the sandbox are saved in {path}. To go on with them: kproxy-tutor sandbox, "
            "then load {path}"
        ).format(path=path),
        "yellow",
    )


def _read_document(prompt: Any) -> str | None:
    """The YAML lines after ``kubectl apply -f -``, up to EOF; None when Ctrl-C cancels it."""
    lines: list[str] = []
    while True:
        try:
            text = prompt.prompt("> ")
        except KeyboardInterrupt:
            return None
        except EOFError:
            break
        if is_document_end(text):
            break
        lines.append(text)
    return "\n".join(lines) + "\n"
