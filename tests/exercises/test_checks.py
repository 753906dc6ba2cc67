"""Checks read the sandbox, and answers are computed from the rules, never typed into the content."""

from __future__ import annotations

import pytest

from kproxy_tutor.exercises.answers import expected_values, integer_of, number_of
from kproxy_tutor.exercises.checks import run_check
from kproxy_tutor.exercises.runner import ExerciseRun
from tests.exercises.conftest import exercise


def scaled_run(replicas: int) -> ExerciseRun:
    run = ExerciseRun(exercise("how-scale-probability"))
    run.run_lines([f"kubectl scale deployment database --replicas {replicas}"])
    return run


@pytest.mark.parametrize("typed", ["0.2500000000", "0.25", "1/4", "25%", "0,25", "0.25000000000"])
def test_probability_answers_that_mean_a_quarter_pass(typed: str) -> None:
    run = scaled_run(5)
    run.give_answer(typed)
    assert all(r.passed for r in run.evaluate())


@pytest.mark.parametrize("typed", ["0.2", "1/5", "0.3333333333", "quarter"])
def test_wrong_probability_answers_fail_with_a_reason(typed: str) -> None:
    run = scaled_run(5)
    run.give_answer(typed)
    results = run.evaluate()
    assert results[0].passed and not results[1].passed
    assert results[1].reason == "Your answer {value} is not right."


@pytest.mark.parametrize(("replicas", "index"), [(5, 2), (4, 1), (3, 2), (6, 4)])
def test_expected_probability_follows_the_reference_recipe(replicas: int, index: int) -> None:
    run = scaled_run(replicas)
    expect = {"probability": {"service": "db-service", "index": index}}
    # kube-proxy: fmt.Sprintf("%0.10f", 1.0/float64(n-i)) for the i-th endpoint counting from zero.
    assert expected_values(run.state, expect) == ("%0.10f" % (1.0 / (replicas - (index - 1))),)


def test_the_same_answer_check_fails_when_the_cluster_changes() -> None:
    run = scaled_run(5)
    run.give_answer("0.25")
    assert run.evaluate()[1].passed
    run.run_lines(["kubectl scale deployment database --replicas 3"])
    assert not run.evaluate()[1].passed  # now 0.5: the expectation is recomputed from the rules


def test_numbers_are_read_leniently() -> None:
    assert number_of("1/3") == pytest.approx(1 / 3)
    assert number_of("abc") is None and number_of("1/0") is None
    assert integer_of("0x00004000/0x00004000") == 16384 == integer_of("16384")


def test_check_failures_name_the_reason() -> None:
    run = ExerciseRun(exercise("network-expose-db"))
    run.run_lines(["kubectl expose deployment database --name db-service --port 5433"])
    first, endpoints, trace = run.evaluate()
    assert not first.passed and first.params["have"] == "5433/TCP"
    assert endpoints.passed
    assert not trace.passed and trace.reason.startswith("A request from {source} to {target} cannot")


def test_affinity_check_fails_without_affinity_and_passes_with_it() -> None:
    run = ExerciseRun(exercise("how-client-affinity"))
    params = {"service": "cart", "from": "client", "n": 8}
    assert not run_check(run.state, "affinity_sticky", params).passed
    run.run_lines(exercise("how-client-affinity").solution)
    assert run_check(run.state, "affinity_sticky", params).passed


def test_traced_counts_only_the_learners_own_curls() -> None:
    run = ExerciseRun(exercise("how-external-masquerade"))
    params = {"service": "web", "from": "external", "masquerade": True}
    assert not run_check(run.state, "traced", params).passed
    run.run_lines(["curl web --from web"])  # a Pod inside the cluster: not the request asked for
    assert not run_check(run.state, "traced", params).passed
    run.run_lines(["curl 192.168.1.12:30080 --from external"])
    assert run_check(run.state, "traced", params).passed
    run.run_lines(["reset"])
    assert not run_check(run.state, "traced", params).passed


def test_mode_checks_read_the_session_mode() -> None:
    run = ExerciseRun(exercise("kubeadm-nftables-services"))
    assert run_check(run.state, "mode_is", {"mode": "iptables"}).passed
    assert not run_check(run.state, "mode_is", {"mode": "nftables"}).passed
    assert run_check(run.state, "chain_present", {"chain": "services", "mode": "nftables"}).passed
    assert run_check(run.state, "chain_absent", {"chain": "KUBE-SERVICES", "mode": "nftables"}).passed
    assert run_check(run.state, "chain_present", {"service": "db-service", "kind": "svc"}).passed


def test_nft_listing_in_the_exercise_shell() -> None:
    from kproxy_tutor.shell.output import Verbatim
    from kproxy_tutor.shell.script import Block

    run = ExerciseRun(exercise("kubeadm-nftables-services"))
    run.run_lines(["mode nftables"])
    assert run_check(run.state, "mode_is", {"mode": "nftables"}).passed
    listing = run.execute(Block("nft list table ip kube-proxy"))
    text = "".join(o.text for o in listing if isinstance(o, Verbatim))
    assert "chain services {" in text
    assert expected_values(run.state, {"nft_replacement": {}}) == ("services", "service-ips")
