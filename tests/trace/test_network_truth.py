"""What a trace shows must hold on a real cluster: where an outside packet enters, the egress address and port MASQUERADE
writes (in every mode), the hooks a node's own packets pass, replies on nodes that did no NAT, and the words around them."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

from kproxy_tutor.i18n import DEFAULT, set_language
from kproxy_tutor.sandbox.manifests import load_paths, load_texts
from kproxy_tutor.sandbox.modes import compile_mode
from kproxy_tutor.sandbox.packet import Direction, OutcomeKind, Packet, SourceKind, StepKind, Trace
from kproxy_tutor.sandbox.trace.network import Route
from kproxy_tutor.sandbox.trace.session import TraceSession
from kproxy_tutor.sandbox.trace.snat import UNPRIVILEGED_PORTS, masquerade
from kproxy_tutor.sandbox.trace.tracer import Client
from tests.foundation.helpers import run_tutor

from .conftest import SCENARIOS

ETP_LOCAL = str(SCENARIOS / "etp-local.yaml")


@pytest.fixture
def english() -> Iterator[None]:
    set_language("en")
    try:
        yield
    finally:
        set_language(DEFAULT)


NODEPORT = str(SCENARIOS / "nodeport.yaml")
WORKER_1_IP, CNI0_WORKER_1 = "192.168.0.11", "10.244.1.1"
SHOP_IP = "10.101.7.25"
SHOP_A, SHOP_B = "10.244.1.7:8080", "10.244.2.9:8080"  # on worker-1 and worker-2


def _json(*args: str) -> dict:
    result = run_tutor("trace", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _plain(*args: str) -> str:
    result = run_tutor("--lang", "en", "--plain", "trace", *args)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())  # plain output wraps at the terminal's width


# B: an outside client's packet to a node's address enters that node ------------------------------
@pytest.mark.parametrize(
    ("target", "node"),
    [
        ("worker-2:30081", "worker-2"),
        ("control-plane:30081", "control-plane"),
        ("192.168.0.12:30081", "worker-2"),
    ],
)
def test_outside_client_sending_to_a_node_address_enters_that_node(target: str, node: str) -> None:
    data = _json("-f", ETP_LOCAL, "--from", "198.51.100.7", "--to", target, "--seed", "1")
    assert data["from"]["node"] == node
    arrivals = [s["node"] for s in data["steps"] if s["kind"] == "arrive" and s["direction"] == "request"]
    assert arrivals[0] == node
    assert not [s for s in data["steps"] if s["kind"] == "leave" and s["direction"] == "request"]


def test_outside_client_to_a_node_name_in_the_session_api() -> None:
    session = TraceSession.from_cluster(load_paths([ETP_LOCAL]).cluster, seed=1)
    client, _destination = session.resolve("198.51.100.7", "worker-2:30081")
    assert client.node == "worker-2"


def test_node_option_cannot_move_a_node_address() -> None:
    result = run_tutor(
        "--lang",
        "en",
        "trace",
        "-f",
        ETP_LOCAL,
        "--from",
        "198.51.100.7",
        "--to",
        "worker-2:30081",
        "--node",
        "worker-1",
    )
    assert result.returncode != 0
    assert "address of node worker-2" in result.stderr


# C: MASQUERADE takes the egress interface's address, in every mode --------------------------------
def _snat_by_endpoint(mode: str, source: str, packet: Packet) -> dict[str, tuple[str | None, str | None]]:
    cluster = load_paths([NODEPORT]).cluster
    evaluator = compile_mode(cluster, "worker-1", mode, seed=1).evaluator
    outcomes = evaluator.possible_outcomes(packet, source)  # type: ignore[union-attr]
    return {
        o.endpoint: (o.snat_source, o.snat_interface) for o in outcomes if o.kind == OutcomeKind.DELIVERED
    }


@pytest.mark.parametrize(
    ("source", "packet"),
    [
        (SourceKind.NODE, Packet("tcp", WORKER_1_IP, 40000, SHOP_IP, 80)),
        (SourceKind.EXTERNAL, Packet("tcp", "198.51.100.7", 40000, WORKER_1_IP, 30080)),
    ],
)
def test_every_mode_masquerades_to_the_egress_interface_address(source: str, packet: Packet) -> None:
    expected = {SHOP_A: (CNI0_WORKER_1, "cni0"), SHOP_B: (WORKER_1_IP, "eth0")}
    for mode in ("iptables", "nftables", "ipvs"):
        assert _snat_by_endpoint(mode, source, packet) == expected, mode


def test_nftables_trace_delivers_to_the_local_pod_instead_of_leaving_the_node(english: None) -> None:
    cluster = load_paths([NODEPORT]).cluster
    evaluator = compile_mode(cluster, "worker-1", "nftables", seed=1).evaluator
    trace = evaluator.evaluate(Packet("tcp", WORKER_1_IP, 40000, SHOP_IP, 80), SourceKind.NODE, [0])  # type: ignore[union-attr]
    deliver = [s for s in trace.steps if s.kind == StepKind.DELIVER][-1]
    assert deliver.detail["route"] == "pod" and deliver.detail["pod"] == "shop/shop-a"
    from kproxy_tutor.ui.trace_view import trace_lines

    text = " ".join(line.plain for line in trace_lines(trace))
    assert "delivered to Pod shop/shop-a" in text and "leaves the node" not in text


# D: --random-fully picks a random source port; without it the port is kept -----------------------
def _masquerade_steps(trace: Trace) -> list[dict]:
    return [dict(s.detail) for s in trace.steps if s.kind == StepKind.SNAT and s.detail.get("by") == "rule"]


def test_random_fully_masquerade_picks_a_random_port_in_every_mode() -> None:
    cluster = load_paths([NODEPORT]).cluster
    trace = TraceSession.from_cluster(cluster, seed=1).curl(WORKER_1_IP, "shop:80")
    packet = Packet("tcp", WORKER_1_IP, 40000, SHOP_IP, 80)
    nft = compile_mode(cluster, "worker-1", "nftables", seed=1).evaluator.evaluate(packet, SourceKind.NODE)  # type: ignore[union-attr]
    ipvs = compile_mode(cluster, "worker-1", "ipvs", seed=1).evaluator.evaluate(packet, SourceKind.NODE)  # type: ignore[union-attr]
    for mode, t in (("iptables", trace), ("nftables", nft), ("ipvs", ipvs)):
        (step,) = _masquerade_steps(t)
        port = int(step["to"].rpartition(":")[2])
        assert step["port"] == "random", mode
        assert port != 40000 and UNPRIVILEGED_PORTS[0] <= port <= UNPRIVILEGED_PORTS[1], mode
    # The reply comes back to the chosen port and conntrack restores the client's own.
    assert trace.reply is not None and trace.reply.destination == f"{WORKER_1_IP}:{trace.packet.src_port}"


def test_without_random_fully_the_free_source_port_is_kept() -> None:
    facts = "apiVersion: kproxy-tutor/v1\nkind: NodeFacts\nrandomFully: false\n"
    with open(NODEPORT, encoding="utf-8") as f:
        cluster = load_texts([(f.read(), NODEPORT), (facts, "facts.yaml")]).cluster
    session = TraceSession.from_cluster(cluster, seed=1)
    trace = session.curl(WORKER_1_IP, "shop:80")
    (step,) = _masquerade_steps(trace)
    assert step["port"] == "kept" and step["to"].endswith(f":{trace.packet.src_port}")
    packet = Packet("tcp", WORKER_1_IP, 40000, SHOP_IP, 80)
    (step,) = _masquerade_steps(
        compile_mode(cluster, "worker-1", "ipvs", seed=1).evaluator.evaluate(  # type: ignore[union-attr]
            packet, SourceKind.NODE
        )
    )
    assert step["port"] == "kept" and step["to"].endswith(":40000")
    # nftables mode writes "masquerade fully-random" whatever the node supports (as upstream does).
    (step,) = _masquerade_steps(
        compile_mode(cluster, "worker-1", "nftables", seed=1).evaluator.evaluate(  # type: ignore[union-attr]
            packet, SourceKind.NODE
        )
    )
    assert step["port"] == "random"


def test_a_taken_source_port_is_replaced_even_without_random_fully() -> None:
    facts = "apiVersion: kproxy-tutor/v1\nkind: NodeFacts\nrandomFully: false\n"
    with open(NODEPORT, encoding="utf-8") as f:
        cluster = load_texts([(f.read(), NODEPORT), (facts, "facts.yaml")]).cluster
    tracer = TraceSession.from_cluster(cluster, seed=1).tracer
    # Two outside clients, same source port, through worker-1's NodePort: both masquerade to the
    # same egress address, so once both land on the same endpoint the second tuple would clash.
    first = tracer.connect(
        Client(SourceKind.EXTERNAL, "198.51.100.7", "worker-1"), WORKER_1_IP, 30080, src_port=45000
    )
    (kept,) = _masquerade_steps(first)
    assert kept["port"] == "kept" and kept["to"].endswith(":45000")
    second = next(
        t
        for t in (
            tracer.connect(
                Client(SourceKind.EXTERNAL, f"198.51.100.{i}", "worker-1"), WORKER_1_IP, 30080, src_port=45000
            )
            for i in range(8, 40)
        )
        if t.outcome.endpoint == first.outcome.endpoint
    )
    (step,) = _masquerade_steps(second)
    assert step["to"].rpartition(":")[0] == kept["to"].rpartition(":")[0]
    assert step["port"] == "taken" and not step["to"].endswith(":45000")


def test_port_choice_follows_the_kernel() -> None:
    route = Route("pod", "cni0", CNI0_WORKER_1)
    packet = Packet("tcp", WORKER_1_IP, 45000, "10.244.1.7", 8080)
    rng = random.Random(3)
    assert masquerade(packet, route, False, rng).port_choice == "kept"
    taken = masquerade(packet, route, False, rng, lambda _ip, port: port == 45000)
    assert taken is not None and taken.port_choice == "taken" and taken.port != 45000
    fully = masquerade(packet, route, True, rng)
    assert fully is not None and fully.port_choice == "random" and fully.port_range == "1024-65535"
    low = masquerade(packet.replace(src_port=700), route, True, rng)
    assert low is not None and 600 <= low.port <= 1023


# E: hooks of locally generated packets, replies without NAT, the reasons and a ClusterIP's wrong port
def test_node_packets_go_output_then_postrouting_never_forward() -> None:
    for mode in ("iptables", "ipvs", "nftables"):
        text = _plain("-f", NODEPORT, "--from", "worker-1", "--to", "shop:80", "--seed", "1", "--mode", mode)
        assert "FORWARD, POSTROUTING" not in text and "forward, postrouting" not in text.lower(), mode
        assert "never passes FORWARD" in text, mode
    data = _json("-f", NODEPORT, "--from", "worker-1", "--to", "shop:80", "--seed", "1")
    kinds = [
        (s["kind"], s["table"], s["detail"].get("reroute"))
        for s in data["steps"]
        if s["direction"] == "request"
    ]
    reroute = kinds.index(("route", None, True))
    # The reroute after DNAT happens inside OUTPUT: after the nat rules, before the filter ones.
    assert any(t == "nat" for _, t, _r in kinds[:reroute]) and any(
        t == "filter" for _, t, _r in kinds[reroute:]
    )
    assert not any(t == "filter" for k, t, _r in kinds[:reroute] if k == "rule")
    route = data["steps"][next(i for i, s in enumerate(data["steps"]) if s["kind"] == "route")]
    assert "FORWARD" not in route["detail"]["next_hooks"]


def test_a_reply_on_a_node_that_did_no_nat_is_not_said_to_be_undone(english: None) -> None:
    cluster = load_paths([NODEPORT]).cluster
    session = TraceSession.from_cluster(cluster, seed=1)
    trace = next(
        t for t in (session.curl("shop-a", "shop:80") for _ in range(20)) if t.outcome.endpoint == SHOP_B
    )
    replies = {
        s.node: s.detail
        for s in trace.steps
        if s.kind == StepKind.CONNTRACK and s.direction == Direction.REPLY
    }
    assert replies["worker-2"]["nat"] is False and replies["worker-1"]["nat"] is True
    from kproxy_tutor.ui.trace_view import step_lines

    words = {
        s.node: " ".join(line.plain for line in step_lines(s))
        for s in trace.steps
        if s.kind == StepKind.CONNTRACK and s.direction == Direction.REPLY
    }
    assert "undone" not in words["worker-2"] and "nothing" in words["worker-2"]
    assert "undone" in words["worker-1"]


def test_masquerade_reason_for_an_outside_source_and_for_the_node_itself() -> None:
    node = _plain("-f", NODEPORT, "--from", "worker-1", "--to", "shop:80", "--seed", "1")
    assert "covers the node's own processes too" in node
    assert "would not come back through this node's conntrack" not in node
    outside = _plain(
        "-f", NODEPORT, "--from", "198.51.100.7", "--to", f"{SHOP_IP}:80", "--node", "worker-1", "--seed", "1"
    )
    assert "routed to this node from elsewhere" in outside and "conntrack undoes the DNAT" in outside


def test_wrong_port_of_a_live_cluster_ip_is_named_per_mode() -> None:
    args = ("-f", NODEPORT, "--from", "shop-b", "--to", f"{SHOP_IP}:81", "--seed", "1")
    iptables = _plain(*args)
    assert "Result: not a Service" not in iptables
    assert f"{SHOP_IP} is a ClusterIP (of Service shop/shop), but not on port 81" in iptables
    assert "no rule catches it (nftables mode rejects it)" in iptables
    nft = _plain(*args, "--mode", "nftables")
    assert "rejected (connection refused) by kube-proxy cluster-ips-check" in nft
    assert f"{SHOP_IP} is a ClusterIP (of Service shop/shop), but not on port 81" in nft
    data = _json(*args)
    assert data["outcome"] == "not_service" and data["wrong_port_of"] == "shop/shop"
    assert (
        _json("-f", NODEPORT, "--from", "shop-b", "--to", f"{SHOP_IP}:80", "--seed", "1")["wrong_port_of"]
        is None
    )
