"""kube-proxy's iptables mode: compile the cluster to rules, render them as real tools print them, parse them back."""

from kproxy_tutor.sandbox.iptables.kernel import KernelState, RestoreError
from kproxy_tutor.sandbox.iptables.normalize import sort_iptables_rules
from kproxy_tutor.sandbox.iptables.parse import parse_payload
from kproxy_tutor.sandbox.iptables.proxier import Proxier, SyncResult
from kproxy_tutor.sandbox.iptables.render import render_restore, render_save
from kproxy_tutor.sandbox.iptables.ruleset import parse_ruleset

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
