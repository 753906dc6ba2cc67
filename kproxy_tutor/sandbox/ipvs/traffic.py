"""Seeded client traffic through the IPVS virtual servers, so ``ipvsadm -Ln`` shows live ActiveConn/InActConn counters.

Each virtual server gets a reproducible number of new connections from Pod-like clients; a
connection stays active for a few later connections and then counts as inactive (a TCP
connection in TIME_WAIT, as the kernel's counters see it). The scheduler of the virtual server
picks the real server, so ``rr`` spreads evenly and ``sh`` sticks to the client.
"""

from __future__ import annotations

import random

from kproxy_tutor.sandbox.ipvs.proxier import IpvsState
from kproxy_tutor.sandbox.ipvs.schedulers import simulate, simulated


def simulate_traffic(state: IpvsState, seed: int = 0, max_connections: int = 12, lifetime: int = 3) -> int:
    """Open connections on every virtual server with real servers; returns how many were opened."""
    rng = random.Random(seed)
    opened = 0
    for vs in state.virtual_servers:
        if not vs.real_servers or not simulated(vs):
            # A scheduler the tutor does not model (lblc, lblcr, twos) keeps its counters at 0.
            continue
        count = rng.randint(len(vs.real_servers), max(max_connections, len(vs.real_servers)))
        clients = [
            (f"10.244.{rng.randint(1, 3)}.{rng.randint(2, 250)}", rng.randint(32768, 60999))
            for _ in range(count)
        ]
        opened += sum(simulate(vs, clients, lifetime).values())
    return opened
