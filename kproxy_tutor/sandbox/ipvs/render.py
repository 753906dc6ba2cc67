"""Render IPVS state as ``ipvsadm -Ln`` and ``ip addr show kube-ipvs0`` print it.

Layout and order follow ipvsadm 1.31's ``list_all``/``print_service_entry``: virtual servers
sorted by ``ipvs_cmp_services`` (address family, protocol number: TCP 6, UDP 17, SCTP 132, then
address, then port), real servers by ``ipvs_cmp_dests`` (address, then port), both with glibc's
merge sort. The C code compares addresses by subtracting them as unsigned 32-bit words and
reading the result as a signed int, so two addresses more than 2^31 apart compare the "wrong"
way round (192.168.0.2 sorts before 10.96.0.1); when three or more addresses make that
comparison circular, the real order also depends on the kernel's hash-table order, which the
tutor stands in for with kube-proxy's creation order. The protocol is printed ``%-4s`` and then a
space (``TCP  …``, ``SCTP …``); real-server lines are ``"  -> %-28s %-7s %-6d %-10u %-10u"``, so
they keep ipvsadm's trailing spaces. ``size=4096`` is the kernel's connection-table size
(CONFIG_IP_VS_TAB_BITS=12, the usual default; a kernel built otherwise prints another figure).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import TypeVar

from kproxy_tutor.sandbox.ipvs.proxier import DUMMY_DEVICE, IpvsState, RealServer, VirtualServer

HEADER = (
    "IP Virtual Server version 1.2.1 (size=4096)\n"
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
)
_PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "SCTP": 132}
_T = TypeVar("_T")


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _address_words(address: str) -> tuple[int, tuple[int, ...]]:
    """(address family as the kernel numbers it, the address as 32-bit words in network order)."""
    ip = ipaddress.ip_address(address)
    packed = ip.packed
    words = tuple(int.from_bytes(packed[i : i + 4], "big") for i in range(0, len(packed), 4))
    return (2 if ip.version == 4 else 10), words


def _cmp_addresses(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """``r = ntohl(a[i]) - ntohl(b[i])`` word by word, as libipvs computes it (wrapping to a signed int)."""
    for x, y in zip(a, b, strict=False):
        r = _signed32(x - y)
        if r:
            return r
    return 0


def cmp_services(a: VirtualServer, b: VirtualServer) -> int:
    """libipvs ``ipvs_cmp_services`` (no firewall marks in kube-proxy)."""
    af_a, words_a = _address_words(a.address)
    af_b, words_b = _address_words(b.address)
    r = af_a - af_b or _PROTOCOL_NUMBERS.get(a.protocol, 0) - _PROTOCOL_NUMBERS.get(b.protocol, 0)
    return r or _cmp_addresses(words_a, words_b) or a.port - b.port


def cmp_dests(a: RealServer, b: RealServer) -> int:
    """libipvs ``ipvs_cmp_dests``."""
    return _cmp_addresses(_address_words(a.address)[1], _address_words(b.address)[1]) or a.port - b.port


def glibc_sort(items: Sequence[_T], cmp: Callable[[_T, _T], int]) -> list[_T]:
    """glibc's ``qsort`` (its top-down merge sort, ``msort_with_tmp``), so a circular comparison ends as it does there."""
    items = list(items)
    if len(items) <= 1:
        return items
    half = len(items) // 2
    left, right = glibc_sort(items[:half], cmp), glibc_sort(items[half:], cmp)
    out: list[_T] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out + left[i:] + right[j:]


def _host_port(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def service_line(vs: VirtualServer) -> str:
    """A virtual server's line in ``ipvsadm -Ln``: ``TCP  10.96.0.1:443 rr``, ``SCTP 10.96.0.9:99 rr persistent 10800``."""
    line = f"{vs.protocol:<4} {_host_port(vs.address, vs.port)} {vs.scheduler}"
    if vs.scheduler == "mh":
        # kube-proxy sets the mh-port flag (IP_VS_SVC_F_SCHED2) for the mh scheduler.
        line += " (mh-port)"
    if vs.persistent is not None:
        line += f" persistent {vs.persistent}"
    return line


def render_ipvsadm(state: IpvsState) -> str:
    out = [HEADER]
    for vs in glibc_sort(state.virtual_servers, cmp_services):
        out.append(service_line(vs) + "\n")
        for rs in glibc_sort(vs.real_servers, cmp_dests):
            out.append(
                f"  -> {_host_port(rs.address, rs.port):<28} {'Masq':<7} {rs.weight:<6} {rs.active:<10} {rs.inactive:<10}\n"
            )
    return "".join(out)


def render_ip_addr(state: IpvsState, index: int = 5) -> str:
    """``ip addr show kube-ipvs0``: a DOWN dummy interface holding every Service IP as a /32 (/128 for IPv6).

    The addresses are bound in ``bound_addresses`` order the way upstream ``EnsureAddressBind``
    does it (``AddrAdd`` of a bare /32 or /128, no flags, so IPv6 ones get no ``nodad``). The
    kernel lists IPv4 addresses in the order they were added, then the IPv6 ones newest first
    (each joins its list ahead of the addresses of the same scope); checked with ``ip addr`` on
    a down interface in a network namespace.
    """
    lines = [
        f"{index}: {DUMMY_DEVICE}: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default ",
        "    link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff",
    ]
    ipv4 = [ip for ip in state.bound_addresses if ":" not in ip]
    ipv6 = [ip for ip in state.bound_addresses if ":" in ip]
    for ip in ipv4:
        lines.append(f"    inet {ip}/32 scope global {DUMMY_DEVICE}")
        lines.append("       valid_lft forever preferred_lft forever")
    for ip in reversed(ipv6):
        # No label for IPv6. Added without nodad on an interface that stays down, the address
        # stays tentative: duplicate address detection never runs.
        lines.append(f"    inet6 {ip}/128 scope global tentative ")
        lines.append("       valid_lft forever preferred_lft forever")
    return "\n".join(lines) + "\n"


def render_sysctls(state: IpvsState) -> str:
    """The sysctls kube-proxy set at startup, as ``sysctl NAME…`` prints them (strictARP is two of them, no rule)."""
    return "".join(f"{name} = {value}\n" for name, value in state.sysctls)
