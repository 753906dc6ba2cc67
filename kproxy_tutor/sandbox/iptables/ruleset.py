"""Read a whole node dump (iptables-save, with or without counters) into a Ruleset."""

from __future__ import annotations

from kproxy_tutor.errors import N_
from kproxy_tutor.sandbox.iptables.kernel import KernelState, RestoreError
from kproxy_tutor.sandbox.iptables.parse import declared_policies, parse_payload
from kproxy_tutor.sandbox.iptables.rules import BUILTIN_CHAINS, Goto, Jump, Ruleset, Table
from kproxy_tutor.sandbox.work import Progress, share


def parse_ruleset(
    text: str,
    source: str = "<rules>",
    unreadable: list[tuple[str, str]] | None = None,
    progress: Progress | None = None,
) -> Ruleset:
    """What a node holds after loading ``text`` into empty tables (iptables-save output or a restore payload).

    With ``unreadable``, rule lines that cannot be read are listed there instead of failing.
    ``progress`` hears ``("read-rules", done, total)``: reading the lines is about two thirds of
    the work, loading them into tables and checking them the rest (shares measured on a
    10,000-Service node).
    """
    reading = None if progress is None else share(progress, 0, _READING, _WHOLE)
    payload = parse_payload(text, source, unreadable, reading)
    kernel = KernelState()
    for table in payload.tables:
        # Chains may be referenced before their own declaration line in foreign dumps; create all first.
        for name in table.declared:
            kernel.ensure_chain(table.name, name)
    kernel.apply(payload)
    if progress is not None:
        progress("read-rules", _LOADED, _WHOLE)
    for (table_name, chain_name), (policy, counters) in declared_policies(text).items():
        table = kernel.ruleset.tables.get(table_name)
        chain = table.chains.get(chain_name) if table is not None else None
        if chain is not None:
            chain.policy = None if policy == "-" else policy
            chain.counters = counters
    for table in kernel.ruleset.tables.values():
        _refuse_loops(table, source)
    if progress is not None:
        progress("read-rules", _WHOLE, _WHOLE)
    return kernel.ruleset


#: ``parse_ruleset``'s progress, in parts of the whole: lines read, then loaded into tables.
_WHOLE, _READING, _LOADED = 100, 65, 80


def _refuse_loops(table: Table, source: str) -> None:
    """Refuse a table whose chains call each other in a circle, as the kernel does ("Too many links").

    The kernel checks the chains reachable from the built-in ones when the table is loaded
    (``iptables-restore`` then fails with ELOOP); a loop would otherwise run a packet forever.
    """
    calls: dict[str, list[str]] = {}
    for chain in table.chains.values():
        targets: dict[str, None] = {}
        for rule in chain.rules:
            target = rule.target
            if (target.__class__ is Jump or target.__class__ is Goto) and target.chain in table.chains:  # type: ignore[union-attr]
                targets[target.chain] = None  # type: ignore[union-attr]
        calls[chain.name] = list(targets)
    done: set[str] = set()
    for root in BUILTIN_CHAINS.get(table.name, ()):
        if root not in calls or root in done:
            continue
        # Iterative depth-first walk: the path is the chains being visited, a call back into it is a loop.
        path: list[str] = [root]
        on_path = {root}
        pending = [iter(calls[root])]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                pending.pop()
                continue
            if step in on_path:
                loop = [*path[path.index(step) :], step]
                raise RestoreError(
                    N_(
                        "Table {table}: the chains call each other in a loop ({loop}); the kernel refuses "
                        "such a table (iptables-restore: Too many links)."
                    ),
                    location=source,
                    table=table.name,
                    loop=" -> ".join(loop),
                )
            if step in done:
                continue
            path.append(step)
            on_path.add(step)
            pending.append(iter(calls[step]))
