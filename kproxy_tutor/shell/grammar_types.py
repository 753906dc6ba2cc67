"""The building blocks of the shell's grammar: value kinds, arguments, flags and commands."""

from __future__ import annotations

from dataclasses import dataclass

#: What a value is, for validation and completion.
NAME = "name"  # a new object name (no completion)
DEPLOYMENT = "deployment"
POD = "pod"
SERVICE = "service"
NODE = "node"
CHAIN = "chain"
FILE = "file"
SCENARIO = "scenario"
COMMAND = "command"
TARGET = "target"  # curl's SERVICE[:PORT], an IP:PORT or a DNS name
COUNT = "count"  # a whole number >= 0
POSITIVE = "positive"  # a whole number >= 1
PORT = "port"
TEXT = "text"
LABEL = "label"  # k=v or k-
IPSET = "ipset"  # an ipset of IPVS mode
MODE = "mode"  # a proxy mode
RESOURCE = "resource"  # a kubectl resource type, or a comma list of them
CONTAINER = "container"  # a container of the Pod named before it
OBJECT = "object"  # the name of an object of the kind named before it
PROTOCOL_CHOICES = ("TCP", "UDP", "SCTP")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")


@dataclass(frozen=True)
class Arg:
    metavar: str
    kind: str = NAME
    choices: tuple[str, ...] = ()
    optional: bool = False
    #: Takes all remaining positional words (at least one unless optional).
    many: bool = False


@dataclass(frozen=True)
class Flag:
    names: tuple[str, ...]
    dest: str
    kind: str = TEXT
    choices: tuple[str, ...] = ()
    #: A switch takes no value.
    switch: bool = False
    required: bool = False
    metavar: str = ""

    @property
    def display(self) -> str:
        return self.names[-1] if self.names[-1].startswith("--") else self.names[0]


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    summary: str
    usage: str
    args: tuple[Arg, ...] = ()
    flags: tuple[Flag, ...] = ()
    #: Longer explanation (a msgid) shown by ``help COMMAND``.
    details: str = ""
    examples: tuple[str, ...] = ()

    #: The words as one string, the key of the handler table.
    @property
    def name(self) -> str:
        return " ".join(self.words)

    def flag(self, token: str) -> Flag | None:
        for flag in self.flags:
            if token in flag.names:
                return flag
        return None
