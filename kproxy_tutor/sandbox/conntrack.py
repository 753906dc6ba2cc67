"""A node's connection-tracking table: the first packet of a connection creates an entry; later packets and replies are translated by it.

This is why kube-proxy's nat rules run once per connection: the kernel consults the nat table
only for a connection's first packet and stores the translation (the NAT binding) in the
entry; every later packet in either direction is rewritten from that entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from kproxy_tutor.sandbox.packet import Direction, Packet

#: (protocol, source ip, source port, destination ip, destination port)
Tuple = tuple[str, str, int, str, int]


def tuple_of(packet: Packet) -> Tuple:
    return (packet.protocol, packet.src_ip, packet.src_port, packet.dst_ip, packet.dst_port)


@dataclass(slots=True)
class ConntrackEntry:
    original: Tuple
    #: What the reply looks like: from the (DNAT) destination back to the (SNAT) source.
    reply: Tuple
    created: float
    seen_reply: bool = False

    @property
    def dnat(self) -> bool:
        """The destination was translated (conntrack's virtual ``DNAT`` state)."""
        return (self.original[3], self.original[4]) != (self.reply[1], self.reply[2])

    @property
    def snat(self) -> bool:
        return (self.original[1], self.original[2]) != (self.reply[3], self.reply[4])

    def states(self, direction: str) -> frozenset[str]:
        """The ``--ctstate`` values a packet of this entry has."""
        states = {"ESTABLISHED" if self.seen_reply or direction == Direction.REPLY else "NEW"}
        if self.dnat:
            states.add("DNAT")
        if self.snat:
            states.add("SNAT")
        return frozenset(states)

    def set_destination(self, ip: str, port: int) -> None:
        """Record a DNAT binding: the reply comes from the new destination."""
        self.reply = (self.reply[0], ip, port, self.reply[3], self.reply[4])

    def set_source(self, ip: str, port: int) -> None:
        """Record a SNAT binding: the reply goes to the new source."""
        self.reply = (self.reply[0], self.reply[1], self.reply[2], ip, port)

    def translate(self, packet: Packet, direction: str, which: str) -> Packet:
        """Apply the stored binding: ``which`` is ``dst`` (PREROUTING/OUTPUT) or ``src`` (POSTROUTING/INPUT)."""
        if direction == Direction.REQUEST:
            if which == "dst" and self.dnat:
                return packet.translated(
                    packet.src_ip, packet.src_port, self.reply[1], self.reply[2], packet.mark
                )
            if which == "src" and self.snat:
                return packet.translated(
                    self.reply[3], self.reply[4], packet.dst_ip, packet.dst_port, packet.mark
                )
        else:
            # A reply is un-NATed the other way round: its destination (our SNAT address)
            # becomes the original source, its source (the endpoint) the original destination.
            if which == "dst" and self.snat:
                return packet.translated(
                    packet.src_ip, packet.src_port, self.original[1], self.original[2], packet.mark
                )
            if which == "src" and self.dnat:
                return packet.translated(
                    self.original[3], self.original[4], packet.dst_ip, packet.dst_port, packet.mark
                )
        return packet


class ConntrackTable:
    """Confirmed entries, found by either of their tuples (as ``conntrack -L`` shows both)."""

    def __init__(self) -> None:
        self._by_tuple: dict[Tuple, tuple[ConntrackEntry, str]] = {}

    def lookup(self, packet: Packet) -> tuple[ConntrackEntry, str] | None:
        """The entry and the packet's direction, or None for the first packet of a connection."""
        return self._by_tuple.get(tuple_of(packet))

    def new_entry(self, packet: Packet, now: float) -> ConntrackEntry:
        """An unconfirmed entry; it joins the table only when the packet leaves the hooks (``confirm``)."""
        original = tuple_of(packet)
        reply = (packet.protocol, packet.dst_ip, packet.dst_port, packet.src_ip, packet.src_port)
        return ConntrackEntry(original, reply, now)

    def confirm(self, entry: ConntrackEntry) -> None:
        self._by_tuple[entry.original] = (entry, Direction.REQUEST)
        self._by_tuple[entry.reply] = (entry, Direction.REPLY)

    def entries(self) -> list[ConntrackEntry]:
        seen: dict[int, ConntrackEntry] = {}
        for entry, _ in self._by_tuple.values():
            seen.setdefault(id(entry), entry)
        return list(seen.values())

    def __len__(self) -> int:
        return len(self.entries())

    def flush(self) -> None:
        self._by_tuple.clear()
