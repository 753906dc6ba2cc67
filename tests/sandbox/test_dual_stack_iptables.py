"""iptables mode on a dual-stack node: one proxier per family, the IPv6 one writing ip6tables-restore
payloads as kube-proxy does (checked against goldens and the real ip6tables in a throwaway netns)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from netns import Namespace, network_namespace, unavailable_reason

from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.sandbox.iptables import Proxier, render_restore, render_save
from kproxy_tutor.sandbox.iptables.fixed import jump_rules
from kproxy_tutor.sandbox.iptables.parse import tokenize
from kproxy_tutor.sandbox.iptables.servicerules import INVALID_DROP_COUNTER, LOCALHOST_NODEPORT_COUNTER
from kproxy_tutor.sandbox.manifests import load_paths
from kproxy_tutor.sandbox.model import Deployment
from tests.foundation.helpers import run_tutor

from .helpers import GOLDEN, check_golden

DUAL = Path(__file__).parent / "data" / "dual-stack.yaml"
NODE = "worker-1"
HEADER = (
    "# What {tool} prints on node worker-1 after kube-proxy's first sync of tests/sandbox/data/dual-stack.yaml\n"
    "# ({family} proxier; date comment lines left out). Checked against the kernel below.\n"
)


def _proxier(family: str) -> tuple[Proxier, object]:
    cluster = load_paths([str(DUAL)]).cluster
    proxier = Proxier(cluster, NODE, family=family)
    return proxier, proxier.sync()


@pytest.mark.parametrize("family, tool", [(IPV4, "iptables-save"), (IPV6, "ip6tables-save")])
def test_dual_stack_save_goldens(family: str, tool: str, update_goldens: bool) -> None:
    proxier, _ = _proxier(family)
    text = render_save(proxier.kernel.ruleset)
    name = f"dual-stack.{family.lower()}.txt"
    check_golden(GOLDEN / name, text, update_goldens, HEADER.format(tool=tool, family=family))


def test_dual_stack_ipv6_restore_golden(update_goldens: bool) -> None:
    _, result = _proxier(IPV6)
    text = render_restore(result.payload)  # type: ignore[attr-defined]
    header = HEADER.format(tool="kube-proxy feeds to ip6tables-restore", family=IPV6)
    check_golden(GOLDEN / "dual-stack.ipv6.restore.txt", text, update_goldens, header)


def test_ipv6_payload_differs_from_ipv4_as_upstream() -> None:
    _, six = _proxier(IPV6)
    _, four = _proxier(IPV4)
    v6, v4 = render_restore(six.payload), render_restore(four.payload)  # type: ignore[attr-defined]
    # No localnet rule, no localhost NodePorts, ::1 excluded from the NodePort tail.
    assert "KUBE-FIREWALL" in v4 and "KUBE-FIREWALL" not in v6
    assert "localhost_nps_accepted_pkts" in v4 and "localhost_nps_accepted_pkts" not in v6
    assert "-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS" in v6
    # [addr]:port DNAT targets, the IPv6 cluster CIDR in detect-local, plain -j REJECT in the payload.
    assert re.search(r"-j DNAT --to-destination \[fd00:10:244:[0-9:]*\]:8080", v6)
    assert "! -s fd00:10:244::/56 -j KUBE-MARK-MASQ" in v6
    assert '"default/nobody has no endpoints" -m tcp -p tcp -d fd00:10:96::' in v6
    assert "--dport 81 -j REJECT\n" in v6
    # MASQUERADE --random-fully is written for IPv6 too.
    assert "-j MASQUERADE --random-fully" in v6
    # The single-stack IPv6 Service is only in the IPv6 proxier, the externalIPs split by family.
    assert "default/only6" in v6 and "default/only6" not in v4
    assert "2001:db8::10" in v6 and "203.0.113.10" not in v6 and "2001:db8::10" not in v4


def test_ipv6_save_shows_128_masks_and_icmp6_reject() -> None:
    proxier, _ = _proxier(IPV6)
    save = render_save(proxier.kernel.ruleset)
    assert "--reject-with icmp6-port-unreachable" in save and "icmp-port-unreachable" not in save
    assert "/128 -p tcp" in save and "/32" not in save
    assert "--mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" in save


def test_rules_shows_both_families_under_headings_on_a_dual_stack_node() -> None:
    result = run_tutor("--lang", "en", "rules", "-f", str(DUAL), "--node", NODE, "--table", "nat")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("# IPv4 proxier: iptables-save") < out.index("# IPv6 proxier: ip6tables-save")
    four, six = out.split("# IPv6 proxier: ip6tables-save\n")
    assert "fd00:" not in four and "10.96." not in six
    only6 = run_tutor(
        "--lang", "en", "rules", "-f", str(DUAL), "--node", NODE, "--family", "ipv6", "--table", "nat"
    )
    assert only6.returncode == 0, only6.stderr
    # One family: no heading, exactly the IPv6 section of the dual view.
    assert only6.stdout == six and "fd00:10:96::" in six
    # Kubernetes spells the family "IPv6": the option takes it in any case.
    spelled = run_tutor(
        "--lang", "en", "rules", "-f", str(DUAL), "--node", NODE, "--family", "IPv6", "--table", "nat"
    )
    assert spelled.returncode == 0 and spelled.stdout == six, spelled.stderr


def test_rules_family_option_is_checked_before_loading() -> None:
    result = run_tutor("--lang", "en", "rules", "-f", "missing.yaml", "--family", "ipv5")
    assert result.returncode == 2 and "use ipv4, ipv6 or both" in result.stderr


# Real kernel -----------------------------------------------------------------------------------------

_REASON = unavailable_reason(("ip", "ip6tables", "ip6tables-restore", "ip6tables-save", "iptables-restore"))
_COUNTERS = re.compile(r"\[\d+:\d+\]")
_TOOLS = {
    IPV4: ("iptables", "iptables-restore", "iptables-save"),
    IPV6: ("ip6tables", "ip6tables-restore", "ip6tables-save"),
}


@pytest.fixture
def netns() -> Namespace:
    if _REASON is not None:
        pytest.skip(_REASON)
    if shutil.which("nfacct") is None:
        pytest.skip("nfacct tool missing")
    with network_namespace("kpt6") as ns:
        yield ns


def _prepare(ns: Namespace, family: str) -> None:
    """What kube-proxy does before its first restore: nfacct counters, jump rules, canary chains."""
    tool = _TOOLS[family][0]
    for counter in (LOCALHOST_NODEPORT_COUNTER, INVALID_DROP_COUNTER):
        ns.run(["nfacct", "add", counter], check=False)
    for table, rule in jump_rules():
        ns.run([tool, "-w", "-t", table, "-N", rule.target.chain], check=False)  # type: ignore[union-attr]
        ns.run([tool, "-w", "-t", table, "-I", rule.chain, "1", *tokenize(rule.spelling or "")])
    for table in ("mangle", "nat", "filter"):
        ns.run([tool, "-w", "-t", table, "-N", "KUBE-PROXY-CANARY"])


def _kernel_save(ns: Namespace, family: str) -> str:
    text = ns.run([_TOOLS[family][2]]).stdout
    lines = [_COUNTERS.sub("[0:0]", line) for line in text.splitlines() if not line.startswith("#")]
    return "\n".join(lines) + "\n"


@pytest.mark.kernel
def test_kernel_loads_both_families_and_prints_our_save_renderings(netns: Namespace) -> None:
    cluster = load_paths([str(DUAL)]).cluster
    for family in (IPV4, IPV6):
        proxier = Proxier(cluster, NODE, family=family)
        result = proxier.sync()
        _prepare(netns, family)
        netns.run([_TOOLS[family][1], "--noflush"], stdin=render_restore(result.payload))
        assert _kernel_save(netns, family) == render_save(proxier.kernel.ruleset), family


@pytest.mark.kernel
def test_kernel_follows_ipv6_partial_syncs(netns: Namespace) -> None:
    cluster = load_paths([str(DUAL)]).cluster
    proxier = Proxier(cluster, NODE, family=IPV6)
    _prepare(netns, IPV6)
    netns.run(["ip6tables-restore", "--noflush"], stdin=render_restore(proxier.sync().payload))
    deployment = cluster.deployments[("default", "web")]
    for replicas in (1, 3, 0):
        cluster.apply_deployment(
            Deployment(
                deployment.namespace,
                deployment.name,
                replicas,
                deployment.selector,
                deployment.template_labels,
                deployment.ports,
            )
        )
        result = proxier.sync()
        assert not result.full
        netns.run(["ip6tables-restore", "--noflush"], stdin=render_restore(result.payload))
        assert _kernel_save(netns, IPV6) == render_save(proxier.kernel.ruleset)


ONE_POD = """\
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
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{containerPort: 8080}]}]}
status: {podIPs: [{ip: 10.244.0.5}, {ip: "fd00:10:244::5"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv6, IPv4]
  clusterIPs: ["fd00:10:96::80", 10.96.0.80]
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""
_SERVER = (
    "import socket\n"
    "s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('::', 8080)); s.listen(1); s.settimeout(10)\n"
    "c, peer = s.accept(); c.sendall(('pod answers ' + peer[0]).encode()); c.close()\n"
)
_CLIENT = (
    "import socket\n"
    "c = socket.create_connection(('fd00:10:96::80', 80), timeout=5)\n"
    "print(c.recv(100).decode())\n"
)


@pytest.mark.kernel
def test_real_ipv6_tcp_reaches_the_endpoint_the_ipv6_rules_name(netns: Namespace) -> None:
    """A node process connects to the IPv6 ClusterIP; our ip6tables-restore payload DNATs it to the Pod."""
    from kproxy_tutor.sandbox.manifests import load_texts

    cluster = load_texts([(ONE_POD, "one.yaml")]).cluster
    proxier = Proxier(cluster, "n1", family=IPV6)
    payload = render_restore(proxier.sync().payload)
    assert "-j DNAT --to-destination [fd00:10:244::5]:8080" in payload
    with network_namespace("kpt6pod") as pod:
        netns.run(["ip", "link", "add", "kpt6n", "type", "veth", "peer", "name", "kpt6p"])
        netns.run(["ip", "link", "set", "kpt6p", "netns", pod.name])
        netns.run(["ip", "addr", "add", "fd00:10:244::1/64", "dev", "kpt6n", "nodad"])
        netns.run(["ip", "link", "set", "kpt6n", "up"])
        netns.run(["ip", "link", "set", "lo", "up"])
        # The ClusterIP is routed like any off-node address; DNAT in nat OUTPUT then re-routes it.
        netns.run(["ip", "-6", "route", "add", "fd00:10:96::/112", "dev", "kpt6n"])
        pod.run(["ip", "addr", "add", "fd00:10:244::5/64", "dev", "kpt6p", "nodad"])
        pod.run(["ip", "link", "set", "kpt6p", "up"])
        pod.run(["ip", "link", "set", "lo", "up"])
        pod.run(["ip", "-6", "route", "add", "default", "via", "fd00:10:244::1"])
        _prepare(netns, IPV6)
        netns.run(["ip6tables-restore", "--noflush"], stdin=payload)
        server = subprocess.Popen(
            ["ip", "netns", "exec", pod.name, sys.executable, "-c", _SERVER],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            answer = ""
            for _ in range(50):  # until the server listens
                result = netns.run([sys.executable, "-c", _CLIENT], check=False)
                if result.returncode == 0:
                    answer = result.stdout.strip()
                    break
                time.sleep(0.05)
        finally:
            server.kill()
            server.wait()
    # Reached the Pod; a node process is not masqueraded (its source is the node's own address).
    assert answer == "pod answers fd00:10:244::1", answer
