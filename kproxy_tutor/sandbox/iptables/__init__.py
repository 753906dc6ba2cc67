"""kube-proxy's iptables mode: compile the cluster to rules, render them as real tools print them, parse them back.

The names below are imported on first use: ``rules --format restore`` needs the compiler and
the renderer, not the parser.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

_HOMES = {
    "KernelState": "kernel",
    "RestoreError": "kernel",
    "sort_iptables_rules": "normalize",
    "parse_payload": "parse",
    "Proxier": "proxier",
    "SyncResult": "proxier",
    "render_restore": "render",
    "render_save": "render",
    "parse_ruleset": "ruleset",
}

if TYPE_CHECKING:
    from kproxy_tutor.sandbox.iptables.kernel import KernelState, RestoreError
    from kproxy_tutor.sandbox.iptables.normalize import sort_iptables_rules
    from kproxy_tutor.sandbox.iptables.parse import parse_payload
    from kproxy_tutor.sandbox.iptables.proxier import Proxier, SyncResult
    from kproxy_tutor.sandbox.iptables.render import render_restore, render_save
    from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "KernelState",
    "Proxier",
    "RestoreError",
    "SyncResult",
    "parse_payload",
    "parse_ruleset",
    "render_restore",
    "render_save",
    "sort_iptables_rules",
]
