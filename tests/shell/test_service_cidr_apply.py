"""``kubectl apply`` of ServiceCIDR objects in the shell: later allocations, nftables' unallocated-ClusterIP rule, listing, refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml


def _apply(cidrs: str, name: str = "extra", api: str = "networking.k8s.io/v1") -> str:
    return (
        "kubectl apply -f -\n"
        f"apiVersion: {api}\nkind: ServiceCIDR\nmetadata: {{name: {name}}}\nspec: {{cidrs: [{cidrs}]}}\nEOF\n"
    )


def _rule(session) -> str:  # type: ignore[no-untyped-def]
    chain = session.backend.current.chains["cluster-ips-check"]
    return next(str(rule) for rule in chain.rules if "unallocated" in str(rule))


def test_a_new_service_cidr_joins_the_nftables_drop_rule(run_shell: Callable) -> None:
    code, text, session = run_shell("mode nftables\nwatch on\n" + _apply("10.200.0.0/16"), "db-service")
    assert code == 0, text
    assert "servicecidr.networking.k8s.io/extra created" in text
    # kube-proxy's ServiceCIDR informer delivers the object; the next sync rewrites the rule.
    assert "ADDED    ServiceCIDR extra  cidrs=10.200.0.0/16" in text
    assert "~ cluster-ips-check (chain rewritten)" in text
    assert "+ ip daddr { 10.96.0.0/12, 10.200.0.0/16 } drop" in text.replace(" , ", ", ")
    assert "10.200.0.0/16" in _rule(session)
    code, text, _ = run_shell("kubectl get servicecidrs", session=session)
    lines = text.splitlines()[1:]
    assert lines[0].split() == ["NAME", "CIDRS"]
    assert [line.split() for line in lines[1:]] == [
        ["extra", "10.200.0.0/16"],
        ["kubernetes", "10.96.0.0/12"],
    ]
    code, text, _ = run_shell("kubectl get servicecidr extra -o yaml", session=session)
    manifest = yaml.safe_load("".join(text.splitlines(keepends=True)[1:]))
    assert manifest == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "ServiceCIDR",
        "metadata": {"name": "extra"},
        "spec": {"cidrs": ["10.200.0.0/16"]},
    }


def test_upgrading_the_default_service_cidr_to_dual_stack_changes_later_allocations(
    run_shell: Callable,
) -> None:
    service = (
        "kubectl apply -f -\napiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
        "spec: {ipFamilyPolicy: PreferDualStack, ports: [{port: 80}]}\nEOF\n"
    )
    code, text, session = run_shell(service, "db-service")
    assert code == 0 and len(session.cluster.services[("default", "x")].cluster_ips) == 1
    code, text, session = run_shell(
        _apply('10.96.0.0/12, "fd00:10:96::/112"', "kubernetes") + service,
        "db-service",
    )
    assert code == 0, text
    assert "servicecidr.networking.k8s.io/kubernetes configured" in text
    ips = session.cluster.services[("default", "x")].cluster_ips
    assert len(ips) == 2 and ips[1].startswith("fd00:10:96::")


def test_changed_ranges_and_other_api_groups_are_refused_and_change_nothing(run_shell: Callable) -> None:
    code, _text, session = run_shell(_apply("10.200.0.0/16"), "db-service")
    assert code == 0
    before = dict(session.cluster.service_cidr_objects)
    code, text, _ = run_shell(_apply("10.201.0.0/16"), session=session)
    assert code != 0 and "spec.cidrs cannot be changed" in text and "It holds 10.200.0.0/16" in text
    code, text, _ = run_shell(_apply("10.202.0.0/16", "other", "networking.k8s.io/v1alpha9"), session=session)
    assert code != 0 and "apiVersion networking.k8s.io/v1alpha9" in text
    code, text, _ = run_shell(_apply('10.203.0.0/16, "10.204.0.0/16"', "pair"), session=session)
    assert code != 0 and "Traceback" not in text
    assert dict(session.cluster.service_cidr_objects) == before
    # The same ranges again are no change (kubectl says "unchanged").
    code, text, _ = run_shell(_apply("10.200.0.0/16"), session=session)
    assert code == 0 and "servicecidr.networking.k8s.io/extra unchanged" in text


def test_refusals_are_translated(run_shell: Callable) -> None:
    code, _text, session = run_shell(_apply("10.200.0.0/16"), "db-service")
    code, text, _ = run_shell(_apply("10.201.0.0/16"), session=session, lang="ru")
    assert code != 0 and "spec.cidrs cannot be changed" not in text and "ServiceCIDR extra" in text


def test_save_and_load_keep_applied_service_cidrs(run_shell: Callable, tmp_path: Path) -> None:
    path = tmp_path / "state.yaml"
    code, text, _session = run_shell(_apply("10.200.0.0/16") + f"save {path}", "db-service")
    assert code == 0, text
    code, text, restored = run_shell(f"load {path}")
    assert code == 0, text
    assert restored.cluster.service_cidrs() == ("10.96.0.0/12", "10.200.0.0/16")
