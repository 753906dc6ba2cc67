"""Render IPVS state as ``ipvsadm -Ln`` and ``ip addr show kube-ipvs0`` print it.

Column layout follows ipvsadm's ``print_service_entry`` (``"  -> %-28s %-7s %-6d %-10u %-10u"``),
so real-server lines keep ipvsadm's trailing spaces.
"""

from __future__ import annotations

from kproxy_tutor.sandbox.ipvs.proxier import DUMMY_DEVICE, IpvsState

HEADER = (
    "IP Virtual Server version 1.2.1 (size=4096)\n"
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
)


def _addrport(ip: str, port: int) -> str:
    """ipvsadm prints an IPv6 address in brackets (``[fd00::1]:80``)."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def render_ipvsadm(state: IpvsState) -> str:
    out = [HEADER]
    for vs in state.virtual_servers:
        line = f"{vs.protocol}  {_addrport(vs.address, vs.port)} {vs.scheduler}"
        if vs.scheduler == "mh":
            line += " (mh-port)"
        if vs.persistent is not None:
            line += f" persistent {vs.persistent}"
        out.append(line + "\n")
        for rs in vs.real_servers:
            out.append(
                f"  -> {_addrport(rs.address, rs.port):<28} {'Masq':<7} {rs.weight:<6} {rs.active:<10} {rs.inactive:<10}\n"
            )
    return "".join(out)


def render_ip_addr(state: IpvsState, index: int = 5) -> str:
    """``ip addr show kube-ipvs0``: a DOWN dummy interface holding every Service IP as a /32 (/128 for IPv6)."""
    lines = [
        f"{index}: {DUMMY_DEVICE}: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default ",
        "    link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff",
    ]
    for ip in state.bound_addresses:
        if ":" in ip:
            # No label for IPv6; kube-ipvs0 stays down, so duplicate address detection never runs.
            lines.append(f"    inet6 {ip}/128 scope global tentative ")
        else:
            lines.append(f"    inet {ip}/32 scope global {DUMMY_DEVICE}")
        lines.append("       valid_lft forever preferred_lft forever")
    return "\n".join(lines) + "\n"
