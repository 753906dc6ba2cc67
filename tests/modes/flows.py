"""Packet-flow tables transcribed from upstream kube-proxy's nftables tests (runPacketFlowTests cases).

Source: kubernetes/kubernetes pkg/proxy/nftables/proxier_test.go at commit
81810de635aa13aa0a32992f6def3aa9d6025ebc. Each row: (fixture, case name, protocol, source IP,
destination IP, destination port, expected output, masquerade). Output as upstream writes it:
endpoints joined by ", ", or REJECT, DROP, or "" (not a Service: delivered as addressed).
"""

from __future__ import annotations

EXTERNAL = "203.0.113.2"
BLOCKED = "203.0.113.130"
NODE = "192.168.0.2"

FLOWS: list[tuple[str, str, str, str, str, int, str, bool]] = [
    ("cluster-ip-general", "simple clusterIP", "tcp", "10.180.0.2", "172.30.0.41", 80, "10.180.0.1:80", False),
    ("cluster-ip-general", "hairpin to cluster IP", "tcp", "10.180.0.1", "172.30.0.41", 80, "10.180.0.1:80", True),
    ("cluster-ip-general", "clusterIP with multiple endpoints", "tcp", "10.180.0.2", "172.30.0.42", 80,
     "10.180.0.1:80, 10.180.2.1:80", False),
    ("cluster-ip-general", "clusterIP with TargetPort", "tcp", "10.180.0.2", "172.30.0.42", 443,
     "10.180.0.1:8443, 10.180.2.1:8443", False),
    ("cluster-ip-general", "same port, TCP", "tcp", "10.180.0.2", "172.30.0.42", 53, "10.180.0.1:5353, 10.180.2.1:5353", False),
    ("cluster-ip-general", "same port, UDP", "udp", "10.180.0.2", "172.30.0.42", 53, "10.180.0.1:53, 10.180.2.1:53", False),
    ("cluster-ip-general", "same port, SCTP", "sctp", "10.180.0.2", "172.30.0.42", 53, "10.180.0.1:53, 10.180.2.1:53", False),
    ("cluster-ip-general", "TCP-only port does not match UDP traffic", "udp", "10.180.0.2", "172.30.0.42", 80, "REJECT", False),
    ("cluster-ip-general", "svc1 does not accept svc2's ports", "tcp", "10.180.0.2", "172.30.0.41", 443, "REJECT", False),
    ("cluster-ip-general", "packet to unallocated cluster ip", "tcp", "10.180.0.2", "172.30.0.50", 80, "DROP", False),
    ("load-balancer", "pod to cluster IP", "tcp", "10.0.0.2", "172.30.0.41", 80, "10.180.0.1:80", False),
    ("load-balancer", "external to nodePort", "tcp", EXTERNAL, NODE, 3001, "10.180.0.1:80", True),
    ("load-balancer", "nodePort bypasses LoadBalancerSourceRanges", "tcp", BLOCKED, NODE, 3001, "10.180.0.1:80", True),
    ("load-balancer", "accepted external to LB1", "tcp", EXTERNAL, "1.2.3.4", 80, "10.180.0.1:80", True),
    ("load-balancer", "accepted external to LB2", "tcp", EXTERNAL, "5.6.7.8", 80, "10.180.0.1:80", True),
    ("load-balancer", "blocked external to LB1", "tcp", BLOCKED, "1.2.3.4", 80, "DROP", False),
    ("load-balancer", "blocked external to LB2", "tcp", BLOCKED, "5.6.7.8", 80, "DROP", False),
    ("load-balancer", "pod to LB1 (blocked by LoadBalancerSourceRanges)", "tcp", "10.0.0.2", "1.2.3.4", 80, "DROP", False),
    ("load-balancer", "pod to LB2 (blocked by LoadBalancerSourceRanges)", "tcp", "10.0.0.2", "5.6.7.8", 80, "DROP", False),
    ("load-balancer", "node to LB1 (allowed by LoadBalancerSourceRanges)", "tcp", NODE, "1.2.3.4", 80, "10.180.0.1:80", True),
    ("load-balancer", "node to LB2 (allowed by LoadBalancerSourceRanges)", "tcp", NODE, "5.6.7.8", 80, "10.180.0.1:80", True),
    ("load-balancer", "same node to LB1, SNATted to LB1", "tcp", "1.2.3.4", "1.2.3.4", 80, "10.180.0.1:80", True),
    ("load-balancer", "same node to LB2, SNATted to LB2", "tcp", "5.6.7.8", "5.6.7.8", 80, "10.180.0.1:80", True),
    ("no-endpoints-reject", "pod to cluster IP with no endpoints", "tcp", "10.0.0.2", "172.30.0.41", 80, "REJECT", False),
    ("no-endpoints-reject", "external to external IP with no endpoints", "tcp", EXTERNAL, "192.168.99.11", 80, "REJECT", False),
    ("no-endpoints-reject", "pod to NodePort with no endpoints", "tcp", "10.0.0.2", NODE, 3001, "REJECT", False),
    ("no-endpoints-reject", "external to NodePort with no endpoints", "tcp", EXTERNAL, NODE, 3001, "REJECT", False),
    ("no-endpoints-reject", "pod to LoadBalancer IP with no endpoints", "tcp", "10.0.0.2", "1.2.3.4", 80, "REJECT", False),
    ("no-endpoints-reject", "external to LoadBalancer IP with no endpoints", "tcp", EXTERNAL, "1.2.3.4", 80, "REJECT", False),
    ("nodeports", "pod to cluster IP", "tcp", "10.0.0.2", "172.30.0.41", 80, "10.180.0.1:80, 10.180.2.1:80", False),
    ("nodeports", "external to nodePort", "tcp", EXTERNAL, NODE, 3001, "10.180.0.1:80, 10.180.2.1:80", True),
    ("nodeports", "node to nodePort", "tcp", NODE, NODE, 3001, "10.180.0.1:80, 10.180.2.1:80", True),
    ("nodeports", "secondary nodeIP ignores NodePorts", "tcp", EXTERNAL, "192.168.1.2", 3001, "", False),
    ("etp-local", "pod to cluster IP hits both endpoints", "tcp", "10.0.0.2", "172.30.0.41", 80, "10.180.0.1:80, 10.180.2.1:80", False),
    ("etp-local", "pod to external IP hits both endpoints", "tcp", "10.0.0.2", "192.168.99.11", 80, "10.180.0.1:80, 10.180.2.1:80", False),
    ("etp-local", "external to external IP hits only local endpoint", "tcp", EXTERNAL, "192.168.99.11", 80, "10.180.2.1:80", False),
    ("etp-local", "pod to LB IP hits both endpoints", "tcp", "10.0.0.2", "1.2.3.4", 80, "10.180.0.1:80, 10.180.2.1:80", False),
    ("etp-local", "external to LB IP hits only local endpoint", "tcp", EXTERNAL, "1.2.3.4", 80, "10.180.2.1:80", False),
    ("etp-local", "pod to NodePort hits both endpoints", "tcp", "10.0.0.2", NODE, 3001, "10.180.0.1:80, 10.180.2.1:80", False),
    ("etp-local", "external to NodePort hits only local endpoint", "tcp", EXTERNAL, NODE, 3001, "10.180.2.1:80", False),
    ("etp-cluster", "pod to cluster IP hits both endpoints", "tcp", "10.0.0.2", "172.30.0.41", 80, "10.180.0.1:80, 10.180.2.1:80", False),
    ("etp-cluster", "pod to external IP, masqueraded", "tcp", "10.0.0.2", "192.168.99.11", 80, "10.180.0.1:80, 10.180.2.1:80", True),
    ("etp-cluster", "external to external IP, masqueraded", "tcp", EXTERNAL, "192.168.99.11", 80, "10.180.0.1:80, 10.180.2.1:80", True),
    ("etp-cluster", "pod to LB IP, masqueraded", "tcp", "10.0.0.2", "1.2.3.4", 80, "10.180.0.1:80, 10.180.2.1:80", True),
    ("etp-cluster", "external to LB IP, masqueraded", "tcp", EXTERNAL, "1.2.3.4", 80, "10.180.0.1:80, 10.180.2.1:80", True),
    ("etp-cluster", "pod to NodePort, masqueraded", "tcp", "10.0.0.2", NODE, 3001, "10.180.0.1:80, 10.180.2.1:80", True),
    ("etp-cluster", "external to NodePort, masqueraded", "tcp", EXTERNAL, NODE, 3001, "10.180.0.1:80, 10.180.2.1:80", True),
]

#: Where a mode's kube-proxy genuinely behaves differently from nftables on a row of FLOWS:
#: (fixture, case name) → that mode's output (masquerade is False in all of them). Every other
#: row must come out of every mode exactly as upstream's nftables expectation says.
DIFFERENCES: dict[str, dict[tuple[str, str], str]] = {
    "iptables": {
        # iptables mode has no rule for other ports of a live ClusterIP, nor for unallocated
        # ClusterIPs: the packet is routed as addressed (kube-proxy-facts.md §2.8, KEP-3866).
        ("cluster-ip-general", "TCP-only port does not match UDP traffic"): "",
        ("cluster-ip-general", "svc1 does not accept svc2's ports"): "",
        ("cluster-ip-general", "packet to unallocated cluster ip"): "",
    },
    "ipvs": {
        # KUBE-IPVS-FILTER rejects new connections to a kube-ipvs0 address that match no Service
        # port (as nftables does), but an unallocated ClusterIP is on no interface: routed as addressed.
        ("cluster-ip-general", "packet to unallocated cluster ip"): "",
        # With externalTrafficPolicy: Local the virtual servers of external addresses hold only
        # the node's local endpoints, whoever sends (upstream syncEndpoint(…, ExternalPolicyLocal())):
        # IPVS mode has no short-circuit for in-cluster clients as the iptables and nftables modes do.
        ("etp-local", "pod to external IP hits both endpoints"): "10.180.2.1:80",
        ("etp-local", "pod to LB IP hits both endpoints"): "10.180.2.1:80",
        ("etp-local", "pod to NodePort hits both endpoints"): "10.180.2.1:80",
    },
}
