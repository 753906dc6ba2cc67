"""kube-proxy's nftables object names: ``service-HASH-ns/name/proto/port``, ``endpoint-HASH-…__IP/port`` and friends."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from kproxy_tutor.sandbox.serviceport import ServicePortName

TABLE = "kube-proxy"
#: knftables.NameLengthMax minus the longest prefix ("endpoint-" and friends, 16 with the hyphen).
_BASE_MAX = 256 - 16

SERVICE_PREFIX = "service-"
LOCAL_PREFIX = "local-"
EXTERNAL_PREFIX = "external-"
FIREWALL_PREFIX = "firewall-"
ENDPOINT_PREFIX = "endpoint-"
AFFINITY_PREFIX = "affinity-"


_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#: Every pair of base32 digits, indexed by ten bits: eight digits are four look-ups.
_BASE32_PAIRS = tuple(a + b for a in _BASE32 for b in _BASE32)


def _digest8(name: str) -> str:
    """``base32(sha256(name))[:8]``: the first 5 bytes, without encoding all 32 (one per endpoint)."""
    v = int.from_bytes(hashlib.sha256(name.encode()).digest()[:5], "big")
    t = _BASE32_PAIRS
    return t[v >> 30] + t[(v >> 20) & 1023] + t[(v >> 10) & 1023] + t[v & 1023]


def reference_digest8(name: str) -> str:
    """The straightforward recipe, kept for tests that compare it with the fast one."""
    return base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()[:8]


@lru_cache(maxsize=65536)
def hash_and_truncate(name: str) -> str:
    """``base32(sha256(name))[:8] + "-" + name``, cut to 240 characters with ``...`` (upstream ``hashAndTruncate``)."""
    out = f"{_digest8(name)}-{name}"
    if len(out) > _BASE_MAX:
        out = out[: _BASE_MAX - 3] + "..."
    return out


def service_chain_base(name: ServicePortName) -> str:
    """The part shared by a port's ``service-``, ``local-``, ``external-`` and ``firewall-`` chains."""
    return hash_and_truncate(f"{name.namespace}/{name.name}/{name.protocol.lower()}/{name.port}")


def endpoint_chain_base(name: ServicePortName, ip: str, port: int) -> str:
    """The part shared by an endpoint's ``endpoint-`` chain and ``affinity-`` set (IPv6 ``:`` become ``.``)."""
    base = f"{name.namespace}/{name.name}/{name.protocol.lower()}/{name.port}"
    return hash_and_truncate(f"{base}__{ip.replace(':', '.')}/{port}")


def is_service_chain(name: str) -> bool:
    """Per-service chains always contain a ``/``; kube-proxy's fixed chains never do."""
    return "/" in name


def is_affinity_set(name: str) -> bool:
    return name.startswith(AFFINITY_PREFIX)
