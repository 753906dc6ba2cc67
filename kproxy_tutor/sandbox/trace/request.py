"""Turn what a learner types (a Pod, node or IP; a Service name, ``ip:port`` or ``node:port``) into a client and a destination.

A Service name is answered by cluster DNS, as a Pod's resolver would ask CoreDNS: that answer
(the ClusterIP) is a step of its own in the trace, because it is DNS, not kube-proxy.
"""

from __future__ import annotations

from dataclasses import dataclass

from kproxy_tutor.errors import N_, UsageError
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4, IPV6, check_family, family_of_address
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
    #: What the address is in the cluster (an AddressKind; None when unknown, as with --rules).
    kind: str | None = None
    #: Whose it is: the Service (``namespace/name``), the node or the Pod (``namespace/name``).
    owner: str | None = None
    #: The IP family of ``ip``: the proxier (and the rules) the packet goes through.
    family: str = IPV4


class AddressKind:
    """What a destination address is to the cluster. Stable codes (JSON ``to.kind``)."""

    CLUSTER_IP = "cluster_ip"
    EXTERNAL_IP = "external_ip"
    LOAD_BALANCER_IP = "load_balancer_ip"
    #: A load-balancer ingress IP with ``ipMode: Proxy``: kube-proxy writes no rules for it.
    PROXY_LOAD_BALANCER_IP = "load_balancer_proxy_ip"
    NODE_IP = "node_ip"
    POD_IP = "pod_ip"
    OTHER = "other"


def classify_address(cluster: Cluster, ip: str) -> tuple[str, str | None]:
    """(AddressKind, owner) of ``ip``: a Service's ClusterIP, external IP or load-balancer IP, a node's, a Pod's."""
    for service in sorted(cluster.services.values(), key=lambda s: s.key):
        if ip in (service.cluster_ip, *service.cluster_ips):
            return AddressKind.CLUSTER_IP, f"{service.namespace}/{service.name}"
    for service in sorted(cluster.services.values(), key=lambda s: s.key):
        name = f"{service.namespace}/{service.name}"
        if ip in service.external_ips:
            return AddressKind.EXTERNAL_IP, name
        for ingress in service.load_balancer_ingress:
            if ingress.ip == ip:
                proxy = ingress.ip_mode == "Proxy"
                return (AddressKind.PROXY_LOAD_BALANCER_IP if proxy else AddressKind.LOAD_BALANCER_IP), name
    for node in cluster.nodes.values():
        if ip in node.internal_ips:
            return AddressKind.NODE_IP, node.name
    for pod in cluster.pods.values():
        if ip in (pod.pod_ip, *pod.pod_ips):
            return AddressKind.POD_IP, f"{pod.namespace}/{pod.name}"
    return AddressKind.OTHER, None


def check_protocol(protocol: str | None) -> str | None:
    if protocol is None:
        return None
    value = protocol.lower()
    if value not in PROTOCOLS:
        raise UsageError(N_("Unknown protocol {value!r}: use tcp, udp or sctp."), value=protocol)
    return value


FAMILY_CHOICES = {"ipv4": IPV4, "ipv6": IPV6}


def check_family_choice(choice: str | None) -> str | None:
    """``--family ipv4|ipv6`` (or ``IPv4``/``IPv6``) as a family; None stays None (the default one)."""
    if choice is None:
        return None
    family = FAMILY_CHOICES.get(choice.lower())
    if family is None:
        raise UsageError(N_("Unknown IP family {value!r}: use ipv4 or ipv6."), value=choice)
    return family


def _ip(text: str) -> str | None:
    """``text`` as a canonical address (IPv6 compressed, as Kubernetes writes it), None when it is not one."""
    ip = parse_ip_sloppy(text)
    return None if ip is None else str(ip)


def _family_word(family: str) -> str:
    return "IPv6" if family == IPV6 else "IPv4"


def _check_address_family(text: str, ip: str, family: str | None) -> str:
    found = family_of_address(ip)
    if family is not None and found != family:
        raise UsageError(
            N_("{value} is an {found} address, not {family}."),
            value=text,
            found=_family_word(found),
            family=_family_word(family),
        )
    return found


def _port(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 5 or not 0 < int(text) < 65536:
        raise UsageError(
            N_("Invalid port {value!r} in {what}: it must be a number from 1 to 65535."),
            value=text,
            what=what,
        )
    return int(text)


# Destinations ------------------------------------------------------------------------------
def split_host_port(text: str) -> tuple[str, str]:
    """(host, port) of ``HOST:PORT``, ``[IPV6]:PORT``, ``[IPV6]``, a bare IPv6 address or ``HOST`` (port "" if none)."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if sep and (not rest or rest.startswith(":")):
            return host, rest[1:]
        raise UsageError(N_("{value!r}: write an IPv6 address with a port as [ADDRESS]:PORT."), value=text)
    if text.count(":") > 1:
        # More than one colon and no brackets: an IPv6 address alone (as curl, it needs brackets for a port).
        return text, ""
    head, sep, tail = text.rpartition(":")
    return (head, tail) if sep else (text, "")


def resolve_destination(
    cluster: Cluster | None,
    text: str,
    protocol: str | None,
    client_namespace: str | None = None,
    *,
    family: str | None = None,
) -> Destination:
    """``--to``: ``IP:PORT``, ``[IPV6]:PORT``, ``NODE:PORT`` or ``SERVICE[:PORT]`` (name, ``ns/name`` or ``name.ns[.svc…]``).

    An address picks its own family; a Service name picks ``family`` if given, else the
    Service's primary family (``spec.ipFamilies[0]``, as ``spec.clusterIP`` is); a node's name
    ``family`` if given, else the family of its first InternalIP.
    """
    protocol = check_protocol(protocol)
    if family is not None:
        check_family(family)
    head, tail = split_host_port(text)
    ip = _ip(head)
    if ip is not None:
        if not tail:
            if ":" in ip:
                raise UsageError(N_("{value} needs a port: write [ADDRESS]:PORT."), value=text)
            raise UsageError(N_("{value} needs a port: write IP:PORT."), value=text)
        found = _check_address_family(head, ip, family)
        kind, owner = classify_address(cluster, ip) if cluster is not None else (None, None)
        return Destination(ip, _port(tail, "--to"), protocol or "tcp", kind=kind, owner=owner, family=found)
    if cluster is None:
        raise UsageError(N_("With --rules, --to must be IP:PORT (there are no Service names in a dump)."))
    if head in cluster.nodes and tail:
        node = cluster.nodes[head]
        address = node_address(node, family)
        return Destination(
            address,
            _port(tail, "--to"),
            protocol or "tcp",
            kind=AddressKind.NODE_IP,
            owner=node.name,
            family=family_of_address(address),
        )
    service, fqdn = _find_service(cluster, head, client_namespace)
    chosen_family = family or service_primary_family(service)
    ip = service_cluster_ip(service, chosen_family)
    if ip is None and service.type != "ExternalName" and service.families:
        raise UsageError(
            N_("Service {name} has no {family} ClusterIP (its families: {families})."),
            name=f"{service.namespace}/{service.name}",
            family=_family_word(chosen_family),
            families=", ".join(service.families),
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
        AddressKind.CLUSTER_IP,
        f"{service.namespace}/{service.name}",
        chosen_family,
    )


def service_primary_family(service: Service) -> str:
    """The Service's primary IP family: ``spec.ipFamilies[0]``, else that of ``spec.clusterIP``."""
    if service.ip_families:
        return service.ip_families[0]
    for ip in (service.cluster_ip, *service.cluster_ips):
        if ip not in ("", "None"):
            return family_of_address(ip)
    return IPV4


def wrong_port_of(cluster: Cluster | None, destination: Destination) -> str | None:
    """``namespace/name`` of the Service whose ClusterIP ``destination`` is, when it has no such port."""
    if cluster is None or destination.service is not None:
        return None
    owner = None
    for service in cluster.services.values():
        if service_cluster_ip(service, destination.family) != destination.ip:
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
    cluster: Cluster,
    text: str,
    entry_node: str | None = None,
    target: str | None = None,
    *,
    family: str | None = None,
) -> Client:
    """``--from``: a Pod (``name`` or ``ns/name``; a Deployment name means its first Pod), a node, or an IP.

    ``target`` is the host part of ``--to`` (a node name, an IP or a Service name): an outside
    client sending to a node's address comes in on that node unless ``entry_node`` says otherwise.
    ``family`` picks the Pod's podIP or the node's InternalIP of that family (None: the first one);
    a source without an address of that family is refused.
    """
    if entry_node is not None and entry_node not in cluster.nodes:
        raise UsageError(N_("There is no node named {name!r}."), name=entry_node)
    ip = _ip(text)
    if ip is not None:
        _check_address_family(text, ip, family)
        for pod in cluster.pods.values():
            if ip in (pod.pod_ip, *pod.pod_ips):
                return _pod_client(pod.namespace, pod.name, ip, pod.node_name, entry_node)
        for node in cluster.nodes.values():
            if ip in node.internal_ips:
                return _checked(Client(SourceKind.NODE, ip, node.name, node.name), entry_node)
        return Client(SourceKind.EXTERNAL, ip, entry_node or _entry_node(cluster, target), None)
    name = text[len("node/") :] if text.startswith("node/") else text
    if name in cluster.nodes and "/" not in name:
        node = cluster.nodes[name]
        return _checked(Client(SourceKind.NODE, node_address(node, family), node.name, node.name), entry_node)
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
    ip = pod.pod_ip if family is None else pod.ip(family)
    if not ip:
        raise UsageError(
            N_(
                "Pod {name} has no {family} address (its podIPs: {ips}), so it cannot open an {family} connection."
            ),
            name=f"{pod.namespace}/{pod.name}",
            family=_family_word(family or IPV4),
            ips=", ".join(pod.pod_ips or (pod.pod_ip,)),
        )
    return _pod_client(pod.namespace, pod.name, ip, pod.node_name, entry_node)


def client_in_family(cluster: Cluster | None, client: Client, family: str) -> Client:
    """``client`` with its address of ``family`` (a Pod's podIP, a node's InternalIP of that family).

    An outside client's address is what the learner typed: of another family, it is refused.
    """
    if family_of_address(client.ip) == family:
        return client
    if cluster is not None and client.kind == SourceKind.POD and client.name is not None:
        namespace, _, name = client.name.partition("/")
        pod = cluster.pods.get((namespace, name))
        if pod is not None:
            ip = pod.ip(family)
            if not ip:
                raise UsageError(
                    N_(
                        "Pod {name} has no {family} address (its podIPs: {ips}), so it cannot open an {family} connection."
                    ),
                    name=client.name,
                    family=_family_word(family),
                    ips=", ".join(pod.pod_ips or (pod.pod_ip,)),
                )
            return Client(client.kind, ip, client.node, client.name)
    if cluster is not None and client.kind == SourceKind.NODE and client.node in cluster.nodes:
        return Client(client.kind, node_address(cluster.nodes[client.node], family), client.node, client.name)
    raise UsageError(
        N_(
            "{source} is an {found} address and the destination an {family} one: a connection stays in one IP family."
        ),
        source=client.ip,
        found=_family_word(family_of_address(client.ip)),
        family=_family_word(family),
    )


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
    ip = _ip(text)
    if ip is None:
        raise UsageError(N_("With --rules, --from must be an IP address (got {value!r})."), value=text)
    if ip in node_ips or ip.startswith("127.") or ip == "::1":
        return Client(SourceKind.NODE, ip, node_name, node_name)
    return Client(SourceKind.EXTERNAL, ip, node_name, None)


def check_node_ips(values: list[str]) -> tuple[str, ...]:
    """``--node-ip`` values (repeated or comma-separated) as canonical addresses (all of one family)."""
    out: list[str] = []
    for value in values:
        for item in filter(None, (v.strip() for v in value.split(","))):
            ip = _ip(item)
            if ip is None:
                raise UsageError(N_("--node-ip {value!r} is not an IP address."), value=item)
            out.append(ip)
    if len({family_of_address(ip) for ip in out}) > 1:
        raise UsageError(
            N_(
                "--node-ip: give the addresses of one IP family (an iptables-save dump holds one family's rules)."
            )
        )
    return tuple(out)


def node_address(node: Node, family: str | None = None) -> str:
    """The node's first InternalIP of ``family`` (None: its first InternalIP): what that family's proxier works with."""
    if family is None:
        if node.internal_ips:
            return node.internal_ips[0]
        raise UsageError(N_("Node {name!r} has no IP address."), name=node.name)
    found = node.ips(family)
    if found:
        return found[0]
    if node.internal_ips:
        raise UsageError(
            N_("Node {name!r} has no {family} InternalIP (its addresses: {ips})."),
            name=node.name,
            family=_family_word(family),
            ips=", ".join(node.internal_ips),
        )
    raise UsageError(N_("Node {name!r} has no IP address."), name=node.name)
