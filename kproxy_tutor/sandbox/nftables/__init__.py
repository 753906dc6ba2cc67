"""kube-proxy's nftables mode: compile the cluster to ``table ip kube-proxy``, render it two ways, parse it back, evaluate packets."""

from kproxy_tutor.sandbox.nftables.proxier import NftProxier, NftSyncResult
from kproxy_tutor.sandbox.nftables.render import render_listing, render_transaction
from kproxy_tutor.sandbox.nftables.ruleset import NftTable

__all__ = ["NftProxier", "NftSyncResult", "NftTable", "render_listing", "render_transaction"]
