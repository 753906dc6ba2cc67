"""Open the learner's editor on a file, as ``kubectl edit`` does: KUBE_EDITOR, VISUAL, EDITOR, else vi."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from kproxy_tutor.errors import N_, SandboxInputError

EDITOR_VARIABLES = ("KUBE_EDITOR", "VISUAL", "EDITOR")


def editor_command() -> list[str]:
    for variable in EDITOR_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return shlex.split(value)
    return ["vi"]


def open_editor(path: Path) -> None:
    """Run the editor on ``path`` and wait for it; a failing editor is an error that changes nothing."""
    command = editor_command()
    try:
        result = subprocess.run([*command, str(path)], check=False)
    except OSError:
        raise SandboxInputError(
            N_("Cannot start the editor {editor!r}: set VISUAL or EDITOR to the editor you use."),
            editor=" ".join(command),
        ) from None
    if result.returncode != 0:
        raise SandboxInputError(
            N_("The editor {editor!r} exited with status {status}; nothing was changed."),
            editor=" ".join(command),
            status=result.returncode,
        )
