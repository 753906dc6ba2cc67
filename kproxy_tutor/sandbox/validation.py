"""Checks the API server would apply to the sandbox's objects, raising SandboxInputError with a clear message."""

from __future__ import annotations

import re

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.ipaddr import parse_cidr_sloppy, parse_ip_sloppy
from kproxy_tutor.sandbox.model import PROTOCOLS, SERVICE_TYPES, Service

_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_IANA_SVC_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")


def check_service_name(name: str, location: str | None = None) -> None:
    """Service names are DNS-1035 labels: they become DNS names and must start with a letter."""
    if not isinstance(name, str) or len(name) > 63 or not _DNS1035_LABEL.match(name):
        raise SandboxInputError(
            N_(
                "Invalid Service name {name!r}: it must be at most 63 characters, lower-case letters, "
                "digits and '-', start with a letter and end with a letter or digit (DNS-1035 label)."
            ),
            location=location,
            name=name,
        )


def check_namespace(name: str, location: str | None = None) -> None:
    if not isinstance(name, str) or len(name) > 63 or not _DNS1123_LABEL.match(name):
        raise SandboxInputError(
            N_(
                "Invalid namespace {name!r}: it must be at most 63 characters of lower-case letters, "
                "digits and '-', starting and ending with a letter or digit (DNS-1123 label)."
            ),
            location=location,
            name=name,
        )


def check_object_name(kind: str, name: str, location: str | None = None) -> None:
    """Names of Pods, Nodes, Deployments and EndpointSlices are DNS-1123 subdomains."""
    if not isinstance(name, str) or len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        raise SandboxInputError(
            N_(
                "Invalid {kind} name {name!r}: it must be at most 253 characters of lower-case letters, "
                "digits, '-' and '.', starting and ending with a letter or digit (DNS-1123 subdomain)."
            ),
            location=location,
            kind=kind,
            name=name,
        )


#: ``spec.replicas`` is an int32 in the API: the API server refuses anything larger.
INT32_MAX = 2**31 - 1
#: The sandbox's own bound on one Deployment (a simplification: the API server accepts up to
#: INT32_MAX and leaves the Pods Pending); the shell's --replicas has the same bound.
MAX_REPLICAS = 10_000
#: Kubernetes' documented scalability limit: at most 150,000 Pods in one cluster.
MAX_PODS = 150_000


def check_replicas(value: object, other_pods: int = 0, location: str | None = None) -> int:
    """``spec.replicas``, refused before a single Pod name is made when no cluster could hold it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SandboxInputError(
            N_("Invalid replicas {value!r}: it must be a whole number."), location=location, value=value
        )
    if value < 0:
        raise SandboxInputError(
            N_("Invalid replicas {value!r}: it must be 0 or more."), location=location, value=value
        )
    if value > INT32_MAX:
        raise SandboxInputError(
            N_(
                "Invalid replicas {value}: the API server refuses it (replicas is a 32-bit number, "
                "at most {limit})."
            ),
            location=location,
            value=_short_number(value),
            limit=INT32_MAX,
        )
    if value > MAX_REPLICAS:
        raise SandboxInputError(
            N_("Too many replicas ({value}): the sandbox runs at most {limit} Pods per Deployment."),
            location=location,
            value=value,
            limit=MAX_REPLICAS,
        )
    if value + other_pods > MAX_PODS:
        raise SandboxInputError(
            N_("Too many Pods: {count} in one cluster; Kubernetes supports at most {limit}."),
            location=location,
            count=value + other_pods,
            limit=MAX_PODS,
        )
    return value


def _short_number(value: int) -> str:
    """A huge number as its first digits and its length (never a 5,000-digit line)."""
    try:
        digits = str(value)
    except ValueError:  # past Python's limit for printing integers
        return f"~10^{int(value.bit_length() * 0.30103)}"
    return digits if len(digits) <= 24 else f"{digits[:12]}…({len(digits)})"


#: Linux interface names: at most IFNAMSIZ - 1 = 15 bytes, no '/', ':' or white space (dev_valid_name).
#: Quotes and '+' (iptables' wildcard) are refused too: the name goes into rules as one word, as is.
_INTERFACE_NAME = re.compile(r"[^\s/:'\"+!]{1,15}\Z")


def check_interface_name(value: str, what: str, location: str | None = None) -> str:
    """An interface name (or prefix) kube-proxy writes into ``-i``; empty means not set."""
    if value == "":
        return value
    if value in (".", "..") or not value.isascii() or not _INTERFACE_NAME.match(value):
        raise SandboxInputError(
            N_(
                "Invalid {what} {value!r}: an interface name is 1 to 15 characters without spaces, "
                "quotes, '/', ':', '+' or '!'."
            ),
            location=location,
            what=what,
            value=value,
        )
    return value


def check_port(value: object, what: str, location: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise SandboxInputError(
            N_("Invalid {what} {value!r}: a port number must be between 1 and 65535."),
            location=location,
            what=what,
            value=value,
        )
    return value


def check_protocol(value: object, location: str | None = None) -> str:
    if value not in PROTOCOLS:
        raise SandboxInputError(
            N_("Unsupported protocol {value!r}: use TCP, UDP or SCTP."), location=location, value=value
        )
    return str(value)


def check_port_name(name: str, location: str | None = None) -> None:
    """Port names are IANA service names: at most 15 characters, at least one letter, no '--'."""
    if name == "":
        return
    if (
        not isinstance(name, str)
        or len(name) > 15
        or not _IANA_SVC_NAME.match(name)
        or "--" in name
        or not any(c.isalpha() for c in name)
    ):
        raise SandboxInputError(
            N_(
                "Invalid port name {name!r}: it must be at most 15 lower-case letters, digits and '-', "
                "contain a letter, and not start, end or repeat '-'."
            ),
            location=location,
            name=name,
        )


def check_ip(value: object, what: str, location: str | None = None) -> str:
    """Accept an IP (leading zeros allowed, as clusters hold such objects) and return it canonically."""
    ip = parse_ip_sloppy(value) if isinstance(value, str) else None
    if ip is None:
        raise SandboxInputError(
            N_("Invalid {what} {value!r}: this is not an IP address."),
            location=location,
            what=what,
            value=value,
        )
    return str(ip)


def check_cidr(value: object, what: str, location: str | None = None) -> str:
    network = parse_cidr_sloppy(value.strip()) if isinstance(value, str) else None
    if network is None:
        raise SandboxInputError(
            N_("Invalid {what} {value!r}: this is not a CIDR such as 10.244.0.0/16."),
            location=location,
            what=what,
            value=value,
        )
    return str(network)


def _check_family_pair(cidrs: tuple[str, ...], what: str, location: str | None) -> tuple[str, ...]:
    checked = tuple(check_cidr(c, what, location) for c in cidrs)
    if len(checked) > 2 or (len(checked) == 2 and (":" in checked[0]) == (":" in checked[1])):
        raise SandboxInputError(
            N_("Invalid {what} {value!r}: at most two CIDRs, one IPv4 and one IPv6."),
            location=location,
            what=what,
            value=", ".join(cidrs),
        )
    return checked


def check_pod_cidrs(cidrs: tuple[str, ...], location: str | None = None) -> tuple[str, ...]:
    """``spec.podCIDRs``: canonical CIDRs, at most one per family."""
    return _check_family_pair(cidrs, "podCIDRs", location)


def check_service_cidr(cidrs: tuple[str, ...], location: str | None = None) -> tuple[str, ...]:
    """A ServiceCIDR's ``spec.cidrs``: one or two CIDRs, at most one per family."""
    if not cidrs:
        raise SandboxInputError(N_("A ServiceCIDR needs at least one CIDR in spec.cidrs."), location=location)
    return _check_family_pair(cidrs, "ServiceCIDR spec.cidrs", location)


def check_service(service: Service, location: str | None = None) -> None:
    """What the API server refuses in a Service spec (the subset that matters to kube-proxy)."""
    check_namespace(service.namespace, location)
    check_service_name(service.name, location)
    if service.type not in SERVICE_TYPES:
        raise SandboxInputError(
            N_("Unsupported Service type {value!r}: use ClusterIP, NodePort, LoadBalancer or ExternalName."),
            location=location,
            value=service.type,
        )
    if service.type != "ExternalName" and not service.ports and service.cluster_ip != "None":
        raise SandboxInputError(
            N_("Service {name!r} has no ports: spec.ports needs at least one entry."),
            location=location,
            name=service.name,
        )
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    for port in service.ports:
        check_port(port.port, "port", location)
        check_protocol(port.protocol, location)
        check_service_port_name(port.name, location)
        if len(service.ports) > 1 and not port.name:
            raise SandboxInputError(
                N_("Service {name!r} has several ports, so every port needs a name."),
                location=location,
                name=service.name,
            )
        if port.name in names:
            raise SandboxInputError(
                N_("Service {name!r} has two ports named {port!r}."),
                location=location,
                name=service.name,
                port=port.name,
            )
        names.add(port.name)
        if (str(port.port), port.protocol) in seen:
            raise SandboxInputError(
                N_("Service {name!r} lists port {port}/{protocol} twice."),
                location=location,
                name=service.name,
                port=port.port,
                protocol=port.protocol,
            )
        seen.add((str(port.port), port.protocol))
        if port.node_port:
            check_port(port.node_port, "nodePort", location)
        if isinstance(port.target_port, int):
            check_port(port.target_port, "targetPort", location)
        elif isinstance(port.target_port, str):
            check_port_name(port.target_port, location)
    for ip in service.external_ips:
        check_ip(ip, "externalIP", location)
    if service.session_affinity not in ("None", "ClientIP"):
        raise SandboxInputError(
            N_("Unsupported sessionAffinity {value!r}: use None or ClientIP."),
            location=location,
            value=service.session_affinity,
        )
    if not 1 <= service.session_affinity_timeout <= 86400:
        raise SandboxInputError(
            N_("Invalid session affinity timeout {value!r}: it must be between 1 and 86400 seconds."),
            location=location,
            value=service.session_affinity_timeout,
        )
    for policy in (service.external_traffic_policy, service.internal_traffic_policy):
        if policy not in ("Cluster", "Local"):
            raise SandboxInputError(
                N_("Unsupported traffic policy {value!r}: use Cluster or Local."),
                location=location,
                value=policy,
            )


def check_service_port_name(name: str, location: str | None = None) -> None:
    """Service port names are DNS-1123 labels (they end up in SRV records)."""
    if name and (len(name) > 63 or not _DNS1123_LABEL.match(name)):
        raise SandboxInputError(
            N_(
                "Invalid Service port name {name!r}: use lower-case letters, digits and '-' (DNS-1123 label)."
            ),
            location=location,
            name=name,
        )
