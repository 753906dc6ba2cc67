"""What kube-proxy's sync changes when a Deployment behind a Service goes from 3 to 4 replicas."""

from __future__ import annotations

from collections.abc import Callable

from kproxy_tutor.sandbox.iptables.render import restore_line
from kproxy_tutor.shell.output import WatchReport
from kproxy_tutor.shell.parser import parse_line
from kproxy_tutor.shell.scenarios import find_scenario
from kproxy_tutor.shell.session import Session

SVC_CHAIN = "KUBE-SVC-PKJNZ2BPYAP7WCVG"  # default/db-service, port 5432/TCP (kube-proxy's hash)


def scale_to_four() -> WatchReport:
    session = Session(find_scenario("db-service"))
    session.watch = True
    outputs = session.execute(parse_line("kubectl scale deployment database --replicas 4"))  # type: ignore[arg-type]
    reports = [o for o in outputs if isinstance(o, WatchReport)]
    assert len(reports) == 1
    return reports[0]


def test_scaling_3_to_4_adds_one_sep_chain_and_rewrites_the_svc_chain_only() -> None:
    report = scale_to_four()
    assert [(e.kind, e.type) for e in report.events] == [("EndpointSlice", "MODIFIED")]
    diff = report.diff
    assert len(diff.added_chains) == 1
    table, chain = diff.added_chains[0]
    assert table == "nat" and chain.startswith("KUBE-SEP-")
    assert diff.rewritten_chains == [("nat", SVC_CHAIN)]
    assert diff.removed_chains == []
    # The new SEP chain holds the hairpin mark and the DNAT to the new Pod, nothing more.
    new_sep = next(c for c in diff.changes if c.kind == "added")
    assert [r.target.__class__.__name__ for r in new_sep.added_rules] == ["Jump", "Dnat"]


def test_the_rewritten_svc_chain_has_the_new_probability_ladder() -> None:
    report = scale_to_four()
    rewritten = next(c for c in report.diff.changes if c.kind == "rewritten")
    added = [restore_line(r) for r in rewritten.added_rules]
    assert len(added) == 4
    probabilities = [line.split("--probability ")[1].split()[0] for line in added if "--probability" in line]
    assert probabilities == ["0.2500000000", "0.3333333333", "0.5000000000"]
    # The last endpoint takes what is left: no statistic match.
    assert "--probability" not in added[-1]
    new_sep = next(c for c in report.diff.changes if c.kind == "added").chain
    assert added[-1].endswith(f"-j {new_sep}")
    # The masquerade rule of the chain did not change, so it is not part of the diff.
    assert all(
        "KUBE-MARK-MASQ" not in restore_line(r) for r in rewritten.added_rules + rewritten.removed_rules
    )


def test_watch_view_shows_exactly_these_changes(run_shell: Callable) -> None:
    _code, text, _session = run_shell(
        "watch on\nkubectl scale deployment database --replicas 4\n", "db-service"
    )
    diff_lines = [
        line.strip() for line in text.splitlines() if line.startswith("  ") and line.strip()[:1] in "+~-"
    ]
    chains = [
        line for line in diff_lines if line.startswith(("+ nat", "~ nat", "- nat", "+ filter", "~ filter"))
    ]
    assert len(chains) == 2
    assert chains[0].startswith("+ nat KUBE-SEP-") and chains[1].startswith(f"~ nat {SVC_CHAIN}")
    assert sum("0.2500000000" in line for line in diff_lines if line.startswith("+ -A")) == 1
