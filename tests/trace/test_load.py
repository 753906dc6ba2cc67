"""Many connections: the spread over endpoints matches the rules' probabilities; ClientIP affinity sticks until its timeout."""

from __future__ import annotations

from kproxy_tutor.sandbox.packet import OutcomeKind
from kproxy_tutor.sandbox.trace.load import run_load

from .conftest import make_lab

#: chi-square critical value for 2 degrees of freedom at p = 0.001.
CHI2_2DOF_P001 = 13.816


def test_ten_thousand_connections_spread_evenly() -> None:
    lab = make_lab("clusterip-multi", seed=2024)
    result = lab.session.load("client", "web", 10_000)
    endpoints = lab.endpoints({"app": "web"}, 8080)
    assert set(result.counts) == endpoints
    assert sum(result.counts.values()) == 10_000
    # The rules promise 1/3 each: 1/3, then 1/2 of the rest, then the rest.
    assert set(result.expected) == endpoints
    for share in result.expected.values():
        assert abs(share - 1 / 3) < 1e-6
    expected = 10_000 / 3
    chi2 = sum((count - expected) ** 2 / expected for count in result.counts.values())
    assert chi2 < CHI2_2DOF_P001, result.counts


def test_two_endpoint_shares_follow_the_statistic_rule() -> None:
    lab = make_lab("nodeport", seed=9)
    result = lab.session.load("203.0.113.9", "worker-1:30080", 4_000)
    assert result.expected == {"10.244.1.7:8080": 0.5, "10.244.2.9:8080": 0.5}
    first = result.counts["10.244.1.7:8080"]
    # Binomial(4000, 0.5): 4 standard deviations is ±126.
    assert abs(first - 2_000) < 126


def test_same_seed_same_choices_other_seed_other_choices() -> None:
    def endpoints(seed: int) -> list[str | None]:
        lab = make_lab("clusterip-multi", seed=seed)
        return [t.outcome.endpoint for t in lab.curls("client", "web", 30)]

    assert endpoints(1) == endpoints(1)
    assert endpoints(1) != endpoints(2)


def test_affinity_keeps_a_client_on_one_pod_until_the_timeout() -> None:
    lab = make_lab("session-affinity", seed=4)
    tracer = lab.session.tracer
    first = [t.outcome.endpoint for t in lab.curls("client", "shop/cart", 25)]
    assert len(set(first)) == 1
    # Just before the 600 s timeout (counted from the last connection) the client still sticks.
    tracer.advance(599)
    assert lab.session.curl("client", "shop/cart").outcome.endpoint == first[0]
    # After the timeout the recent entry is reaped and the statistic rules choose again; with two
    # endpoints a new choice differs half the time, so within 20 timeouts one must differ.
    seen = set()
    for _ in range(20):
        tracer.advance(601)
        seen.add(lab.session.curl("client", "shop/cart").outcome.endpoint)
    assert seen == {"10.244.1.11:8080", "10.244.1.9:8080"}


def test_affinity_is_per_client() -> None:
    lab = make_lab("session-affinity", seed=8)
    chosen = {}
    for source in ("client", "client-2", "worker-1", "worker-2"):
        picks = {t.outcome.endpoint for t in lab.curls(source, "shop/cart", 10)}
        assert len(picks) == 1
        chosen[source] = picks.pop()
    # If affinity were remembered per Service instead of per client address, all four would share one.
    assert len(set(chosen.values())) == 2, "four clients, two endpoints: both are used"


def test_affinity_load_reports_sticky_connections() -> None:
    lab = make_lab("session-affinity", seed=4)
    result = lab.session.load("client", "shop/cart", 200)
    assert len(result.counts) == 1
    assert result.sticky == 199


def test_endpointless_service_load_is_all_rejected() -> None:
    lab = make_lab("no-endpoints", seed=1)
    client, destination = lab.session.resolve("client", "ghost")
    result = run_load(lab.session.tracer, client, destination.ip, destination.port, destination.protocol, 50)
    assert result.counts == {OutcomeKind.REJECTED: 50}
    assert result.expected == {}


def test_a_source_port_that_comes_round_again_is_a_new_connection() -> None:
    # 21,000 ephemeral ports: the 21,001st connection reuses the first one's port. It must go
    # through the nat rules again (a new SYN starts a new conntrack entry), in every mode.
    from kproxy_tutor.sandbox.packet import StepKind
    from kproxy_tutor.sandbox.trace.session import TraceSession

    for mode in ("iptables", "nftables", "ipvs"):
        lab = make_lab("clusterip-multi", seed=3)
        session = TraceSession.from_cluster(lab.cluster, seed=3, mode=mode)
        first = session.curl("client", "web")
        while session.tracer.allocate_port() != first.packet.src_port - 1 + 21_000:
            pass
        again = session.curl("client", "web")
        assert again.packet.src_port == first.packet.src_port, mode
        states = [s.detail.get("state") for s in again.steps if s.kind == StepKind.CONNTRACK]
        assert states[0] == "new", (mode, states)
        assert again.outcome.kind == OutcomeKind.DELIVERED, mode
