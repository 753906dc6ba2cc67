"""Mutated node dumps never crash explain: they are explained as far as possible, or refused with a TutorError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kproxy_tutor.errors import TutorError
from kproxy_tutor.explain import explain_text
from kproxy_tutor.explain.export import to_data
from kproxy_tutor.ui.explain_view import explanation_lines
from tests.explain.helpers import real_or_rendered_iptables, real_or_rendered_nft

SOURCES = {
    "iptables": real_or_rendered_iptables,
    "nftables": real_or_rendered_nft,
}
NAMES = ("db-service", "etp-local", "session-affinity", "loadbalancer-source-ranges")
TOKENS = [
    "-j",
    "-m",
    "!",
    "--comment",
    '"',
    "{",
    "}",
    ":",
    "KUBE-SVC-X",
    "0.5",
    "-A",
    "*nat",
    "COMMIT",
    "vmap",
    "goto",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    mode = draw(st.sampled_from(sorted(SOURCES)))
    lines = SOURCES[mode](draw(st.sampled_from(NAMES))).splitlines()
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "token", "truncate", "swap"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "token":
            words = lines[index].split(" ")
            position = draw(st.integers(0, len(words) - 1))
            words[position] = draw(st.sampled_from(TOKENS) | st.text(max_size=8))
            lines[index] = " ".join(words)
        elif action == "truncate":
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_dumps_never_crash(text: str) -> None:
    try:
        explanation = explain_text(text, "node")
    except TutorError:
        return
    to_data(explanation)
    for width in (40, 80):
        assert all(len(line) <= width for line, _style in explanation_lines(explanation, width))


def test_a_map_key_that_is_not_a_port_is_listed_as_not_kube_proxys() -> None:
    # Found by the test above: a service-nodeports element whose port was replaced by a word.
    text = real_or_rendered_nft("loadbalancer-source-ranges")
    line = next(line for line in text.splitlines() if "elements = { tcp . " in line)
    port = line.split("tcp . ", 1)[1].split(" ", 1)[0]
    data = to_data(explain_text(text.replace(f"tcp . {port} :", "tcp . -j :", 1), "node"))
    unknown = data["not_kube_proxy"]["rules_in_kube_proxy_chains"]
    assert [rule["rule"].split(" :")[0] for rule in unknown] == ["tcp . -j"], unknown


def test_an_endpoint_chain_emptied_by_hand_is_named_by_its_chain() -> None:
    dump = "\n".join(
        [
            "*nat",
            ":KUBE-SERVICES - [0:0]",
            ":KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]",
            ":KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]",
            '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns/web:http cluster IP" -m tcp '
            "--dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA",
            "-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-BBBBBBBBBBBBBBBB",
            "COMMIT",
            "",
        ]
    )
    (view,) = explain_text(dump, "node").service_ports
    assert [e.address for e in view.endpoints] == ["KUBE-SEP-BBBBBBBBBBBBBBBB"]
