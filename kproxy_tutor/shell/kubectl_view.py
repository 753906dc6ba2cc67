"""``kubectl get`` and ``kubectl describe`` output: kubectl's columns and spacing, English as kubectl prints it.

The sandbox has no clock, so the AGE column is left out; everything else follows kubectl's
printers (tabwriter with padding 3, ``<none>`` for empty cells).
"""

from __future__ import annotations

from collections.abc import Sequence

from kproxy_tutor.sandbox.cluster import CONTROL_PLANE_LABEL, Cluster
from kproxy_tutor.sandbox.ipaddr import join_host_port
from kproxy_tutor.sandbox.model import Deployment, EndpointSlice, Node, Pod, Service, ServiceCIDR
from kproxy_tutor.shell import manifests_out

#: kubectl's tabwriter: minimum cell width 6, padding 3.
MIN_WIDTH = 6
PADDING = 3
#: kubectl shows at most three endpoints of a slice, then "+ N more...".
MAX_ENDPOINTS = 3


def table(rows: Sequence[Sequence[str]]) -> str:
    widths = [0] * max(len(r) for r in rows)
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell) + PADDING, MIN_WIDTH)
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("".join(cells))
    return "\n".join(lines) + "\n"


def pod_status(pod: Pod) -> tuple[str, str]:
    if pod.terminating:
        return ("1/1" if pod.ready else "0/1", "Terminating")
    return ("1/1" if pod.ready else "0/1", "Running")


def pod_rows(pods: list[Pod], wide: bool, with_namespace: bool) -> list[list[str]]:
    header = ["NAME", "READY", "STATUS", "RESTARTS"] + (["IP", "NODE"] if wide else [])
    rows = [(["NAMESPACE"] if with_namespace else []) + header]
    for pod in pods:
        ready, status = pod_status(pod)
        row = [pod.name, ready, status, "0"] + (
            [pod.pod_ip or "<none>", pod.node_name or "<none>"] if wide else []
        )
        rows.append(([pod.namespace] if with_namespace else []) + row)
    return rows


def service_ports(service: Service) -> str:
    if not service.ports:
        return "<none>"
    return ",".join(
        f"{p.port}:{p.node_port}/{p.protocol}" if p.node_port else f"{p.port}/{p.protocol}"
        for p in service.ports
    )


def external_ip(service: Service) -> str:
    ips = list(service.external_ips) + [i.ip or i.hostname for i in service.load_balancer_ingress]
    if ips:
        return ",".join(ips)
    return "<pending>" if service.type == "LoadBalancer" else "<none>"


def selector_text(selector: object) -> str:
    if not selector:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))  # type: ignore[attr-defined]


def service_rows(services: list[Service], wide: bool, with_namespace: bool) -> list[list[str]]:
    header = ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"] + (["SELECTOR"] if wide else [])
    rows = [(["NAMESPACE"] if with_namespace else []) + header]
    for service in services:
        row = [
            service.name,
            service.type,
            service.cluster_ip or "<none>",
            external_ip(service),
            service_ports(service),
        ]
        if wide:
            row.append(selector_text(service.selector))
        rows.append(([service.namespace] if with_namespace else []) + row)
    return rows


def slice_endpoints(slice_: EndpointSlice) -> str:
    addresses = [e.addresses[0] for e in slice_.endpoints if e.addresses]
    if not addresses:
        return "<unset>"
    shown = ",".join(addresses[:MAX_ENDPOINTS])
    if len(addresses) > MAX_ENDPOINTS:
        shown += f" + {len(addresses) - MAX_ENDPOINTS} more..."
    return shown


def slice_rows(slices: list[EndpointSlice], with_namespace: bool) -> list[list[str]]:
    rows = [(["NAMESPACE"] if with_namespace else []) + ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS"]]
    for slice_ in slices:
        ports = ",".join(str(p.port) for p in slice_.ports if p.port is not None) or "<unset>"
        row = [slice_.name, slice_.address_type, ports, slice_endpoints(slice_)]
        rows.append(([slice_.namespace] if with_namespace else []) + row)
    return rows


def node_rows(nodes: list[Node], wide: bool) -> list[list[str]]:
    # Real kubectl's columns, less those the sandbox has nothing true for (AGE, VERSION, EXTERNAL-IP,
    # OS-IMAGE…). A node's Pod CIDRs are in kubectl describe node, as in a real cluster.
    rows = [["NAME", "STATUS", "ROLES"] + (["INTERNAL-IP"] if wide else [])]
    for node in nodes:
        roles = "control-plane" if CONTROL_PLANE_LABEL in node.labels else "<none>"
        row = [node.name, "Ready", roles]
        if wide:
            # kubectl's INTERNAL-IP is the node's first InternalIP (the primary family's on a dual-stack node).
            internal = node.internal_ips[0] if node.internal_ips else "<none>"
            row.append(internal)
        rows.append(row)
    return rows


def service_cidr_rows(service_cidrs: list[ServiceCIDR]) -> list[list[str]]:
    """``kubectl get servicecidrs``: NAME and CIDRS (the ranges joined by commas), as kubectl prints them."""
    rows = [["NAME", "CIDRS"]]
    rows += [[c.name, ",".join(c.cidrs) or "<none>"] for c in service_cidrs]
    return rows


def deployment_rows(
    cluster: Cluster,
    deployments: list[Deployment],
    wide: bool = False,
    with_namespace: bool = False,
    images: dict[tuple[str, str], str] | None = None,
) -> list[list[str]]:
    header = ["NAME", "READY", "UP-TO-DATE", "AVAILABLE"] + (
        ["CONTAINERS", "IMAGES", "SELECTOR"] if wide else []
    )
    rows = [(["NAMESPACE"] if with_namespace else []) + header]
    for deployment in deployments:
        owner = f"{deployment.namespace}/{deployment.name}"
        pods = [p for p in cluster.pods.values() if p.owner == owner]
        ready = sum(1 for p in pods if p.ready and not p.terminating)
        row = [deployment.name, f"{ready}/{deployment.replicas}", str(len(pods)), str(ready)]
        if wide:
            image = (images or {}).get((deployment.namespace, deployment.name)) or deployment.name
            row += [deployment.name, image, selector_text(deployment.selector)]
        rows.append(([deployment.namespace] if with_namespace else []) + row)
    return rows


def endpoint_addresses(slices: list[EndpointSlice], ready: bool = True) -> list[tuple[str, str, str, str]]:
    """(address, node, port name, port) of the ready (or not ready) endpoints, for the v1 Endpoints view."""
    out = []
    for slice_ in slices:
        for endpoint in slice_.endpoints:
            is_ready = endpoint.conditions.ready is not False and not endpoint.conditions.terminating
            if not endpoint.addresses or is_ready != ready:
                continue
            for port in slice_.ports:
                if port.port is not None:
                    out.append((endpoint.addresses[0], endpoint.node_name, port.name or "", str(port.port)))
    return out


def endpoints_rows(cluster: Cluster, services: list[Service], with_namespace: bool) -> list[list[str]]:
    """``kubectl get endpoints``: up to three ready IP:PORT, then "+ N more..."."""
    rows = [(["NAMESPACE"] if with_namespace else []) + ["NAME", "ENDPOINTS"]]
    for service in services:
        pairs = sorted(
            {
                join_host_port(ip, int(port))
                for ip, _node, _name, port in endpoint_addresses(cluster.slices_of(*service.key))
            }
        )
        shown = ",".join(pairs[:MAX_ENDPOINTS]) or "<none>"
        if len(pairs) > MAX_ENDPOINTS:
            shown += f" + {len(pairs) - MAX_ENDPOINTS} more..."
        rows.append(([service.namespace] if with_namespace else []) + [service.name, shown])
    return rows


def labels_text(labels: object) -> str:
    """The LABELS column of --show-labels: k=v,... sorted by key, or <none>."""
    return selector_text(labels)


def describe_service(service: Service, slices: list[EndpointSlice]) -> str:
    endpoints_by_port: dict[str, list[str]] = {}
    for slice_ in slices:
        for port in slice_.ports:
            for endpoint in slice_.endpoints:
                if endpoint.addresses and endpoint.conditions.ready is not False:
                    # net.JoinHostPort, as kubectl writes them: [IPv6]:port.
                    endpoints_by_port.setdefault(port.name or "", []).append(
                        join_host_port(endpoint.addresses[0], port.port or 0)
                    )
    lines = [
        ("Name:", service.name),
        ("Namespace:", service.namespace),
        ("Labels:", selector_text(service.labels)),
        ("Selector:", selector_text(service.selector)),
        ("Type:", service.type),
    ]
    # kubectl's describe.go: the policy only when set, the families and IPs always ("<none>" when empty).
    if service.ip_family_policy:
        lines.append(("IP Family Policy:", service.ip_family_policy))
    lines.append(("IP Families:", ",".join(service.ip_families) or "<none>"))
    lines.append(("IP:", service.cluster_ip))
    lines.append(("IPs:", ",".join(manifests_out.service_cluster_ips(service)) or "<none>"))
    if service.external_ips:
        lines.append(("External IPs:", ",".join(service.external_ips)))
    for port in service.ports:
        name = port.name or "<unset>"
        lines.append(("Port:", f"{name}  {port.port}/{port.protocol}"))
        target = port.target_port if port.target_port is not None else port.port
        lines.append(("TargetPort:", f"{target}/{port.protocol}"))
        if port.node_port:
            lines.append(("NodePort:", f"{name}  {port.node_port}/{port.protocol}"))
        endpoints = sorted(endpoints_by_port.get(port.name, []))
        # describe.go's formatEndpointSlices: the first three, then "+ N more...".
        shown = ",".join(endpoints[:MAX_ENDPOINTS]) if endpoints else "<none>"
        if len(endpoints) > MAX_ENDPOINTS:
            shown += f" + {len(endpoints) - MAX_ENDPOINTS} more..."
        lines.append(("Endpoints:", shown))
    lines.append(("Session Affinity:", service.session_affinity))
    if service.type in ("NodePort", "LoadBalancer"):
        lines.append(("External Traffic Policy:", service.external_traffic_policy))
    lines.append(("Internal Traffic Policy:", service.internal_traffic_policy))
    lines.append(("Events:", "<none>"))
    width = max(len(label) for label, _ in lines) + 2
    out = []
    for label, value in lines:
        if label == "Labels:" and value != "<none>":
            # kubectl prints one label per line, the others under the first.
            first, *more = value.split(",")
            out.append(f"{label.ljust(width)}{first}\n")
            out += [f"{' ' * width}{item}\n" for item in more]
            continue
        out.append(f"{label.ljust(width)}{value}\n")
    return "".join(out)


def yaml_of(objects: list[dict[str, object]]) -> str:
    """One object as itself, several as a ``kind: List``, as ``kubectl get -o yaml`` prints them."""
    if len(objects) == 1:
        return manifests_out.dump_yaml([objects[0]])
    return manifests_out.dump_yaml([{"apiVersion": "v1", "kind": "List", "items": objects}])
