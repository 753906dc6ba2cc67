"""What MASQUERADE writes as the new source, shared by every mode's evaluator: the egress interface's address and a port.

The address is the one of the interface the packet leaves by (``Network.route``): ``cni0``'s
toward a Pod on the same node, the node's ``eth0`` address toward other nodes. The port
follows the kernel's ``nf_nat_l4proto_unique_tuple``: without ``--random-fully`` (nftables
``fully-random``) the source port is kept while the resulting connection is unique; with it
(``NF_NAT_RANGE_PROTO_RANDOM_ALL``) the kernel always starts at a random offset. Either way the
search covers the kernel's range for the original port: 1024–65535 for an unprivileged port
(not only the 32768–60999 ephemeral range clients pick from), 1–511 or 600–1023 below that.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from kproxy_tutor.sandbox.packet import Packet
from kproxy_tutor.sandbox.trace.network import Network, NodeNetwork, Route

#: The range the kernel searches for an unprivileged source port (``nf_nat_l4proto_unique_tuple``).
UNPRIVILEGED_PORTS = (1024, 65535)


class PortChoice:
    """How the new source port was chosen (the ``port`` detail of a masquerade ``snat`` step)."""

    KEPT = "kept"  #: the original port, free for the new source address
    RANDOM = "random"  #: fully random: a random port from the range
    TAKEN = "taken"  #: the original port was in use for this destination, so another one was picked


@dataclass(frozen=True, slots=True)
class Masquerade:
    ip: str
    port: int
    interface: str
    #: A PortChoice code.
    port_choice: str
    #: The range searched, as ``low-high``.
    port_range: str

    def step_detail(self, before: str, after: str) -> dict[str, object]:
        """A MASQUERADE rule's SNAT step detail: ``before``/``after`` are the packet's ``ip:port`` sources."""
        return {
            "from": before,
            "to": after,
            "interface": self.interface,
            "by": "rule",
            "port": self.port_choice,
            "port_range": self.port_range,
        }


def port_range(port: int) -> tuple[int, int]:
    """The range the kernel picks a new source port from, given the original one."""
    if port >= 1024:
        return UNPRIVILEGED_PORTS
    return (1, 511) if port < 512 else (600, 1023)


def masquerade(
    packet: Packet,
    route: Route,
    fully_random: bool,
    rng: random.Random,
    taken: Callable[[str, int], bool] = lambda _ip, _port: False,
) -> Masquerade | None:
    """The new source of ``packet`` leaving by ``route``; None when the interface has no address.

    ``taken(ip, port)`` says whether a connection to the same destination already uses that
    source (conntrack's ``nf_nat_used_tuple``).
    """
    ip = route.source_address
    if ip is None:
        return None
    low, high = port_range(packet.src_port)
    text = f"{low}-{high}"
    if not fully_random and not taken(ip, packet.src_port):
        return Masquerade(ip, packet.src_port, route.interface, PortChoice.KEPT, text)
    size = high - low + 1
    offset = rng.randrange(size)
    for i in range(size):
        port = low + (offset + i) % size
        if not taken(ip, port):
            choice = PortChoice.RANDOM if fully_random else PortChoice.TAKEN
            return Masquerade(ip, port, route.interface, choice, text)
    return None


def port_rng(seed: int) -> random.Random:
    """The random source NAT port choices draw from: seeded, and apart from rule draws (numgen, statistic)."""
    return random.Random(f"nat-port:{seed}")


def node_route(network: Network, node: str, dst_ip: str) -> Route:
    """The routing decision on ``node`` for ``dst_ip`` (what the iptables evaluator uses)."""
    return network.route(network.node(node), dst_ip)


def standalone_network(name: str, addresses: tuple[str, ...], pods: dict[str, tuple[str, str]]) -> Network:
    """A one-node network when an evaluator is given no cluster network: Pods known, Pod CIDRs not."""
    from kproxy_tutor.sandbox.iptables.rules import Ruleset
    from kproxy_tutor.sandbox.trace.network import PodAddress

    own = tuple(a for a in addresses if not a.startswith("127.") and a != "::1")
    from kproxy_tutor.sandbox.families import IPV4, family_of_address

    family = family_of_address(own[0]) if own else IPV4
    return Network(
        [NodeNetwork(name, own, Ruleset, None, None, family=family)],
        [PodAddress(ip, pod, node) for ip, (node, pod) in pods.items()],
    )
