"""Small regex highlighters for the code languages of the lessons (no Pygments: it is slow to import)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# Styles by meaning. Colours vanish under NO_COLOR and --plain; what remains still reads.
COMMENT = "dim italic"
COMMAND = "bold"
FLAG = "cyan"
STRING = "green"
CHAIN = "bold magenta"
TARGET = "bold yellow"
ADDRESS = "bright_blue"
KEY = "bold blue"
NUMBER = "yellow"
KEYWORD = "bold cyan"

_IP = r"\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?::\d+)?\b"
_CHAIN = r"\b(?:KUBE-[A-Z0-9-]+|PREROUTING|POSTROUTING|OUTPUT|INPUT|FORWARD)\b"

#: Per language: (pattern, style, group). Later rules win where they overlap, so comments come last.
Rule = tuple[str, str, int]
RULES: dict[str, list[Rule]] = {
    "bash": [
        (r"^\s*(?:sudo\s+)?([A-Za-z0-9_./-]+)", COMMAND, 1),
        (r"(?:^|(?<=[\s|]))(--?[A-Za-z][\w-]*)", FLAG, 1),
        (r"(\$\{?\w+\}?)", KEY, 1),
        (_IP, ADDRESS, 0),
        (r"(\"(?:[^\"\\]|\\.)*\"|'[^']*')", STRING, 1),
        (r"(?:^|(?<=\s))(#.*)$", COMMENT, 1),
    ],
    "yaml": [
        (r"^\s*(?:-\s+)?([\w./-]+)\s*:(?=\s|$)", KEY, 1),
        (r":\s+(-?\d+(?:\.\d+)?|true|false|null)\s*$", NUMBER, 1),
        (_IP, ADDRESS, 0),
        (r"(\"(?:[^\"\\]|\\.)*\"|'[^']*')", STRING, 1),
        (r"^(---)$", COMMENT, 1),
        (r"(?:^|(?<=\s))(#.*)$", COMMENT, 1),
    ],
    "json": [
        (r"(\"(?:[^\"\\]|\\.)*\")", STRING, 1),
        (r"(\"(?:[^\"\\]|\\.)*\")\s*:", KEY, 1),
        (r"(?<![\w\"])(-?\d+(?:\.\d+)?|true|false|null)\b", NUMBER, 1),
    ],
    "ini": [
        (r"^\s*(\[[^\]]+\])", KEYWORD, 1),
        (r"^\s*([\w.-]+)\s*=", KEY, 1),
        (_IP, ADDRESS, 0),
        (r"^\s*([#;].*)$", COMMENT, 1),
    ],
    "iptables": [
        (r"^(\*\w+|COMMIT)\b", KEYWORD, 1),
        (r"(?:^|(?<=\s))(!|-[A-Za-z]|--[a-z][\w-]*)(?=\s|$)", FLAG, 1),
        (_CHAIN, CHAIN, 0),
        (r"^:(\S+)", CHAIN, 1),
        (r"(?:^|\s)-[ANIDXPFZ]\s+(\S+)", CHAIN, 1),
        (r"(?:-j|--jump|-g|--goto)\s+([A-Za-z][\w-]*)", TARGET, 1),
        (_IP, ADDRESS, 0),
        (r"(?:--probability)\s+([\d.]+)", NUMBER, 1),
        (r"(\[\d+:\d+\])", COMMENT, 1),
        (r"(\"(?:[^\"\\]|\\.)*\")", STRING, 1),
        (r"^(#.*)$", COMMENT, 1),
    ],
    "nft": [
        (
            r"\b(table|chain|map|set|type|hook|priority|policy|elements|jump|goto|return|accept|drop|"
            r"reject|dnat|snat|masquerade|meta|counter|comment|vmap|numgen|mark|ct|state|fib|flags)\b",
            KEYWORD,
            1,
        ),
        (r"\b(?:chain|jump|goto|map|set)\s+([\w-]+)", CHAIN, 1),
        (r"\b(?:table\s+\w+)\s+([\w-]+)", CHAIN, 1),
        (_IP, ADDRESS, 0),
        (r"(\"(?:[^\"\\]|\\.)*\")", STRING, 1),
        (r"(?:^|(?<=\s))(#.*)$", COMMENT, 1),
    ],
    "ipvsadm": [
        (r"^\s*(TCP|UDP|SCTP|FWM)\b", KEYWORD, 1),
        (r"(->)", CHAIN, 1),
        (r"\b(Masq|Route|Tunnel|Local)\b", TARGET, 1),
        (r"\b(rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|mh)\s*$", TARGET, 1),
        (_IP, ADDRESS, 0),
        (r"^(IP Virtual Server.*|Prot LocalAddress.*|\s+-> RemoteAddress.*)$", COMMENT, 1),
    ],
    "text": [],
}

_COMPILED: dict[str, list[tuple[re.Pattern[str], str, int]]] = {}


def highlight(code: str, lang: str) -> Text:
    """``code`` as a rich Text styled for ``lang`` (unknown languages stay unstyled)."""
    from rich.text import Text

    text = Text(code, overflow="fold", no_wrap=False)
    if lang not in _COMPILED:
        _COMPILED[lang] = [(re.compile(p, re.MULTILINE), s, g) for p, s, g in RULES.get(lang, [])]
    for pattern, style, group in _COMPILED[lang]:
        for match in pattern.finditer(code):
            start, end = match.span(group)
            if start < end:
                text.stylize(style, start, end)
    return text
