"""Group input lines into commands: most are one line; ``kubectl apply -f -`` takes the YAML lines after it, up to ``EOF``.

Used by the REPL (which asks for more lines with a continuation prompt) and by scripts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.shell.parser import split_line

#: The longest input line read from a pipe or a script (a one-line JSON manifest fits easily);
#: past it the input is refused instead of read into memory without end (``< /dev/zero``).
MAX_LINE = 1 << 20

#: The line that ends pasted YAML.
END_OF_DOCUMENT = "EOF"
#: A shell heredoc marker learners copy from docs (``kubectl apply -f - <<EOF``); it means the same.
_HEREDOC = re.compile(r"\s*<<-?\s*(['\"]?)EOF\1\s*$")


@dataclass(frozen=True)
class Block:
    #: The command line as typed (for echoing), without a heredoc marker.
    line: str
    #: The YAML after ``kubectl apply -f -``, or None.
    document: str | None = None
    #: The input ended before the EOF line.
    unterminated: bool = False


def bounded_lines(stream: TextIO, source: str = "<stdin>", limit: int = MAX_LINE) -> Iterator[str]:
    """The lines of ``stream``, each read at most ``limit`` characters at a time; a longer one is refused."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith("\n"):
            raise SandboxInputError(
                N_(
                    "The line is longer than {limit} characters; the sandbox reads commands one line at a time."
                ),
                location=f"{source}:{number}",
                limit=limit,
            )
        yield line


def strip_heredoc(line: str) -> str:
    return _HEREDOC.sub("", line)


def wants_document(line: str) -> bool:
    """True when ``line`` is ``kubectl apply -f -`` (the YAML follows on the next lines)."""
    try:
        words = split_line(strip_heredoc(line))
    except Exception:
        return False
    if words[:2] != ["kubectl", "apply"]:
        return False
    for i, word in enumerate(words):
        if word in ("-f", "--filename") and i + 1 < len(words) and words[i + 1] == "-":
            return True
        if word in ("-f=-", "--filename=-"):
            return True
    return False


def is_document_end(line: str) -> bool:
    return line.strip() in (END_OF_DOCUMENT, f"---{END_OF_DOCUMENT}")


def blocks(lines: Iterable[str]) -> Iterator[Block]:
    source = iter(lines)
    for raw in source:
        line = raw.rstrip("\r\n")
        if not wants_document(line):
            yield Block(line)
            continue
        body: list[str] = []
        ended = False
        for more in source:
            text = more.rstrip("\r\n")
            if is_document_end(text):
                ended = True
                break
            body.append(text)
        yield Block(strip_heredoc(line), "\n".join(body) + "\n", unterminated=not ended)
