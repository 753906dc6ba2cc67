"""``lab.json`` in the learner's state directory: which lab is up, so later commands and a cleanup after a crash find it.

The prefix is recorded *before* the first namespace is created, so even a run killed halfway
leaves enough behind for ``lab down`` to remove every namespace with that prefix and every
server process it started.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from kproxy_tutor.store import JsonStore, state_dir

STATE_VERSION = 1
STATE_FILE = "lab.json"
#: Every lab namespace starts with this, then the creating process's PID and a random tag.
PREFIX_ROOT = "kptlab-"


def new_prefix() -> str:
    return f"{PREFIX_ROOT}{os.getpid()}-{secrets.token_hex(3)}-"


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
        )


def read_record(store: JsonStore) -> LabRecord | None:
    data = store.read().get("lab")
    if not isinstance(data, dict) or not str(data.get("prefix", "")).startswith(PREFIX_ROOT):
        return None
    try:
        return LabRecord.from_json(data)
    except (KeyError, TypeError, ValueError):
        # A damaged record still names its prefix, which is all a cleanup needs.
        return LabRecord(prefix=str(data["prefix"]), mode="iptables", node="", sources=[], label="")


def write_record(store: JsonStore, record: LabRecord | None) -> None:
    store.update(lambda data: data.__setitem__("lab", record.to_json() if record is not None else None))
