"""`iptables -L` columns, checked against lines as real iptables 1.8 prints them (not against our own output)."""

from __future__ import annotations

from kproxy_tutor.sandbox.iptables.parse import parse_payload
from kproxy_tutor.shell.counters import Counters
from kproxy_tutor.shell.listing import _number, rule_line

#: Column header of `iptables -L -n -v` (iptables' print_header with FMT_KILOMEGAGIGA and FMT_VIA).
HEADER = " pkts bytes target     prot opt in     out     source               destination         "


def one_rule(text: str):  # type: ignore[no-untyped-def]
    payload = parse_payload(
        f"*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]\n:KUBE-NODEPORTS - [0:0]\n{text}\nCOMMIT\n"
    )
    return payload.tables[0].lines[0]


def test_header_and_a_clusterip_rule_match_a_real_node() -> None:
    from kproxy_tutor.sandbox.iptables.rules import Ruleset
    from kproxy_tutor.shell.listing import list_rules

    rule = one_rule(
        '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" '
        "-m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y"
    )
    expected = (
        "    0     0 KUBE-SVC-NPX46M4PTMTKRN6Y  tcp  --  *      *       0.0.0.0/0            10.96.0.1            "
        "/* default/kubernetes:https cluster IP */ tcp dpt:443"
    )
    assert rule_line(rule, 1, 0, 0, verbose=True, numeric=True, exact=False, numbers=False) == expected
    ruleset = Ruleset()
    table = ruleset.table("nat")
    table.chain("KUBE-SERVICES").rules.append(rule)
    table.chain("PREROUTING")
    text = list_rules(
        ruleset,
        "nat",
        "KUBE-SERVICES",
        Counters(),
        verbose=True,
        numeric=True,
        exact=False,
        line_numbers=False,
    )
    assert text.splitlines()[:2] == ["Chain KUBE-SERVICES (0 references)", HEADER]


def test_nodeports_rule_and_negated_source() -> None:
    rule = one_rule(
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last '
        'rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'
    )
    assert rule_line(rule, 1, 12, 720, verbose=True, numeric=True, exact=False, numbers=False) == (
        "   12   720 KUBE-NODEPORTS  all  --  *      *       0.0.0.0/0            0.0.0.0/0            "
        "/* kubernetes service nodeports; NOTE: this must be the last rule in this chain */ ADDRTYPE match dst-type LOCAL"
    )
    masq = one_rule(
        '-A KUBE-SERVICES ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m comment --comment "x" -j KUBE-NODEPORTS'
    )
    assert " tcp  --  *      *      !10.244.0.0/16        10.96.0.1            /* x */" in rule_line(
        masq, 1, 0, 0, verbose=True, numeric=True, exact=False, numbers=False
    )


def test_counters_use_k_and_m_suffixes_like_iptables() -> None:
    assert _number(99999, False) == "99999 "
    assert _number(100000, False) == " 100K "
    assert _number(123456789, False) == " 123M "
    assert _number(5, True) == "       5 "
