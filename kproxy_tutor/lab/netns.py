"""Create and remove the lab's network namespaces, veth links, addresses and routes from a :class:`LabPlan`.

Commands go to ``ip -batch`` so that a lab of a dozen Pods builds in a handful of processes.
Every ``ip`` command here runs with ``-n NAMESPACE`` (inside one of the lab's namespaces) or
is ``netns add|del`` of a name that starts with the lab's prefix; a veth is always created
inside the node namespace with its peer moved straight into a Pod or the client namespace, so
no interface ever appears in the caller's own namespace.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from kproxy_tutor.lab.plan import UPLINK, UPLINK_PREFIX, HostPlan, LabPlan
from kproxy_tutor.lab.state import PREFIX_ROOT
from kproxy_tutor.lab.system import in_netns, list_namespaces, run
from kproxy_tutor.sandbox.families import IPV4, IPV6

#: What a node with kube-proxy has: forwarding on; route_localnet for localhost NodePorts;
#: rp_filter off because several veths share one gateway address; no ICMP redirects between
#: Pods that all hang off one node. A real node also limits ICMP errors (about one a second per
#: client after a burst); the lab lifts that limit so every REJECT answers at once.
NODE_SYSCTLS = (
    "net.ipv4.icmp_ratelimit=0",
    "net.ipv4.icmp_msgs_burst=10000",
    "net.ipv4.ip_forward=1",
    "net.ipv4.conf.all.route_localnet=1",
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
    "net.ipv4.conf.all.send_redirects=0",
    "net.ipv4.conf.default.send_redirects=0",
)
#: The same for IPv6, in the lab's node namespace only (never the caller's): forwarding on
#: (kube-proxy's rules DNAT Pods' and the client's packets to other Pods), no redirects, and
#: no ICMPv6 rate limit, so every ip6tables REJECT answers at once.
NODE_SYSCTLS_IPV6 = (
    "net.ipv6.conf.all.forwarding=1",
    "net.ipv6.icmp.ratelimit=0",
)


def _batch(lines: Sequence[str], namespace: str | None = None, force: bool = False) -> None:
    if not lines:
        return
    argv = ["ip"] + (["-n", namespace] if namespace else []) + (["-force"] if force else []) + ["-batch", "-"]
    run(argv, stdin="\n".join(lines) + "\n", check=not force)


def add_namespaces(names: Iterable[str]) -> None:
    _batch([f"netns add {name}" for name in names])


#: Set in each of the lab's namespaces before its links exist, when the lab has IPv6: the kernel's
#: own link-local address on a new veth would be "tentative" for a second or two (duplicate address
#: detection), and until then the node cannot send a neighbour solicitation for a packet it forwards
#: (the source must be a usable link-local address), so the first connections would wait for the
#: SYN to be sent again. The addresses the lab adds itself carry ``nodad``.
NO_DAD_SYSCTLS = ("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")


def prepare_ipv6(names: Iterable[str]) -> None:
    """No duplicate address detection in these (new, still empty) namespaces of the lab."""
    for name in names:
        in_netns(name, ["sysctl", "-q", "-w", *NO_DAD_SYSCTLS])


def _prefix_len(ip: str) -> str:
    family = IPV6 if ":" in ip else IPV4
    return str(ipaddress.ip_network(f"{ip}/{UPLINK_PREFIX[family]}", strict=False).prefixlen)


def _addr(ip: str, prefix: str, dev: str) -> str:
    """``addr add``; IPv6 addresses with ``nodad``, so they are usable at once (no duplicate detection wait)."""
    return f"addr add {ip}/{prefix} dev {dev}" + (" nodad" if ":" in ip else "")


def _mark(plan: LabPlan) -> str:
    return f"link set lo alias {plan.mark}"


def build_node(plan: LabPlan) -> None:
    """The node namespace, its uplink to the client namespace, and the client's addresses."""
    node, client = plan.node_namespace, plan.client_namespace
    lines = [_mark(plan), "link set lo up", f"link add {UPLINK} type veth peer name {UPLINK} netns {client}"]
    lines += [_addr(ip, _prefix_len(ip), UPLINK) for ip in plan.all_node_ips]
    # Everything the node does not know goes "out" to the client namespace, which does not forward
    # it: like a real node's default route, and no packet can leave the lab's namespaces.
    lines += [f"link set {UPLINK} up", f"route add default via {plan.client_ip} dev {UPLINK}"]
    if plan.client_ip6:
        lines.append(f"route add default via {plan.client_ip6} dev {UPLINK}")
    _batch(lines, node)
    sysctls = NODE_SYSCTLS + (NODE_SYSCTLS_IPV6 if plan.node_ips6 else ())
    in_netns(node, ["sysctl", "-q", "-w", *sysctls])
    client_lines = [
        _mark(plan),
        "link set lo up",
        _addr(plan.client_ip, _prefix_len(plan.client_ip), UPLINK),
    ]
    if plan.client_ip6:
        client_lines.append(_addr(plan.client_ip6, _prefix_len(plan.client_ip6), UPLINK))
    client_lines += [f"link set {UPLINK} up", f"route add default via {plan.node_ips[0]} dev {UPLINK}"]
    if plan.client_ip6:
        client_lines.append(f"route add default via {plan.node_ips6[0]} dev {UPLINK}")
    _batch(client_lines, client)


def add_hosts(plan: LabPlan, hosts: Sequence[HostPlan]) -> None:
    """Wire Pod namespaces (already added) to the node: a veth each, the Pod IPs as /32 (/128), routes both ways."""
    node_lines = []
    for host in hosts:
        node_lines.append(f"link add {host.node_veth} type veth peer name {UPLINK} netns {host.namespace}")
        node_lines += [_addr(gateway, _host_len(gateway), host.node_veth) for _, gateway in host.addresses]
        node_lines.append(f"link set {host.node_veth} up")
        node_lines += [
            f"route add {ip}/{_host_len(ip)} dev {host.node_veth} scope link" for ip, _ in host.addresses
        ]
    _batch(node_lines, plan.node_namespace)
    for host in hosts:
        lines = [_mark(plan), "link set lo up"]
        lines += [_addr(ip, _host_len(ip), UPLINK) for ip, _ in host.addresses]
        lines.append(f"link set {UPLINK} up")
        for _, gateway in host.addresses:
            lines += [
                f"route add {gateway} dev {UPLINK} scope link",
                f"route add default via {gateway} dev {UPLINK}",
            ]
        _batch(lines, host.namespace)


def _host_len(ip: str) -> str:
    return "128" if ":" in ip else "32"


def delete_namespaces(names: Iterable[str]) -> None:
    """Remove the namespaces that exist; the veths inside them go with them."""
    existing = set(list_namespaces())
    _batch([f"netns del {name}" for name in names if name in existing], force=True)


def namespaces_with_prefix(prefix: str) -> list[str]:
    return [name for name in list_namespaces() if name.startswith(prefix)]


def mark_of(namespace: str) -> str | None:
    """The alias of the namespace's loopback link (a lab's mark), or None."""
    result = run(["ip", "-n", namespace, "-o", "link", "show", "lo"], check=False)
    words = result.stdout.split()
    for i, word in enumerate(words[:-1]):
        if word == "alias":
            return words[i + 1]
    return None


def marked_namespaces(mark_start: str, prefix: str = PREFIX_ROOT) -> list[str]:
    """Namespaces named like a lab's whose mark starts with ``mark_start`` (a lab's, or an owner's labs)."""
    found = []
    for name in namespaces_with_prefix(prefix):
        mark = mark_of(name)
        if mark is not None and mark.startswith(mark_start):
            found.append(name)
    return found
