"""The kernel lab on a dual-stack cluster: IPv6 addresses in every namespace, both proxiers' rules, real IPv6 TCP.

The layout part needs no kernel. The kernel part builds one small lab per mode (a node with an
IPv4 and an IPv6 InternalIP, two Pods with an address of each family, a RequireDualStack
NodePort Service) and connects to the Service's IPv6 ClusterIP and IPv6 NodePort from the client
namespace and from a Pod: the Pods' servers answer, and the kernel's own records (conntrack,
ip6tables' rule counters) account for every connection.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from kproxy_tutor.errors import UsageError
from kproxy_tutor.lab.measure import curl
from kproxy_tutor.lab.plan import make_plan, used_addresses
from kproxy_tutor.lab.session import Lab
from kproxy_tutor.lab.system import in_netns
from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.manifests import load_texts
from tests.foundation.helpers import run_tutor
from tests.sandbox.test_dual_stack import _clusters

DUAL = """\
apiVersion: kproxy-tutor/v1
kind: ClusterNetwork
serviceCIDR: 10.96.0.0/12,fd00:10:96::/112
podCIDR: 10.244.0.0/16,fd00:10:244::/56
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clusterCIDR: 10.244.0.0/16,fd00:10:244::/56
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.0.2}, {type: InternalIP, address: "fd00:192:168::2"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: default}
spec:
  ipFamilyPolicy: RequireDualStack
  selector: {app: nobody}
  ports: [{port: 81}]
"""
#: Two Pods with equal shares: 20 connections miss one of them with probability 2 * 2**-20.
COUNT = 20


def _cluster():  # type: ignore[no-untyped-def]
    return load_texts([(DUAL, "dual.yaml")]).cluster


def test_dual_stack_plan_gives_every_namespace_an_ipv6_address() -> None:
    cluster = _cluster()
    plan = make_plan(cluster, "n1", "kptlab-1-abcdef-")
    assert plan.families == (IPV4, IPV6)
    assert plan.node_ips == ("192.168.0.2",) and plan.node_ips6 == ("fd00:192:168::2",)
    # The client sits in the node's IPv6 /64 too, on an address nobody in the cluster has.
    assert ipaddress.ip_address(plan.client_ip6) in ipaddress.ip_network("fd00:192:168::/64")
    assert plan.client_ip6 != "fd00:192:168::2"
    pods = {p.ip(IPV4): p.ip(IPV6) for p in cluster.pods.values()}
    assert {h.ip: h.ip6 for h in plan.hosts} == pods and all(pods.values())
    for host in plan.hosts:
        assert ipaddress.ip_address(host.gateway6) in ipaddress.ip_network("fd00:10:244::/64")
        assert host.ips == (host.ip, host.ip6)
        assert plan.host_by_ip(host.ip6) == host
    assert not {h.ip6 for h in plan.hosts} & set(plan.gateways())


ONLY6 = """\
apiVersion: kproxy-tutor/v1
kind: ClusterNetwork
serviceCIDR: fd00:10:96::/112
podCIDR: fd00:10:244::/56
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: "fd00:192:168::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
"""


def test_an_ipv6_only_plan_keys_its_hosts_by_their_ipv6_address() -> None:
    cluster = load_texts([(ONLY6, "v6.yaml")]).cluster
    plan = make_plan(cluster, "n1", "kptlab-1-abcdef-")
    assert plan.families == (IPV6,) and plan.node_ips6 == ("fd00:192:168::2",)
    (host,) = plan.hosts
    assert ":" in host.ip and host.ip6 == "" and host.ips == (host.ip,)
    assert ipaddress.ip_address(host.gateway) in ipaddress.ip_network("fd00:10:244::/64")
    assert host.tcp_ports == (8080,)


def test_lab_curl_checks_the_family_before_attaching() -> None:
    result = run_tutor("--lang", "en", "lab", "curl", "web", "--family", "ipv5")
    assert result.returncode == 2 and "use ipv4 or ipv6" in result.stderr and "Traceback" not in result.stderr


def _dnat_total(report) -> int:  # type: ignore[no-untyped-def]
    return sum(r.packets for r in report.counters or () if "-j DNAT" in r.rule)


@pytest.mark.kernel
@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_real_ipv6_tcp_to_a_dual_stack_service(kernel: None, mode: str) -> None:
    with Lab.up([(DUAL, "dual.yaml")], "dual", mode, "n1") as lab:
        service = lab.cluster.services[("default", "web")]
        six, node_port = service.cluster_ip_of(IPV6), service.ports[0].node_port
        pods = {h.name for h in lab.plan.hosts}
        node = lab.plan.node_namespace
        if mode == "iptables":
            # Both proxiers' rules are in the kernel, each in its own family's tables.
            from kproxy_tutor.sandbox.iptables import render_save

            v6 = in_netns(node, ["ip6tables-save", "-t", "nat"]).stdout
            assert f"-d {six}/128" in v6 and service.cluster_ip_of(IPV4) not in v6
            ours = render_save(lab.loader.proxiers[IPV6].kernel.ruleset)
            assert f"-d {six}/128" in ours
        else:
            tables = in_netns(node, ["nft", "list", "tables"]).stdout
            assert "table ip kube-proxy" in tables and "table ip6 kube-proxy" in tables

        targets = [
            (f"[{six}]:80", None),
            ("web:http", IPV6),
            (f"[{lab.plan.node_ips6[0]}]:{node_port}", None),
        ]
        for target, family in targets:
            report = curl(lab, target, COUNT, family=family)
            answered = report.result.answered
            assert set(answered) == pods and sum(answered.values()) == COUNT, (target, report.result.keys)
            assert report.ip != service.cluster_ip_of(IPV4) and report.source_ip == lab.plan.client_ip6
            assert report.conntrack == answered, (target, report.conntrack)
            if mode == "iptables" and report.service is not None:  # a ClusterIP: its Service's counters
                assert report.service == "default/web" and _dnat_total(report) == COUNT, report.counters
            # The IPv6 tracer, over the IPv6 rules the lab loaded, expects the same Pods at equal shares.
            prediction = report.prediction
            assert prediction.problem is None, prediction.problem
            assert set(prediction.counts) == pods and prediction.shares == dict.fromkeys(pods, 0.5)

        # No endpoints: the IPv6 REJECT (icmp6-port-unreachable) refuses at once, as over a real link.
        nobody = lab.cluster.services[("default", "nobody")].cluster_ip_of(IPV6)
        started = time.monotonic()
        refused = curl(lab, f"[{nobody}]:81", 5, connect_timeout=2.0)
        assert refused.result.keys == ["refused"] * 5 and time.monotonic() - started < 1.5
        assert refused.prediction.counts == {"refused": 5}, refused.prediction

        # From a Pod: it connects from its own IPv6 address; the IPv4 ClusterIP still works beside it.
        pod = lab.plan.hosts[0]
        report = curl(lab, f"[{six}]:80", COUNT, from_=pod.name)
        assert report.source_ip == pod.ip6 and set(report.result.answered) == pods
        assert report.prediction.problem is None and set(report.prediction.counts) <= pods
        four = curl(lab, "web:http", COUNT)
        assert set(four.result.answered) == pods and Counter(four.conntrack) == four.result.answered

        # kubectl scale: one partial sync of both proxiers; the new Pod gets its IPv6 address and answers.
        grown = lab.scale("web", 3)
        assert (
            len(grown.added) == 1 and not grown.load.full and grown.load.updated_services == ("default/web",)
        )
        (new,) = (h for h in lab.plan.hosts if h.name == grown.added[0])
        assert new.ip6 and lab.cluster.pods[tuple(new.name.split("/"))].ip(IPV6) == new.ip6
        report = curl(lab, f"[{six}]:80", 2 * COUNT)
        assert set(report.result.answered) == pods | {new.name}, report.result.answered


@pytest.mark.kernel
@pytest.mark.parametrize("mode", ["iptables", "nftables"])
def test_an_ipv6_only_lab_answers_from_the_first_connection(kernel: None, mode: str) -> None:
    """Right after lab up: no connection waits for duplicate address detection on the new veths."""
    with Lab.up([(ONLY6, "v6.yaml")], "v6", mode, "n1") as lab:
        assert lab.plan.families == (IPV6,)
        report = curl(lab, "web", COUNT)
        assert report.result.keys == ["default/web"] * COUNT, report.result.keys
        assert report.prediction.counts == {"default/web": COUNT}, report.prediction
        with pytest.raises(UsageError) as caught:
            curl(lab, "10.96.0.1:80")
        assert "IPv6-only" in caught.value.message


#: The same cluster without IPv6: an IPv4 node, single-stack Services.
ONLY4 = (
    DUAL.replace("10.96.0.0/12,fd00:10:96::/112", "10.96.0.0/12")
    .replace("10.244.0.0/16,fd00:10:244::/56", "10.244.0.0/16")
    .replace(', {type: InternalIP, address: "fd00:192:168::2"}', "")
    .replace("  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv4, IPv6]\n", "")
    .replace("  ipFamilyPolicy: RequireDualStack\n", "")
)


@pytest.mark.kernel
def test_an_ipv4_lab_refuses_ipv6_targets_and_manifests(kernel: None) -> None:
    with Lab.up([(ONLY4, "v4.yaml")], "v4", "iptables", "n1") as lab:
        assert lab.plan.families == (IPV4,) and not lab.plan.node_ips6
        assert all(not h.ip6 for h in lab.plan.hosts)
        with pytest.raises(UsageError) as caught:
            curl(lab, "[fd00::1]:80")
        assert "no IPv6" in caught.value.message
        # New manifests with IPv6 would need new addresses in every namespace: refused, nothing changed.
        before = lab.plan
        with pytest.raises(UsageError) as caught:
            lab.replace_manifests([(DUAL, "dual.yaml")], "dual")
        assert "IP families (IPv4 → IPv4, IPv6)" in str(caught.value) and lab.plan == before
        assert set(curl(lab, "web:http", COUNT).result.answered) == {h.name for h in lab.plan.hosts}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_clusters())
def test_random_dual_stack_clusters_give_plans_the_kernel_takes(text: str) -> None:
    """Every node of a random IPv4/IPv6/dual-stack cluster: a plan with one host per address, no clashes."""
    cluster = load_texts([(text, "random.yaml")]).cluster
    taken = used_addresses(cluster)
    for node in cluster.nodes:
        plan = make_plan(cluster, node, "kptlab-1-abcdef-")
        assert plan.families == cluster.proxier_families(node)
        assert bool(plan.node_ips6) == (IPV6 in plan.families)
        assert len(set(plan.namespaces)) == len(plan.namespaces)
        assert len({h.node_veth for h in plan.hosts}) == len(plan.hosts)
        host_ips = [ip for h in plan.hosts for ip in h.ips]
        assert len(set(host_ips)) == len(host_ips) and not set(host_ips) & set(plan.gateways())
        assert plan.client_ip not in taken and plan.client_ip6 not in taken
        if plan.client_ip6:
            uplink = ipaddress.ip_network(f"{plan.node_ips6[0]}/64", strict=False)
            assert ipaddress.ip_address(plan.client_ip6) in uplink
        for host in plan.hosts:
            for ip, gateway in host.addresses:
                assert (":" in ip) == (":" in gateway)
        # Every endpoint address of a family the lab loads has a namespace that answers for it.
        for slice_ in cluster.endpoint_slices.values():
            if slice_.address_type in plan.families:
                for endpoint in slice_.endpoints:
                    assert all(plan.host_by_ip(a) is not None for a in endpoint.addresses)
