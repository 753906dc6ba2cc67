"""Read a whole node dump (iptables-save, with or without counters) into a Ruleset."""

from __future__ import annotations

from kproxy_tutor.sandbox.iptables.kernel import KernelState
from kproxy_tutor.sandbox.iptables.parse import declared_policies, parse_payload
from kproxy_tutor.sandbox.iptables.rules import Ruleset


def parse_ruleset(
    text: str, source: str = "<rules>", unreadable: list[tuple[str, str]] | None = None
) -> Ruleset:
    """What a node holds after loading ``text`` into empty tables (iptables-save output or a restore payload).

    With ``unreadable``, rule lines that cannot be read are listed there instead of failing.
    """
    payload = parse_payload(text, source, unreadable)
    kernel = KernelState()
    for table in payload.tables:
        # Chains may be referenced before their own declaration line in foreign dumps; create all first.
        for name in table.declared:
            kernel.ensure_chain(table.name, name)
    kernel.apply(payload)
    for (table_name, chain_name), (policy, counters) in declared_policies(text).items():
        table = kernel.ruleset.tables.get(table_name)
        chain = table.chains.get(chain_name) if table is not None else None
        if chain is not None:
            chain.policy = None if policy == "-" else policy
            chain.counters = counters
    return kernel.ruleset
