"""kube-proxy's IPVS mode (deprecated in v1.35): virtual/real servers, the kube-ipvs0 dummy interface, schedulers."""

from kproxy_tutor.sandbox.ipvs.proxier import IpvsProxier, IpvsState, RealServer, VirtualServer
from kproxy_tutor.sandbox.ipvs.render import render_ip_addr, render_ipvsadm

#: IPVS mode was deprecated in Kubernetes v1.35; nftables mode is the recommended replacement.
DEPRECATED_IN = "v1.35"
REPLACEMENT = "nftables"

__all__ = [
    "DEPRECATED_IN",
    "REPLACEMENT",
    "IpvsProxier",
    "IpvsState",
    "RealServer",
    "VirtualServer",
    "render_ip_addr",
    "render_ipvsadm",
]
