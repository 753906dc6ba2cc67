"""Nothing of a lab survives `down`, a failed or interrupted `up`, a crash before `down`, or a deleted namespace."""

from __future__ import annotations

import time

import pytest

from kproxy_tutor.errors import StateError, UsageError
from kproxy_tutor.lab import netns, servers, session
from kproxy_tutor.lab.session import Lab, remove_recorded
from kproxy_tutor.lab.state import lab_store, read_record, write_record

from .conftest import _our_namespaces, _our_servers, scenario_source

pytestmark = pytest.mark.kernel


def _assert_clean() -> None:
    assert _our_namespaces() == []
    assert _our_servers() == []
    assert read_record(lab_store()) is None


def test_down_removes_namespaces_servers_and_record(kernel: None) -> None:
    sources, node = scenario_source("db-service")
    lab = Lab.up(sources, "db-service", "iptables", node)
    try:
        # node, client, the coredns Pod and the three database Pods
        assert len(_our_namespaces()) == len(lab.plan.namespaces) == 6
        assert len(_our_servers()) == 3
    finally:
        assert lab.down() == (3, 6)
    _assert_clean()


@pytest.mark.parametrize("failure", [StateError("boom"), KeyboardInterrupt()])
def test_failed_or_interrupted_up_rolls_back(
    kernel: None, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    real_start = servers.start_server
    started: list[int] = []

    def start_then_fail(*args: object) -> servers.ServerRecord:
        if started:
            raise failure
        record = real_start(*args)  # type: ignore[arg-type]
        started.append(record.pid)
        return record

    monkeypatch.setattr(session.servers, "start_server", start_then_fail)
    sources, node = scenario_source("db-service")
    with pytest.raises(type(failure)):
        Lab.up(sources, "db-service", "iptables", node)
    assert started, "the failure must come after something was built"
    _assert_clean()


def test_down_cleans_up_after_a_crash(kernel: None) -> None:
    """A process that dies without `down` leaves lab.json behind; `lab down` finds everything from it."""
    sources, node = scenario_source("nodeport")
    lab = Lab.up(sources, "nodeport", "nftables", node)
    record = read_record(lab_store())
    assert record is not None and record.complete
    # A crash between starting a server and saving its PID: the record does not know it.
    record.servers = record.servers[:1]
    record.complete = False
    write_record(lab_store(), record)
    del lab
    with pytest.raises(UsageError):
        Lab.attach()  # an incomplete lab is not used, only cleaned up
    found, (stopped, deleted) = remove_recorded()
    assert found is not None and stopped == 2 and deleted == 4
    _assert_clean()


def test_server_exits_when_its_namespace_is_deleted(kernel: None) -> None:
    sources, node = scenario_source("nodeport")
    with Lab.up(sources, "nodeport", "iptables", node) as lab:
        entry = lab.record.servers[0]
        netns.delete_namespaces([entry.namespace])
        deadline = time.monotonic() + 5
        while servers.is_our_server(entry.pid, entry.namespace) and time.monotonic() < deadline:
            servers._gone(entry.pid)  # reaps it when this process is the parent
            time.sleep(0.05)
        assert not servers.is_our_server(entry.pid, entry.namespace), "the server outlived its namespace"
    _assert_clean()


def test_a_second_up_is_refused_while_a_lab_is_up(kernel: None) -> None:
    sources, node = scenario_source("nodeport")
    with Lab.up(sources, "nodeport", "iptables", node):
        with pytest.raises(UsageError) as caught:
            Lab.up(sources, "nodeport", "iptables", node)
        assert "already up" in caught.value.message
    _assert_clean()
