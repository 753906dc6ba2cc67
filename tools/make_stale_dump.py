"""Regenerate the stale-node dump the lesson 7 exercise ships (kproxy_tutor/explain/dumps/).

    python tools/make_stale_dump.py

The db-service scenario's node worker-1 as kube-proxy v1.35 in iptables mode writes it (compiled by
the sandbox), after a second Service ``reports`` was deleted: its KUBE-SERVICES jump is gone, but its
KUBE-SVC and KUBE-SEP chains are still there, as kube-proxy leaves them between clean-ups on a large
cluster (it deletes unreferenced chains at most once per syncPeriod there).
"""

from __future__ import annotations

from pathlib import Path

from kproxy_tutor.sandbox.iptables.render import render_save
from kproxy_tutor.shell.parser import parse_line
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session

OUT = Path(__file__).resolve().parent.parent / "kproxy_tutor" / "explain" / "dumps" / "stale-node.txt"
DELETED = "reports"


def _dump(session: Session) -> str:
    rules = session.iptables_rules()
    assert rules is not None
    return render_save(rules)


def _with_leftovers(nat: list[str], before: list[str], gone: set[str]) -> list[str]:
    """The nat table's lines with the leftover chains put where iptables-save lists them.

    Like iptables-save: the built-in chains first, then the others by name, and the rules chain by chain.
    """
    builtin = [x for x in nat if x.startswith(":") and x.split()[1] != "-"]
    declared = [x for x in nat if x.startswith(":") and x.split()[1] == "-"]
    declared += [x for x in before if x.startswith(":") and x[1:].split()[0] in gone]
    declared.sort(key=lambda x: x[1:].split()[0])
    order = [x[1:].split()[0] for x in (*builtin, *declared)]
    rules = [x for x in nat if x.startswith("-A ")]
    rules += [x for x in before if x.startswith("-A ") and x.split()[1] in gone]
    rules.sort(key=lambda x: order.index(x.split()[1]))  # stable: each chain keeps its rules' order
    return [*builtin, *declared, *rules]


def main() -> None:
    session = Session(find_scenario("db-service"))
    for line in (
        f"kubectl create deployment {DELETED} --image nginx --replicas 2",
        f"kubectl expose deployment {DELETED} --port 8080",
    ):
        session.execute(parse_line(line))
    before = _dump(session).splitlines()
    session.execute(parse_line(f"kubectl delete service {DELETED}"))
    after = _dump(session).splitlines()
    # The deleted Service's own chains: declared and filled in ``before``, absent from ``after``.
    gone = {line[1:].split()[0] for line in before if line.startswith(":")} - {
        line[1:].split()[0] for line in after if line.startswith(":")
    }
    assert gone and all(c.startswith(("KUBE-SVC-", "KUBE-SEP-")) for c in gone), gone
    out: list[str] = [
        f"# Node worker-1 of the db-service scenario, after default/{DELETED} was deleted "
        "(tools/make_stale_dump.py)"
    ]
    table = ""
    after_nat: list[str] = []
    for line in after:
        if line.startswith("*"):
            table = line[1:]
        if table == "nat" and line == "COMMIT":
            out.extend(_with_leftovers(after_nat, before, gone))
        elif table == "nat" and not line.startswith("*"):
            after_nat.append(line)
            continue
        else:
            after_nat = []
        out.append(line)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{OUT.name}: {len(gone)} leftover chains of default/{DELETED}")


if __name__ == "__main__":
    main()
