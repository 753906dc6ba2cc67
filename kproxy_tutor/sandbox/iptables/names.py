"""kube-proxy's iptables chain names (KUBE-SVC/SVL/EXT/FW/SEP + 16 base32 characters of a sha256) and probabilities."""

from __future__ import annotations

import base64
import hashlib
import math
from functools import lru_cache

from kproxy_tutor.sandbox.iptables.rules import PROBABILITY_SCALE

SERVICE_CHAIN_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-")


_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#: Every pair of base32 digits, indexed by ten bits: a token is then eight look-ups.
_BASE32_PAIRS = tuple(a + b for a in _BASE32 for b in _BASE32)
_sha256 = hashlib.sha256


def _token(text: str) -> str:
    """The first 16 characters of ``base32(sha256(text))`` (16 characters = the first 10 bytes).

    Same result as ``base64.b32encode(digest)[:16]``, without encoding all 32 bytes in Python;
    a full sync computes one token per service port and per endpoint.
    """
    v = int.from_bytes(_sha256(text.encode()).digest()[:10], "big")
    t = _BASE32_PAIRS
    # One f-string: a single allocation for the 16 characters.
    return (
        f"{t[v >> 70]}{t[(v >> 60) & 1023]}{t[(v >> 50) & 1023]}{t[(v >> 40) & 1023]}"
        f"{t[(v >> 30) & 1023]}{t[(v >> 20) & 1023]}{t[(v >> 10) & 1023]}{t[v & 1023]}"
    )


def port_proto_hash(service_port_name: str, protocol: str) -> str:
    """``base32(sha256(name + protocol))[:16]``: the token shared by a port's SVC/SVL/EXT/FW chains."""
    return _token(service_port_name + protocol)


def endpoint_chain_name(service_port_name: str, protocol: str, endpoint: str) -> str:
    return "KUBE-SEP-" + _token(service_port_name + protocol + endpoint)


def endpoint_chain_names(name_and_protocol: str, endpoints: list[str]) -> dict[str, str]:
    """``endpoint_chain_name`` of each endpoint of one service port (``name_and_protocol`` = name + protocol)."""
    sha256, t = _sha256, _BASE32_PAIRS
    out = {}
    for endpoint in endpoints:
        v = int.from_bytes(sha256((name_and_protocol + endpoint).encode()).digest()[:10], "big")
        out[endpoint] = (
            f"KUBE-SEP-{t[v >> 70]}{t[(v >> 60) & 1023]}{t[(v >> 50) & 1023]}{t[(v >> 40) & 1023]}"
            f"{t[(v >> 30) & 1023]}{t[(v >> 20) & 1023]}{t[(v >> 10) & 1023]}{t[v & 1023]}"
        )
    return out


def reference_token(text: str) -> str:
    """The straightforward recipe, kept for tests that compare it with ``_token``."""
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def is_service_chain(name: str) -> bool:
    """Chains kube-proxy owns per service; stale ones are flushed and deleted."""
    return name.startswith(SERVICE_CHAIN_PREFIXES)


@lru_cache(maxsize=4096)
def probability_text(n: int) -> str:
    """kube-proxy's ``fmt.Sprintf("%0.10f", 1.0/float64(n))``."""
    return "%0.10f" % (1.0 / n)


@lru_cache(maxsize=4096)
def probability_value(n: int) -> int:
    """The kernel's stored value for kube-proxy's text: ``lround(2^31 * p)``."""
    return math.floor(PROBABILITY_SCALE * float(probability_text(n)) + 0.5)
