"""``kubectl describe service|pod|node|endpointslice``: kubectl's layout (English, as kubectl prints it)."""

from __future__ import annotations

from collections.abc import Mapping

from kproxy_tutor.sandbox.cluster import CONTROL_PLANE_LABEL, Cluster
from kproxy_tutor.sandbox.model import EndpointSlice, Node, Pod
from kproxy_tutor.shell import kubectl_view
from kproxy_tutor.shell.manifests_out import container_name, endpoint_slice_manifest, pod_ips
from kproxy_tutor.shell.names import close_match, not_found
from kproxy_tutor.shell.output import Output, Verbatim
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.session import Session

#: The label of a line that continues the value above it, in the same column.
MORE = "\t"


def _fields(lines: list[tuple[str, str]]) -> str:
    """``Label:   value`` lines with the values in one column; a line with label "" is printed as it is."""
    width = max(len(label) for label, _ in lines if label and label != MORE) + 2
    out = []
    for label, value in lines:
        if label == MORE:
            out.append(" " * width + value)
        else:
            out.append(f"{label.ljust(width)}{value}".rstrip() if label else value)
    return "\n".join(out) + "\n"


def _labels(labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """kubectl prints one label per line, the first after ``Labels:``, the others under it."""
    items = [f"{k}={v}" for k, v in sorted(labels.items())] or ["<none>"]
    return [("Labels:", items[0]), *((MORE, item) for item in items[1:])]


def describe(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    from kproxy_tutor.shell.kubectl_edit import namespace_of

    kind = invocation.command.words[2]
    name = invocation.arg("NAME")
    cluster = session.cluster
    if kind == "node":
        node = cluster.nodes.get(name)
        if node is None:
            from kproxy_tutor.errors import N_, SandboxInputError

            suggestion = close_match(name, cluster.nodes)
            if suggestion:
                raise SandboxInputError(
                    N_("There is no node named {name!r}. Did you mean {suggestion!r}?"),
                    name=name,
                    suggestion=suggestion,
                )
            raise SandboxInputError(
                N_("There is no node named {name!r}. Nodes: {names}."),
                name=name,
                names=", ".join(cluster.nodes),
            )
        return [Verbatim(describe_node(cluster, node))]
    namespace = namespace_of(session, invocation)
    if kind == "service":
        service = cluster.services.get((namespace, name))
        if service is None:
            raise not_found("Service", namespace, name, [s for ns, s in cluster.services if ns == namespace])
        return [Verbatim(kubectl_view.describe_service(service, cluster.slices_of(namespace, name)))]
    if kind == "pod":
        pod = cluster.pods.get((namespace, name))
        if pod is None:
            raise not_found("Pod", namespace, name, [p for ns, p in cluster.pods if ns == namespace])
        return [Verbatim(describe_pod(cluster, pod, session.images.get((namespace, name), "")))]
    slice_ = cluster.endpoint_slices.get((namespace, name))
    if slice_ is None:
        raise not_found(
            "EndpointSlice", namespace, name, [s for ns, s in cluster.endpoint_slices if ns == namespace]
        )
    return [Verbatim(describe_slice(slice_))]


def describe_pod(cluster: Cluster, pod: Pod, image: str = "") -> str:
    node = cluster.nodes.get(pod.node_name)
    node_text = f"{pod.node_name}/{node.internal_ips[0]}" if node and node.internal_ips else pod.node_name
    status = "Terminating" if pod.terminating else "Running"
    labels = _labels(pod.labels)
    lines = [
        ("Name:", pod.name),
        ("Namespace:", pod.namespace),
        ("Node:", node_text or "<none>"),
        *labels,
        ("Status:", status),
        ("IP:", pod.pod_ip),
    ]
    # kubectl's describePodIPs: one "IP:" line per status.podIPs entry, indented under "IPs:".
    ips = pod_ips(pod)
    lines += [("IPs:", "")] + [("  IP:", ip) for ip in ips] if ips else [("IPs:", "<none>")]
    if pod.owner:
        lines.append(("Controlled By:", f"ReplicaSet/{pod.name.rsplit('-', 1)[0]}"))
    lines.append(("Containers:", ""))
    name = container_name(pod)
    lines.append(("", f"  {name}:"))
    lines.append(("", f"    Image:  {image or name}"))
    ports = ",".join(f"{p.container_port}/{p.protocol}" for p in pod.ports) or "<none>"
    lines.append(("", f"    Port:   {ports}"))
    lines.append(("Conditions:", ""))
    lines.append(("", "  Type   Status"))
    lines.append(("", f"  Ready  {'True' if pod.ready else 'False'}"))
    lines.append(("Events:", "<none>"))
    return _fields(lines)


def describe_node(cluster: Cluster, node: Node) -> str:
    labels = _labels(node.labels)
    pods = sorted(
        (p for p in cluster.pods.values() if p.node_name == node.name), key=lambda p: (p.namespace, p.name)
    )
    lines = [
        ("Name:", node.name),
        ("Roles:", "control-plane" if CONTROL_PLANE_LABEL in node.labels else "<none>"),
        *labels,
        ("Addresses:", ""),
        *(("", f"  InternalIP:  {ip}") for ip in node.internal_ips),
        # As kubectl prints them: spec.podCIDR and spec.podCIDRs, each only when set.
        *((("PodCIDR:", node.pod_cidr()),) if node.pod_cidrs else ()),
        *((("PodCIDRs:", ",".join(node.pod_cidrs)),) if node.pod_cidrs else ()),
        ("Non-terminated Pods:", f"({len(pods)} in total)"),
    ]
    if pods:
        rows = [["  Namespace", "Name"], *[[f"  {p.namespace}", p.name] for p in pods]]
        lines += [("", row) for row in kubectl_view.table(rows).rstrip("\n").split("\n")]
    lines.append(("Events:", "<none>"))
    return _fields(lines)


def describe_slice(slice_: EndpointSlice) -> str:
    labels = _labels(endpoint_slice_manifest(slice_)["metadata"]["labels"])
    lines = [
        ("Name:", slice_.name),
        ("Namespace:", slice_.namespace),
        *labels,
        ("AddressType:", slice_.address_type),
        ("Ports:", ""),
    ]
    rows = [["  Name", "Port", "Protocol"], ["  ----", "----", "--------"]]
    for port in slice_.ports:
        rows.append(
            [
                f"  {port.name or '<unset>'}",
                str(port.port) if port.port is not None else "<unset>",
                port.protocol,
            ]
        )
    lines += [("", row) for row in kubectl_view.table(rows).rstrip("\n").split("\n")]
    lines.append(("Endpoints:", "" if slice_.endpoints else "<none>"))
    for endpoint in slice_.endpoints:
        conditions = endpoint.conditions
        lines.append(("", f"  - Addresses:  {','.join(endpoint.addresses)}"))
        lines.append(("", "    Conditions:"))
        for label, value in (
            ("Ready", conditions.ready),
            ("Serving", conditions.serving),
            ("Terminating", conditions.terminating),
        ):
            if value is not None:
                lines.append(("", f"      {label + ':':<13}{str(value).lower()}"))
        lines.append(("", f"    NodeName:   {endpoint.node_name or '<unset>'}"))
        lines.append(("", f"    Zone:       {endpoint.zone or '<unset>'}"))
    lines.append(("Events:", "<none>"))
    return _fields(lines)
