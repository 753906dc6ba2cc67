"""IPVS schedulers, simulated well enough to see how they differ over many new connections.

Each picks a real server for a new connection from the connection counters (``active``), the
weights, or a hash of the addresses, like the kernel's ``ip_vs_*`` modules: rr, wrr, lc, wlc,
sed, nq, sh (source hash), dh (destination hash), mh (Maglev, hashing source address and
port because kube-proxy sets ``mh-port``), fo (weighted failover: the first server of the
highest weight) and ovf (overflow: the first server of the highest weight whose active
connections do not exceed its weight). kube-proxy gives every real server weight 1, so the
weighted variants behave like their plain ones.

The hashes are the tutor's own (the kernel's depend on its hash functions and, for sh/dh/mh,
on table sizes), so which server a hash picks is an illustration; that the same client (sh, mh)
or the same Service address (dh) always gets the same server is what the kernel does.
lblc, lblcr and twos keep per-destination tables or draw random pairs that the tutor does not
model: the virtual servers show them, and a trace through one is refused with the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.ipvs.proxier import RealServer, VirtualServer

#: The schedulers the tutor simulates; the kernel's others are listed in ``model.KERNEL_SCHEDULERS``.
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh", "fo", "ovf")
_MAGLEV_SIZE = 251


def _hash(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


@dataclass(slots=True)
class SchedulerState:
    position: int = -1
    current_weight: int = 0
    maglev: list[int] = field(default_factory=list)


def _overhead(rs: RealServer) -> int:
    # The kernel's ip_vs_dest_conn_overhead: active connections weigh 256 times inactive ones.
    return rs.active * 256 + rs.inactive


def pick(vs: VirtualServer, state: SchedulerState, client: str, client_port: int) -> RealServer | None:
    servers = [rs for rs in vs.real_servers if rs.weight > 0]
    if not servers:
        return None
    kind = vs.scheduler
    if kind == "rr":
        state.position = (state.position + 1) % len(servers)
        return servers[state.position]
    if kind == "wrr":
        return _wrr(servers, state)
    if kind == "lc":
        return min(servers, key=_overhead)
    if kind == "wlc":
        return min(servers, key=lambda rs: _overhead(rs) / rs.weight)
    if kind == "sed":
        return min(servers, key=lambda rs: (rs.active + 1) / rs.weight)
    if kind == "nq":
        idle = [rs for rs in servers if rs.active == 0]
        return idle[0] if idle else min(servers, key=lambda rs: (rs.active + 1) / rs.weight)
    if kind == "sh":
        return servers[_hash(client) % len(servers)]
    if kind == "dh":
        return servers[_hash(vs.address) % len(servers)]
    if kind == "mh":
        if len(state.maglev) != _MAGLEV_SIZE:
            state.maglev = _maglev_table(len(servers))
        return servers[state.maglev[_hash(client, client_port) % _MAGLEV_SIZE]]
    if kind == "fo":
        # ip_vs_fo_schedule: the first server with the highest weight.
        return max(servers, key=lambda rs: rs.weight)
    if kind == "ovf":
        # ip_vs_ovf_schedule: skip servers with more active connections than their weight.
        open_servers = [rs for rs in servers if rs.active <= rs.weight]
        return max(open_servers, key=lambda rs: rs.weight) if open_servers else None
    raise SandboxInputError(
        N_(
            "The tutor does not simulate the IPVS scheduler {name}, so it cannot say which real server "
            "{address}:{port} picks; it simulates {known}."
        ),
        name=kind,
        address=vs.address,
        port=vs.port,
        known=", ".join(SCHEDULERS),
    )


def simulated(vs: VirtualServer) -> bool:
    """The tutor can say which real server this virtual server's scheduler picks."""
    return vs.scheduler in SCHEDULERS


def _wrr(servers: list[RealServer], state: SchedulerState) -> RealServer:
    """The kernel's wrr: walk the list, lowering the weight bar by the weights' gcd each round."""
    from math import gcd

    step = 0
    for rs in servers:
        step = gcd(step, rs.weight)
    top = max(rs.weight for rs in servers)
    while True:
        state.position = (state.position + 1) % len(servers)
        if state.position == 0:
            state.current_weight -= step
            if state.current_weight <= 0:
                state.current_weight = top
        if servers[state.position].weight >= state.current_weight:
            return servers[state.position]


def _maglev_table(count: int) -> list[int]:
    """Maglev's lookup table: each server fills slots in its own permutation order, in turn."""
    offsets = [_hash("offset", i) % _MAGLEV_SIZE for i in range(count)]
    skips = [_hash("skip", i) % (_MAGLEV_SIZE - 1) + 1 for i in range(count)]
    nexts = [0] * count
    table = [-1] * _MAGLEV_SIZE
    filled = 0
    while filled < _MAGLEV_SIZE:
        for i in range(count):
            while True:
                slot = (offsets[i] + nexts[i] * skips[i]) % _MAGLEV_SIZE
                nexts[i] += 1
                if table[slot] < 0:
                    break
            table[slot] = i
            filled += 1
            if filled == _MAGLEV_SIZE:
                break
    return table


def simulate(
    vs: VirtualServer,
    clients: list[tuple[str, int]],
    lifetime: int = 0,
    on_pick: Callable[[RealServer], None] | None = None,
) -> dict[str, int]:
    """Open one connection per client; each stays active for ``lifetime`` later connections, then goes inactive.

    Returns new connections per real server (``ip:port``); the servers' counters are updated,
    so ``ipvsadm -Ln`` afterwards shows ActiveConn/InActConn.
    """
    state = SchedulerState()
    open_connections: list[tuple[int, RealServer]] = []
    counts = {f"{rs.address}:{rs.port}": 0 for rs in vs.real_servers}
    for index, (client, port) in enumerate(clients):
        for end, rs in [c for c in open_connections if c[0] <= index]:
            rs.active -= 1
            rs.inactive += 1
            open_connections.remove((end, rs))
        rs = pick(vs, state, client, port)
        if rs is None:
            continue
        rs.active += 1
        counts[f"{rs.address}:{rs.port}"] += 1
        open_connections.append((index + 1 + lifetime, rs))
        if on_pick is not None:
            on_pick(rs)
    return counts
