"""Convert one Kubernetes object (a dict from YAML or JSON) into a sandbox model value, checking field types.

The ``Fields``-based ``to_*`` converters check every field and name the one that is wrong; the
``fast_*`` converters in ``manifest_fast`` handle the well-formed common case of the big kinds quickly.
"""

from __future__ import annotations

from typing import Any

from kproxy_tutor.errors import N_, Msg, SandboxInputError
from kproxy_tutor.sandbox.model import (
    SERVICE_NAME_LABEL,
    ClusterNetwork,
    ContainerPort,
    Deployment,
    Endpoint,
    EndpointConditions,
    EndpointPort,
    EndpointSlice,
    LoadBalancerIngress,
    Node,
    NodeFacts,
    Pod,
    ProxyConfig,
    Service,
    ServiceCIDR,
    ServicePort,
    frozen_labels,
)
from kproxy_tutor.sandbox.validation import (
    check_cidr,
    check_interface_name,
    check_ip,
    check_pod_cidrs,
    check_service_cidr,
)

#: The values of a KubeProxyConfiguration's ``mode`` on Linux ("" = the default, iptables).
PROXY_MODES = ("", "iptables", "nftables", "ipvs")


class Fields:
    """Typed access to a mapping, raising SandboxInputError that names the field path."""

    def __init__(self, data: Any, path: str, location: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise SandboxInputError(N_("{path} must be a mapping."), location=location, path=path)
        self.data = data
        self.path = path
        self.location = location

    def _fail(self, key: str, expected: str) -> SandboxInputError:
        return SandboxInputError(
            N_("{path} must be {expected}."),
            location=self.location,
            path=f"{self.path}.{key}",
            expected=Msg(expected),
        )

    def str(self, key: str, default: str = "") -> str:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._fail(key, N_("a string"))
        return value

    def int(self, key: str, default: int = 0) -> int:
        value = self.data.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, N_("a whole number"))
        return value

    def bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._fail(key, N_("true or false"))
        return value

    def sub(self, key: str) -> Fields:
        return Fields(self.data.get(key), f"{self.path}.{key}", self.location)

    def list(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(key, N_("a list"))
        return value

    def items(self, key: str) -> list[Fields]:
        return [
            Fields(item, f"{self.path}.{key}[{i}]", self.location) for i, item in enumerate(self.list(key))
        ]

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.list(key)
        if not all(isinstance(v, str) for v in values):
            raise self._fail(key, N_("a list of strings"))
        return tuple(values)

    def labels(self, key: str) -> dict[str, str]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self._fail(key, N_("a mapping of strings to strings"))
        return value


def _meta(obj: Fields, namespaced: bool) -> tuple[str, str, dict[str, str]]:
    meta = obj.sub("metadata")
    name = meta.str("name")
    if not name:
        raise SandboxInputError(N_("{path}.metadata.name is missing."), location=obj.location, path=obj.path)
    namespace = meta.str("namespace", "default") if namespaced else ""
    return namespace, name, meta.labels("labels")


def _container_ports(spec: Fields) -> tuple[ContainerPort, ...]:
    ports = []
    for container in spec.items("containers"):
        for port in container.items("ports"):
            ports.append(
                ContainerPort(port.int("containerPort"), port.str("name"), port.str("protocol", "TCP"))
            )
    return tuple(ports)


def to_node(obj: Fields) -> Node:
    _, name, labels = _meta(obj, namespaced=False)
    ips = tuple(
        a.str("address") for a in obj.sub("status").items("addresses") if a.str("type") == "InternalIP"
    )
    spec = obj.sub("spec")
    return Node(name, ips, pod_cidrs_of(spec.str("podCIDR"), spec.strings("podCIDRs")), frozen_labels(labels))


def pod_cidrs_of(pod_cidr: str, pod_cidrs: tuple[str, ...]) -> tuple[str, ...]:
    """``spec.podCIDRs``, or ``(spec.podCIDR,)`` when only that is set (older objects)."""
    if pod_cidrs:
        return pod_cidrs
    return (pod_cidr,) if pod_cidr else ()


def to_service_cidr(obj: Fields) -> ServiceCIDR:
    _, name, _ = _meta(obj, namespaced=False)
    return ServiceCIDR(name, obj.sub("spec").strings("cidrs"))


def to_pod(obj: Fields) -> Pod:
    namespace, name, labels = _meta(obj, namespaced=True)
    spec, status = obj.sub("spec"), obj.sub("status")
    conditions = {c.str("type"): c.str("status") for c in status.items("conditions")}
    ready = conditions.get("Ready", "True") == "True"
    terminating = bool(obj.sub("metadata").data.get("deletionTimestamp"))
    return Pod(
        namespace,
        name,
        frozen_labels(labels),
        spec.str("nodeName"),
        status.str("podIP"),
        ready,
        terminating,
        _container_ports(spec),
        pod_ips=tuple(i.str("ip") for i in status.items("podIPs")),
    )


def to_deployment(obj: Fields) -> Deployment:
    namespace, name, _ = _meta(obj, namespaced=True)
    spec = obj.sub("spec")
    template = spec.sub("template")
    template_labels = template.sub("metadata").labels("labels")
    selector = spec.sub("selector").labels("matchLabels") or template_labels
    return Deployment(
        namespace,
        name,
        spec.int("replicas", 1),
        frozen_labels(selector),
        frozen_labels(template_labels),
        _container_ports(template.sub("spec")),
        template.sub("spec").str("nodeName"),
    )


def to_service(obj: Fields, location: str) -> Service:
    namespace, name, labels = _meta(obj, namespaced=True)
    spec = obj.sub("spec")
    ports = []
    for port in spec.items("ports"):
        target = port.data.get("targetPort")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int | str)):
            raise SandboxInputError(
                N_("{path}.targetPort must be a number or a port name."), location=location, path=port.path
            )
        if isinstance(target, str) and target.isascii() and target.isdigit() and len(target) <= 5:
            target = int(target)
        ports.append(
            ServicePort(
                port.int("port"), port.str("name"), port.str("protocol", "TCP"), target, port.int("nodePort")
            )
        )
    selector = spec.data.get("selector")
    ingress = tuple(
        LoadBalancerIngress(
            i.str("ip"),
            i.str("hostname"),
            i.data.get("ipMode") if isinstance(i.data.get("ipMode"), str) else None,
        )
        for i in obj.sub("status").sub("loadBalancer").items("ingress")
    )
    service_type = spec.str("type", "ClusterIP")
    return Service(
        namespace=namespace,
        name=name,
        type=service_type,
        cluster_ip=spec.str("clusterIP"),
        cluster_ips=spec.strings("clusterIPs"),
        ip_families=spec.strings("ipFamilies"),
        ip_family_policy=spec.str("ipFamilyPolicy"),
        ports=tuple(ports),
        selector=frozen_labels(spec.labels("selector")) if selector is not None else None,
        external_ips=spec.strings("externalIPs"),
        load_balancer_ingress=ingress,
        load_balancer_source_ranges=spec.strings("loadBalancerSourceRanges"),
        session_affinity=spec.str("sessionAffinity", "None"),
        session_affinity_timeout=spec.sub("sessionAffinityConfig")
        .sub("clientIP")
        .int("timeoutSeconds", 10800),
        external_traffic_policy=spec.str("externalTrafficPolicy", "Cluster"),
        internal_traffic_policy=spec.str("internalTrafficPolicy", "Cluster"),
        health_check_node_port=spec.int("healthCheckNodePort"),
        external_name=spec.str("externalName"),
        labels=frozen_labels(labels),
    )


def _optional_bool(fields: Fields, key: str) -> bool | None:
    value = fields.data.get(key)
    if value is None:
        return None
    return fields.bool(key, False)


def to_endpoint_slice(obj: Fields, location: str) -> EndpointSlice:
    namespace, name, labels = _meta(obj, namespaced=True)
    endpoints = []
    for endpoint in obj.items("endpoints"):
        conditions = endpoint.sub("conditions")
        hints = endpoint.sub("hints")
        endpoints.append(
            Endpoint(
                addresses=endpoint.strings("addresses"),
                conditions=EndpointConditions(
                    _optional_bool(conditions, "ready"),
                    _optional_bool(conditions, "serving"),
                    _optional_bool(conditions, "terminating"),
                ),
                node_name=endpoint.str("nodeName"),
                zone=endpoint.str("zone"),
                hostname=endpoint.str("hostname"),
                zone_hints=tuple(h.str("name") for h in hints.items("forZones")),
                node_hints=tuple(h.str("name") for h in hints.items("forNodes")),
            )
        )
    ports = []
    for port in obj.items("ports"):
        port_name = port.data.get("name")
        if port_name is not None and not isinstance(port_name, str):
            raise SandboxInputError(N_("{path}.name must be a string."), location=location, path=port.path)
        number = port.data.get("port")
        ports.append(
            EndpointPort(
                # The API server defaults a missing name to "" (SetDefaults_EndpointPort).
                port_name if port_name is not None else "",
                port.int("port") if number is not None else None,
                port.str("protocol", "TCP"),
            )
        )
    return EndpointSlice(
        namespace,
        name,
        labels.get(SERVICE_NAME_LABEL, ""),
        obj.str("addressType", "IPv4"),
        tuple(endpoints),
        tuple(ports),
        labels.get("endpointslice.kubernetes.io/managed-by", ""),
    )


def to_proxy_config(obj: Fields) -> ProxyConfig:
    iptables = obj.sub("iptables")
    detect = obj.sub("detectLocal")
    sync_period = iptables.str("syncPeriod", "30s")
    # clusterCIDR may be a dual-stack pair "v4,v6": each family's proxier uses its own.
    cidrs = [c.strip() for c in obj.str("clusterCIDR").split(",") if c.strip()]
    cluster_cidr = ",".join(check_cidr(c, "clusterCIDR", obj.location) for c in cidrs)
    mode = obj.str("detectLocalMode", "ClusterCIDR") or "ClusterCIDR"
    if mode not in ("ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"):
        raise SandboxInputError(
            N_(
                "Unsupported detectLocalMode {value!r}: use ClusterCIDR, NodeCIDR, BridgeInterface or InterfaceNamePrefix."
            ),
            location=obj.location,
            value=mode,
        )
    bit = iptables.int("masqueradeBit", 14)
    if not 0 <= bit <= 31:
        raise SandboxInputError(N_("iptables.masqueradeBit must be between 0 and 31."), location=obj.location)
    # In nftables mode kube-proxy reads the nftables section instead (v1alpha1 conversion).
    nftables = obj.sub("nftables")
    nft_bit = nftables.int("masqueradeBit", 14)
    if not 0 <= nft_bit <= 31:
        raise SandboxInputError(N_("nftables.masqueradeBit must be between 0 and 31."), location=obj.location)
    proxy_mode = obj.str("mode")
    if proxy_mode not in PROXY_MODES:
        raise SandboxInputError(
            N_("Unknown proxy mode {mode!r}: use iptables, nftables or ipvs."),
            location=obj.location,
            mode=proxy_mode,
        )
    addresses = obj.strings("nodePortAddresses")
    for value in addresses:
        if value != "primary":
            check_cidr(value, "nodePortAddresses entry", obj.location)
    return ProxyConfig(
        mode=proxy_mode,
        hostname_override=obj.str("hostnameOverride"),
        cluster_cidr=cluster_cidr,
        detect_local_mode=mode,
        bridge_interface=check_interface_name(
            detect.str("bridgeInterface"), "detectLocal.bridgeInterface", obj.location
        ),
        interface_name_prefix=check_interface_name(
            detect.str("interfaceNamePrefix"), "detectLocal.interfaceNamePrefix", obj.location
        ),
        masquerade_all=iptables.bool("masqueradeAll", False),
        masquerade_bit=bit,
        nftables_masquerade_all=nftables.bool("masqueradeAll", False),
        nftables_masquerade_bit=nft_bit,
        localhost_node_ports=iptables.bool("localhostNodePorts", True),
        node_port_addresses=tuple(
            a if a == "primary" else check_cidr(a, "nodePortAddresses entry") for a in addresses
        ),
        sync_period_seconds=_seconds(sync_period, obj),
    )


def _seconds(text: str, obj: Fields) -> float:
    """Go durations as kube-proxy configs use them: ``30s``, ``1m``, ``1m30s``, ``500ms``."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total, number = 0.0, ""
    i = 0
    while i < len(text):
        c = text[i]
        if c.isdigit() or c == ".":
            number += c
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else c
        if unit not in units or not number:
            raise SandboxInputError(
                N_("{path}.iptables.syncPeriod is not a duration such as 30s."),
                location=obj.location,
                path=obj.path,
            )
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    if number:
        raise SandboxInputError(
            N_("{path}.iptables.syncPeriod is not a duration such as 30s."),
            location=obj.location,
            path=obj.path,
        )
    return total


def to_node_facts(obj: Fields) -> NodeFacts:
    return NodeFacts(
        random_fully=obj.bool("randomFully", True),
        nfacct=obj.bool("nfacct", True),
        tcp_be_liberal=obj.bool("tcpBeLiberal", False),
        canary_chains=obj.bool("canaryChains", True),
    )


def to_cluster_network(obj: Fields) -> ClusterNetwork:
    for key in ("serviceCIDR", "podCIDR"):
        if key in obj.data:
            # One CIDR, or one per family ("10.96.0.0/12,fd00:10:96::/112"), as kubeadm's subnets.
            parts = tuple(p.strip() for p in obj.str(key).split(","))
            check_service_cidr(parts, obj.location) if key == "serviceCIDR" else check_pod_cidrs(
                parts, obj.location
            )
    if "dnsServiceIP" in obj.data:
        check_ip(obj.str("dnsServiceIP"), "dnsServiceIP", obj.location)
    low, _, high = obj.str("nodePortRange", "30000-32767").partition("-")
    if (
        not (low.isascii() and low.isdigit() and high.isascii() and high.isdigit())
        or max(len(low), len(high)) > 5
        or not 1 <= int(low) <= int(high) <= 65535
    ):
        raise SandboxInputError(
            N_("{path}.nodePortRange must look like 30000-32767."), location=obj.location, path=obj.path
        )
    return ClusterNetwork(
        service_cidr=obj.str("serviceCIDR", "10.96.0.0/12"),
        pod_cidr=obj.str("podCIDR", "10.244.0.0/16"),
        node_port_range=(int(low), int(high)),
        dns_service_ip=obj.str("dnsServiceIP", "10.96.0.10"),
        allocate_node_ports=obj.bool("allocateNodePorts", True),
    )
