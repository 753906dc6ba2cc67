"""``lab.json`` in the learner's state directory: which lab is up, so later commands and a cleanup after a crash find it.

The prefix and the exact namespace names are recorded *before* the first namespace is created,
so even a run killed halfway leaves enough behind for ``lab down``. A name prefix alone never
decides what is removed: only namespaces listed in the record, or carrying this lab's mark (the
alias of their loopback link, set when they are built), are ever deleted. The mark names the
state directory that owns the lab, so when ``lab.json`` is damaged the lab is found again in
the kernel, and a namespace someone else made with a similar name is left alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from kproxy_tutor.store import JsonStore, state_dir

STATE_VERSION = 1
STATE_FILE = "lab.json"
#: Every lab namespace starts with this, then the creating process's PID and a random tag.
PREFIX_ROOT = "kptlab-"


#: The whole shape of a prefix :func:`new_prefix` makes; a record with anything else is damaged.
PREFIX_PATTERN = re.compile(r"kptlab-[0-9]{1,10}-[0-9a-f]{6}-\Z")
#: Start of the loopback alias that marks a namespace as built by a kproxy-tutor lab.
MARK_ROOT = "kproxy-tutor-lab:"


def new_prefix() -> str:
    return f"{PREFIX_ROOT}{os.getpid()}-{secrets.token_hex(3)}-"


def valid_prefix(prefix: object) -> bool:
    return isinstance(prefix, str) and PREFIX_PATTERN.match(prefix) is not None


def owner_mark() -> str:
    """The mark of labs owned by this state directory (another user's or home's labs have another)."""
    digest = hashlib.sha256(str(state_dir().resolve()).encode()).hexdigest()[:12]
    return f"{MARK_ROOT}{digest}:"


def namespace_mark(prefix: str) -> str:
    """The loopback alias of every namespace of the lab with ``prefix``."""
    return f"{owner_mark()}{prefix}"


def lab_store() -> JsonStore:
    return JsonStore(state_dir() / STATE_FILE, STATE_VERSION, lambda: {"lab": None})


@dataclass(slots=True)
class ServerEntry:
    pid: int
    namespace: str
    name: str


@dataclass(slots=True)
class LabRecord:
    """What ``lab up`` set up, and every change ``lab sync`` applied since (to replay kube-proxy's view)."""

    prefix: str
    mode: str
    node: str
    #: (text, source name) of the manifests the lab started from.
    sources: list[tuple[str, str]]
    label: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    servers: list[ServerEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: False until ``lab up`` finished; a record left at False comes from a run that failed or was killed.
    complete: bool = False
    #: Every namespace the lab created or is about to create (written before each ``netns add``).
    namespaces: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = [list(s) for s in self.sources]
        return data

    @staticmethod
    def from_json(data: dict[str, Any]) -> LabRecord:
        return LabRecord(
            prefix=str(data["prefix"]),
            mode=str(data.get("mode", "iptables")),
            node=str(data.get("node", "")),
            sources=[(str(t), str(n)) for t, n in data.get("sources", [])],
            label=str(data.get("label", "")),
            changes=list(data.get("changes", [])),
            servers=[
                ServerEntry(int(s["pid"]), str(s["namespace"]), str(s["name"]))
                for s in data.get("servers", [])
            ],
            notes=[str(n) for n in data.get("notes", [])],
            complete=bool(data.get("complete", False)),
            namespaces=_names(data.get("namespaces", []), str(data["prefix"])),
        )


def _names(value: Any, prefix: str) -> list[str]:
    if not isinstance(value, list):
        raise ValueError("namespaces")
    return [str(n) for n in value if isinstance(n, str) and n.startswith(prefix)]


def read_record(store: JsonStore) -> LabRecord | None:
    """The recorded lab; None when there is none or the record is too damaged to trust (see ``recover``)."""
    data = store.read().get("lab")
    if not isinstance(data, dict) or not valid_prefix(data.get("prefix")):
        return None
    try:
        return LabRecord.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        # A damaged record still names its prefix; the namespaces are found by their mark.
        return LabRecord(prefix=str(data["prefix"]), mode="iptables", node="", sources=[], label="")


def write_record(store: JsonStore, record: LabRecord | None) -> None:
    store.update(lambda data: data.__setitem__("lab", record.to_json() if record is not None else None))
