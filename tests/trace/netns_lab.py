"""A node in a network namespace with real kube-proxy rules, Pods as namespaces with small TCP servers, and a client namespace.

Everything runs inside namespaces this module creates (through ``tests/netns.py``); the host's
own tables, routes and sysctls are never touched. ``ip link add … netns …`` creates each veth
pair directly inside the two namespaces it joins.
"""

from __future__ import annotations

import contextlib
import select
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from netns import Namespace, network_namespace

#: The node side of every veth carries this address, so Pods can route "default via" it.
GATEWAY = "169.254.1.1"
#: The router beyond the node's uplink (it forwards nothing).
OUTSIDE = "192.168.0.1"
SERVER = textwrap.dedent("""
    import socket, sys
    name, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(64)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        c.sendall(name.encode()); c.close()
""")
CLIENT = textwrap.dedent("""
    import socket, sys
    ip, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    for _ in range(count):
        try:
            with socket.create_connection((ip, port), timeout=timeout) as c:
                c.settimeout(timeout)
                print(c.recv(100).decode() or "EMPTY", flush=True)
        except ConnectionRefusedError:
            print("REFUSED", flush=True)
        except (TimeoutError, socket.timeout):
            print("TIMEOUT", flush=True)
        except OSError as e:
            print(f"ERROR {e.errno}", flush=True)
""")


@dataclass
class NodeLab:
    node: Namespace
    client: Namespace
    pods: dict[str, Namespace] = field(default_factory=dict)
    servers: list[subprocess.Popen[str]] = field(default_factory=list)

    def connect(self, ip: str, port: int, count: int, timeout: float = 2.0) -> list[str]:
        """``count`` new TCP connections from the client; each line: the Pod's name, REFUSED, TIMEOUT or ERROR n."""
        result = self.client.run([sys.executable, "-c", CLIENT, ip, str(port), str(count), str(timeout)])
        return result.stdout.split()


def _link(node: Namespace, other: Namespace, node_side: str, ip: str) -> None:
    subprocess.run(
        [
            "ip",
            "link",
            "add",
            node_side,
            "netns",
            node.name,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            other.name,
        ],
        check=True,
        capture_output=True,
    )
    for argv in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "link", "set", "eth0", "up"],
        ["ip", "addr", "add", f"{ip}/32", "dev", "eth0"],
        ["ip", "route", "add", GATEWAY, "dev", "eth0"],
        ["ip", "route", "add", "default", "via", GATEWAY, "dev", "eth0"],
    ):
        other.run(argv)
    for argv in (
        ["ip", "addr", "add", f"{GATEWAY}/32", "dev", node_side],
        ["ip", "link", "set", node_side, "up"],
        ["ip", "route", "add", f"{ip}/32", "dev", node_side],
    ):
        node.run(argv)


def _start_server(pod: Namespace, name: str, port: int, server: str = SERVER) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        ["ip", "netns", "exec", pod.name, sys.executable, "-c", server, name, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 10)
    if not ready or process.stdout.readline().strip() != "ready":
        process.kill()
        raise AssertionError(f"the server of {name} did not start")
    return process


@contextlib.contextmanager
def node_lab(rules: str, node_ip: str, client_ip: str, pods: dict[str, tuple[str, int]]) -> Iterator[NodeLab]:
    """A node namespace loaded with ``rules`` (iptables-save text), ``pods`` (name → (ip, port)) and a client."""
    with contextlib.ExitStack() as stack:
        node = stack.enter_context(network_namespace("kpt-node"))
        client = stack.enter_context(network_namespace("kpt-cli"))
        lab = NodeLab(node, client)
        stack.callback(_stop, lab)
        node.run(["ip", "link", "set", "lo", "up"])
        node.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        # The node's own address lives on its uplink to an "outside" namespace that forwards
        # nothing: a packet no rule translates leaves by the default route and nobody answers,
        # as in the model.
        outside = stack.enter_context(network_namespace("kpt-out"))
        subprocess.run(
            [
                "ip",
                "link",
                "add",
                "uplink0",
                "netns",
                node.name,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                outside.name,
            ],
            check=True,
            capture_output=True,
        )
        outside.run(["ip", "link", "set", "eth0", "up"])
        outside.run(["ip", "addr", "add", f"{OUTSIDE}/24", "dev", "eth0"])
        node.run(["ip", "addr", "add", f"{node_ip}/24", "dev", "uplink0"])
        node.run(["ip", "link", "set", "uplink0", "up"])
        node.run(["ip", "route", "add", "default", "via", OUTSIDE, "dev", "uplink0"])
        _link(node, client, "vcli", client_ip)
        for index, (name, (ip, port)) in enumerate(sorted(pods.items())):
            pod = stack.enter_context(network_namespace("kpt-pod"))
            lab.pods[name] = pod
            _link(node, pod, f"vpod{index}", ip)
            lab.servers.append(_start_server(pod, name, port))
        node.run(["iptables-restore"], stdin=rules)
        yield lab


def _stop(lab: NodeLab) -> None:
    for process in lab.servers:
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


# IPv6 --------------------------------------------------------------------------------------
#: The node side of every veth carries this link-local address (IPv6's "default via" the node).
GATEWAY6 = "fe80::1"
#: The router beyond the node's IPv6 uplink (it forwards nothing).
OUTSIDE6 = "fd00:192:168::1"
SERVER6 = SERVER.replace("socket.socket()", "socket.socket(socket.AF_INET6)").replace('"0.0.0.0"', '"::"')


def _link6(node: Namespace, other: Namespace, node_side: str, ip: str) -> None:
    """A veth between the node and a Pod (or the client); addresses without DAD, so they work at once."""
    subprocess.run(
        ["ip", "link", "add", node_side, "netns", node.name, "type", "veth", "peer", "name", "eth0",
         "netns", other.name],
        check=True,
        capture_output=True,
    )  # fmt: skip
    for argv in (
        ["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"],
        ["ip", "link", "set", "lo", "up"],
        ["ip", "link", "set", "eth0", "up"],
        ["ip", "-6", "addr", "add", f"{ip}/128", "dev", "eth0", "nodad"],
        ["ip", "-6", "route", "add", "default", "via", GATEWAY6, "dev", "eth0"],
    ):
        other.run(argv)
    for argv in (
        ["ip", "-6", "addr", "add", f"{GATEWAY6}/64", "dev", node_side, "nodad"],
        ["ip", "link", "set", node_side, "up"],
        ["ip", "-6", "route", "add", f"{ip}/128", "dev", node_side],
    ):
        node.run(argv)


@contextlib.contextmanager
def node_lab6(
    load: Callable[[Namespace], None], node_ip: str, client_ip: str, pods: dict[str, tuple[str, int]]
) -> Iterator[NodeLab]:
    """The IPv6 twin of ``node_lab``: ``load`` puts the rules into the node namespace (ip6tables-restore or nft -f)."""
    with contextlib.ExitStack() as stack:
        node = stack.enter_context(network_namespace("kpt-node6"))
        client = stack.enter_context(network_namespace("kpt-cli6"))
        lab = NodeLab(node, client)
        stack.callback(_stop, lab)
        node.run(["ip", "link", "set", "lo", "up"])
        node.run(["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"])
        node.run(["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"])
        node.run(["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"])
        outside = stack.enter_context(network_namespace("kpt-out6"))
        subprocess.run(
            ["ip", "link", "add", "uplink0", "netns", node.name, "type", "veth", "peer", "name", "eth0",
             "netns", outside.name],
            check=True,
            capture_output=True,
        )  # fmt: skip
        outside.run(["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"])
        outside.run(["ip", "link", "set", "eth0", "up"])
        outside.run(["ip", "-6", "addr", "add", f"{OUTSIDE6}/64", "dev", "eth0", "nodad"])
        node.run(["ip", "-6", "addr", "add", f"{node_ip}/64", "dev", "uplink0", "nodad"])
        node.run(["ip", "link", "set", "uplink0", "up"])
        node.run(["ip", "-6", "route", "add", "default", "via", OUTSIDE6, "dev", "uplink0"])
        _link6(node, client, "vcli", client_ip)
        for index, (name, (ip, port)) in enumerate(sorted(pods.items())):
            pod = stack.enter_context(network_namespace("kpt-pod6"))
            lab.pods[name] = pod
            _link6(node, pod, f"vpod{index}", ip)
            lab.servers.append(_start_server(pod, name, port, SERVER6))
        load(node)
        yield lab
