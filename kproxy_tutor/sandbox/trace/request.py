"""Turn what a learner types (a Pod, node or IP; a Service name, ``ip:port`` or ``node:port``) into a client and a destination.

A Service name is answered by cluster DNS, as a Pod's resolver would ask CoreDNS: that answer
(the ClusterIP) is a step of its own in the trace, because it is DNS, not kube-proxy.
"""

from __future__ import annotations

from dataclasses import dataclass

from kproxy_tutor.errors import N_, UsageError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import has_ipv6
from kproxy_tutor.sandbox.ipaddr import parse_ip_sloppy
from kproxy_tutor.sandbox.model import Node, Service
from kproxy_tutor.sandbox.packet import PROTOCOLS, SourceKind, StepKind, TraceStep
from kproxy_tutor.sandbox.serviceport import service_cluster_ip
from kproxy_tutor.sandbox.trace.tracer import Client

CLUSTER_DOMAIN = "cluster.local"


@dataclass(frozen=True, slots=True)
class Destination:
    ip: str
    port: int
    protocol: str
    #: ``namespace/name`` when the learner named a Service.
    service: str | None = None
    port_name: str | None = None
    #: The DNS name that was looked up, when a Service was named.
    dns_name: str | None = None


def check_protocol(protocol: str | None) -> str | None:
    if protocol is None:
        return None
    value = protocol.lower()
    if value not in PROTOCOLS:
        raise UsageError(N_("Unknown protocol {value!r}: use tcp, udp or sctp."), value=protocol)
    return value


def _ipv4(text: str) -> str | None:
    ip = parse_ip_sloppy(text)
    if ip is None:
        return None
    if ip.version != 4:
        raise UsageError(N_("{value} is an IPv6 address; the tracer follows IPv4 rules only."), value=text)
    return str(ip)


def _port(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 5 or not 0 < int(text) < 65536:
        raise UsageError(
            N_("Invalid port {value!r} in {what}: it must be a number from 1 to 65535."),
            value=text,
            what=what,
        )
    return int(text)


# Destinations ------------------------------------------------------------------------------
def resolve_destination(
    cluster: Cluster | None,
    text: str,
    protocol: str | None,
    client_namespace: str | None = None,
) -> Destination:
    """``--to``: ``IP:PORT``, ``NODE:PORT`` or ``SERVICE[:PORT]`` (name, ``ns/name`` or ``name.ns[.svc…]``)."""
    protocol = check_protocol(protocol)
    head, sep, tail = text.rpartition(":")
    if not sep:
        head, tail = text, ""
    if head.startswith("[") and head.endswith("]"):
        head = head[1:-1]  # [IPv6]:PORT, as curl and URLs write it
    ip = _ipv4(head)
    if ip is not None:
        if not tail:
            raise UsageError(N_("{value} needs a port: write IP:PORT."), value=text)
        return Destination(ip, _port(tail, "--to"), protocol or "tcp")
    if cluster is None:
        raise UsageError(N_("With --rules, --to must be IP:PORT (there are no Service names in a dump)."))
    if head in cluster.nodes and tail:
        node = cluster.nodes[head]
        return Destination(_node_ipv4(node), _port(tail, "--to"), protocol or "tcp")
    service, fqdn = _find_service(cluster, head, client_namespace)
    ip = service_cluster_ip(service)
    if ip is None and service.type != "ExternalName" and has_ipv6(service):
        raise UsageError(
            N_("Service {name} has only an IPv6 ClusterIP; the tracer follows IPv4 rules only."),
            name=f"{service.namespace}/{service.name}",
        )
    if ip is None:
        raise UsageError(
            N_(
                "Service {name} has no ClusterIP (headless or ExternalName), so kube-proxy does not handle it."
            ),
            name=f"{service.namespace}/{service.name}",
        )
    candidates = [p for p in service.ports if protocol is None or p.protocol.lower() == protocol]
    if tail:
        chosen = [p for p in candidates if p.name == tail or str(p.port) == tail]
    else:
        chosen = candidates[:1] if len(candidates) == 1 or len({p.port for p in candidates}) == 1 else []
    if not chosen:
        ports = ", ".join(f"{p.name + ' ' if p.name else ''}{p.port}/{p.protocol}" for p in service.ports)
        raise UsageError(
            N_("Which port of Service {name}? It has: {ports}. Write {name}:PORT."),
            name=f"{service.namespace}/{service.name}",
            ports=ports or "-",
        )
    port = chosen[0]
    return Destination(
        ip,
        port.port,
        protocol or port.protocol.lower(),
        f"{service.namespace}/{service.name}",
        port.name or None,
        fqdn,
    )


def wrong_port_of(cluster: Cluster | None, destination: Destination) -> str | None:
    """``namespace/name`` of the Service whose ClusterIP ``destination`` is, when it has no such port."""
    if cluster is None or destination.service is not None:
        return None
    owner = None
    for service in cluster.services.values():
        if service_cluster_ip(service) != destination.ip:
            continue
        if any(
            p.port == destination.port and p.protocol.lower() == destination.protocol for p in service.ports
        ):
            return None
        owner = f"{service.namespace}/{service.name}"
    return owner


def _find_service(cluster: Cluster, name: str, client_namespace: str | None) -> tuple[Service, str]:
    namespace: str | None = None
    if "/" in name:
        namespace, name = name.split("/", 1)
    elif "." in name:
        parts = name.split(".")
        suffix = ["svc", *CLUSTER_DOMAIN.split(".")]
        if len(parts) >= 2 and parts[2:] == suffix[: len(parts) - 2]:
            name, namespace = parts[0], parts[1]
    if namespace is not None:
        service = cluster.services.get((namespace, name))
        if service is None:
            raise UsageError(N_("There is no Service {name} in the cluster."), name=f"{namespace}/{name}")
        return service, _fqdn(service)
    found = sorted((s for s in cluster.services.values() if s.name == name), key=lambda s: s.namespace)
    # The resolver's search path starts with the client Pod's own namespace.
    for preferred in (client_namespace, "default"):
        for service in found:
            if service.namespace == preferred:
                return service, _fqdn(service)
    if len(found) == 1:
        return found[0], _fqdn(found[0])
    if not found:
        raise UsageError(N_("{value!r} is not a Service, IP:PORT or NODE:PORT of this cluster."), value=name)
    raise UsageError(
        N_("There are Services named {name} in several namespaces ({namespaces}); write NAMESPACE/NAME."),
        name=name,
        namespaces=", ".join(s.namespace for s in found),
    )


def _fqdn(service: Service) -> str:
    return f"{service.name}.{service.namespace}.svc.{CLUSTER_DOMAIN}"


def dns_step(client: Client, destination: Destination, dns_server: str) -> TraceStep:
    return TraceStep(
        StepKind.DNS,
        client.node,
        detail={
            "name": destination.dns_name,
            "answer": destination.ip,
            "server": dns_server,
            "service": destination.service,
        },
    )


# Clients -----------------------------------------------------------------------------------
def resolve_client(
    cluster: Cluster, text: str, entry_node: str | None = None, target: str | None = None
) -> Client:
    """``--from``: a Pod (``name`` or ``ns/name``; a Deployment name means its first Pod), a node, or an IP.

    ``target`` is the host part of ``--to`` (a node name, an IP or a Service name): an outside
    client sending to a node's address comes in on that node unless ``entry_node`` says otherwise.
    """
    if entry_node is not None and entry_node not in cluster.nodes:
        raise UsageError(N_("There is no node named {name!r}."), name=entry_node)
    ip = _ipv4(text)
    if ip is not None:
        for pod in cluster.pods.values():
            if pod.pod_ip == ip:
                return _pod_client(pod.namespace, pod.name, ip, pod.node_name, entry_node)
        for node in cluster.nodes.values():
            if ip in node.internal_ips:
                return _checked(Client(SourceKind.NODE, ip, node.name, node.name), entry_node)
        return Client(SourceKind.EXTERNAL, ip, entry_node or _entry_node(cluster, target), None)
    if text in cluster.nodes and "/" not in text:
        node = cluster.nodes[text]
        return _checked(Client(SourceKind.NODE, _node_ipv4(node), node.name, node.name), entry_node)
    namespace, _, name = text.rpartition("/")
    pods = sorted(
        (p for p in cluster.pods.values() if p.name == name and namespace in ("", p.namespace)),
        key=lambda p: (p.namespace != "default", p.namespace),
    )
    if not pods:
        owner_ns = namespace or "default"
        pods = sorted(
            (p for p in cluster.pods.values() if p.owner == f"{owner_ns}/{name}"), key=lambda p: p.name
        )
    if not pods:
        raise UsageError(
            N_("--from {value!r}: there is no Pod, Deployment or node with this name, and it is not an IP."),
            value=text,
        )
    pod = pods[0]
    if not pod.pod_ip:
        raise UsageError(N_("Pod {name} has no IP address yet."), name=f"{pod.namespace}/{pod.name}")
    return _pod_client(pod.namespace, pod.name, pod.pod_ip, pod.node_name, entry_node)


def _pod_client(namespace: str, name: str, ip: str, node: str, entry_node: str | None) -> Client:
    return _checked(Client(SourceKind.POD, ip, node, f"{namespace}/{name}"), entry_node)


def _checked(client: Client, entry_node: str | None) -> Client:
    if entry_node is not None and entry_node != client.node:
        raise UsageError(
            N_(
                "{name} runs on node {node}; --node only chooses where a client outside the cluster comes in."
            ),
            name=client.name or client.ip,
            node=client.node,
        )
    return client


def target_node(cluster: Cluster, target: str | None) -> str | None:
    """The node ``target`` (the host part of ``--to``: a node's name or an IP) belongs to, if any.

    A packet sent to a node's own address is routed to that node: it enters there, whichever
    node is nearest to the client.
    """
    if not target:
        return None
    if target in cluster.nodes:
        return target
    ip = parse_ip_sloppy(target)
    if ip is None:
        return None
    for node in cluster.nodes.values():
        if str(ip) in node.internal_ips:
            return node.name
    return None


def _entry_node(cluster: Cluster, target: str | None) -> str:
    """Where an outside client's packet comes in: the node that owns the address, else the first worker."""
    owner = target_node(cluster, target)
    if owner is not None:
        return owner
    nodes = cluster.schedulable_nodes()
    if not nodes:
        raise UsageError(N_("The cluster has no nodes."))
    return nodes[0].name


def dump_client(node_name: str, node_ips: tuple[str, ...], text: str) -> Client:
    """``--from`` with ``--rules``: an IP; one of the node's own addresses means a process on the node."""
    ip = _ipv4(text)
    if ip is None:
        raise UsageError(N_("With --rules, --from must be an IP address (got {value!r})."), value=text)
    if ip in node_ips or ip.startswith("127."):
        return Client(SourceKind.NODE, ip, node_name, node_name)
    return Client(SourceKind.EXTERNAL, ip, node_name, None)


def check_node_ips(values: list[str]) -> tuple[str, ...]:
    """``--node-ip`` values (repeated or comma-separated) as canonical IPv4 addresses."""
    out: list[str] = []
    for value in values:
        for item in filter(None, (v.strip() for v in value.split(","))):
            ip = _ipv4(item)
            if ip is None:
                raise UsageError(N_("--node-ip {value!r} is not an IP address."), value=item)
            out.append(ip)
    return tuple(out)


def _node_ipv4(node: Node) -> str:
    """The node's first IPv4 InternalIP: the address its IPv4 proxier and the tracer work with."""
    if node.ipv4_ips:
        return node.ipv4_ips[0]
    if node.internal_ips:
        raise UsageError(
            N_("Node {name!r} has only IPv6 addresses; the tracer follows IPv4 rules only."), name=node.name
        )
    raise UsageError(N_("Node {name!r} has no IP address."), name=node.name)
