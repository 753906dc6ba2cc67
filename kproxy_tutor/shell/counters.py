"""Packet and byte counters of one node's rules, fed by the traffic ``curl`` sends.

Counters belong to a rule in a chain. When a sync declares a chain (``:CHAIN - [0:0]`` in the
restore payload) the kernel flushes it and the rules come back with zero counters, exactly as
on a real node; built-in chains' policy counters are never reset by kube-proxy.
"""

from __future__ import annotations

import dataclasses

from kproxy_tutor.sandbox.iptables.rules import Chain, Payload, Rule, Ruleset

#: What the sandbox counts for a connection's first packet: a TCP SYN with the usual options.
FIRST_PACKET_BYTES = 60


class Counters:
    def __init__(self) -> None:
        #: (table, chain) → per rule position: (rule, packets, bytes).
        self._rules: dict[tuple[str, str], dict[int, tuple[Rule, int, int]]] = {}
        self._policies: dict[tuple[str, str], tuple[int, int]] = {}

    def count_rule(
        self, table: str, chain: str, number: int, rule: Rule, size: int = FIRST_PACKET_BYTES
    ) -> None:
        """A packet matched rule ``number`` (1-based) of ``chain``."""
        slots = self._rules.setdefault((table, chain), {})
        known = slots.get(number)
        packets, octets = (known[1], known[2]) if known is not None and known[0] == rule else (0, 0)
        slots[number] = (rule, packets + 1, octets + size)

    def count_policy(self, table: str, chain: str, size: int = FIRST_PACKET_BYTES) -> None:
        packets, octets = self._policies.get((table, chain), (0, 0))
        self._policies[(table, chain)] = (packets + 1, octets + size)

    def rule(self, table: str, chain: str, number: int, rule: Rule) -> tuple[int, int]:
        known = self._rules.get((table, chain), {}).get(number)
        if known is None or known[0] != rule:
            return (0, 0)
        return (known[1], known[2])

    def policy(self, table: str, chain: str) -> tuple[int, int]:
        return self._policies.get((table, chain), (0, 0))

    def after_sync(self, payload: Payload) -> None:
        """Chains the payload declared were flushed and refilled: their counters start again."""
        for table in payload.tables:
            for chain in table.declared:
                self._rules.pop((table.name, chain), None)

    def counted(self, ruleset: Ruleset) -> Ruleset:
        """A copy of ``ruleset`` whose rules and chains carry these counters (for ``iptables-save -c``)."""
        copy = Ruleset()
        for name, table in ruleset.tables.items():
            new_table = copy.table(name)
            for chain_name, chain in table.chains.items():
                rules = [
                    dataclasses.replace(rule, counters=self.rule(name, chain_name, i, rule))
                    for i, rule in enumerate(chain.rules, 1)
                ]
                counters = self.policy(name, chain_name) if chain.builtin else (0, 0)
                new_table.chains[chain_name] = Chain(chain_name, chain.policy, rules, counters)
        return copy
