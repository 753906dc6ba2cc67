"""What a shell command returns: plain values the UI turns into words and colours.

Tool output (kubectl tables, iptables listings) is :class:`Verbatim`: it stays English, as the
real tools print it. Everything meant for the learner is a :class:`Note` holding a msgid and its
parameters, translated by the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kproxy_tutor.sandbox.iptables.diff import RuleDiff
from kproxy_tutor.shell.events import WatchEvent


@dataclass(frozen=True)
class Verbatim:
    """Text exactly as the real tool prints it (no translation; wrapped only to fit a terminal).

    ``stderr`` marks what the tool prints on standard error (kubectl's warnings), so a script's
    standard output stays valid YAML or JSON.
    """

    text: str
    stderr: bool = False


@dataclass(frozen=True)
class Note:
    """A message for the learner: ``message`` is a msgid, formatted with ``params`` after translation.

    With ``plural`` set, ``ngettext(message, plural, params["count"])`` picks the form.
    """

    message: str
    params: dict[str, Any] = field(default_factory=dict)
    plural: str | None = None
    #: "info", "success" or "warning": only the colour depends on it.
    tone: str = "info"


@dataclass(frozen=True)
class ModeChange:
    """One object kube-proxy in nftables or IPVS mode created, deleted or changed (iptables uses RuleDiff).

    ``what`` names the object type (chain, set, map, table, virtual server, address); ``added`` and
    ``removed`` are its rules, elements or real servers, as the tool prints them.
    """

    kind: str  # "added", "removed", "rewritten" or "kept" (left on the node, nobody maintains it)
    what: str
    name: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class WatchReport:
    """What kube-proxy on ``node`` received from the API server and what its sync changed."""

    node: str
    events: tuple[WatchEvent, ...]
    diff: RuleDiff
    synced: bool
    full: bool = False
    #: The proxy mode that synced; outside iptables mode the changes are in ``changes``, not ``diff``.
    mode: str = "iptables"
    changes: tuple[ModeChange, ...] = ()
    #: The IPv6 proxier's sync on a dual-stack node (no events of its own: it heard the same ones).
    ipv6: WatchReport | None = None


@dataclass(frozen=True)
class SwitchReport:
    """kube-proxy on ``node`` restarted in mode ``new``: what it removed, what it wrote, and what stayed."""

    node: str
    old: str
    new: str
    cleaned: tuple[ModeChange, ...]
    cleaned_summary: Note
    written: tuple[ModeChange, ...]
    written_summary: Note
    #: What stays on the node although the new mode does not use it (kind "kept"), and why.
    kept: tuple[ModeChange, ...] = ()
    kept_notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class TraceReport:
    """The traces of the requests ``curl`` sent (values from the sandbox's tracer)."""

    target: str
    traces: tuple[Any, ...]
    brief: bool = False


@dataclass(frozen=True)
class HelpReport:
    """``help`` (command None, no commands: the overview), ``help COMMAND``, or the commands that
    begin with the words given (``help kubectl``: their usage and summary)."""

    command: str | None = None
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScenarioList:
    #: (name, title {ru, en}, description {ru, en}) of every scenario.
    scenarios: tuple[tuple[str, dict[str, str], dict[str, str]], ...]


@dataclass(frozen=True)
class ScenarioIntro:
    """What a scenario sets up ({ru, en} title and description) and the commands to try first."""

    title: dict[str, str]
    description: dict[str, str]
    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModeList:
    """``mode`` without an argument: the current mode and one line about each."""

    current: str


@dataclass(frozen=True)
class ExitRequest:
    pass


@dataclass(frozen=True)
class ClearScreen:
    """``clear``: a terminal clears its screen; anywhere else nothing happens."""


@dataclass(frozen=True)
class ExplainReport:
    """``explain``: the node's rules explained (a ``kproxy_tutor.explain.Explanation``), put in words by the UI."""

    explanation: Any


Output = (
    Verbatim
    | Note
    | WatchReport
    | SwitchReport
    | TraceReport
    | HelpReport
    | ScenarioList
    | ScenarioIntro
    | ModeList
    | ExitRequest
    | ClearScreen
    | ExplainReport
)
