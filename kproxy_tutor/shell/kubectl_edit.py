"""kubectl commands that change the cluster (create, run, expose, scale, delete, label, apply) and ``pod NAME STATE``.

Each handler checks what it can up front, then hands one function to ``Session.edit``, which
runs it on a copy first: the cluster changes completely or not at all. The confirmation lines
are kubectl's own (English, as kubectl prints them).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from kproxy_tutor.errors import N_, SandboxInputError, file_error
from kproxy_tutor.sandbox.allocation import name_suffix
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.model import ContainerPort, Deployment, Pod, Service, ServicePort, frozen_labels
from kproxy_tutor.sandbox.validation import (
    check_namespace,
    check_object_name,
    check_port_name,
    check_service_name,
)
from kproxy_tutor.shell.documents import apply_objects, documents
from kproxy_tutor.shell.output import Note, Output, Verbatim, WatchReport
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.session import Session

_LABEL_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)\Z")
_LABEL_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")


def namespace_of(session: Session, invocation: Invocation) -> str:
    namespace = invocation.text("namespace", "default")
    check_namespace(namespace)
    return namespace


def with_watch(session: Session, lines: list[Output], report: WatchReport) -> list[Output]:
    return [*lines, report] if session.watch else lines


def check_label(key: str, value: str | None) -> None:
    prefix, _, name = key.rpartition("/")
    if (
        not name
        or len(name) > 63
        or not _LABEL_NAME.match(name)
        or (prefix and (len(prefix) > 253 or not _LABEL_PREFIX.match(prefix)))
    ):
        raise SandboxInputError(
            N_(
                "Invalid label key {key!r}: use letters, digits, '-', '_' and '.', at most 63 characters, "
                "optionally after a DNS prefix and '/'."
            ),
            key=key,
        )
    if value is not None and value != "" and (len(value) > 63 or not _LABEL_NAME.match(value)):
        raise SandboxInputError(
            N_(
                "Invalid label value {value!r}: use letters, digits, '-', '_' and '.', at most 63 characters, "
                "starting and ending with a letter or digit."
            ),
            value=value,
        )


def parse_labels(text: str) -> dict[str, str]:
    labels = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise SandboxInputError(N_("Invalid label {label!r}: write key=value."), label=item)
        check_label(key, value)
        labels[key] = value
    return labels


def _ports(invocation: Invocation) -> tuple[ContainerPort, ...]:
    port = invocation.number("port")
    return (ContainerPort(port),) if port is not None else ()


def create_deployment(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    name, namespace = invocation.arg("NAME"), namespace_of(session, invocation)
    check_object_name("Deployment", name)
    if (namespace, name) in session.cluster.deployments:
        raise SandboxInputError(
            N_("Deployment {name!r} already exists in namespace {namespace}."), name=name, namespace=namespace
        )
    labels = frozen_labels({"app": name})
    deployment = Deployment(
        namespace, name, invocation.number("replicas", 1) or 0, labels, labels, _ports(invocation)
    )
    _, report = session.edit(lambda cluster: cluster.apply_deployment(deployment))
    session.images[(namespace, name)] = invocation.text("image")
    return with_watch(session, [Verbatim(f"deployment.apps/{name} created\n")], report)


def run_pod(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    name, namespace = invocation.arg("NAME"), namespace_of(session, invocation)
    check_object_name("Pod", name)
    if (namespace, name) in session.cluster.pods:
        raise SandboxInputError(
            N_("Pod {name!r} already exists in namespace {namespace}."), name=name, namespace=namespace
        )
    labels_text = invocation.text("labels")
    labels = parse_labels(labels_text) if labels_text else {"run": name}
    pod = Pod(namespace, name, frozen_labels(labels), ports=_ports(invocation))
    _, report = session.edit(lambda cluster: cluster.apply_pod(pod))
    session.images[(namespace, name)] = invocation.text("image")
    return with_watch(session, [Verbatim(f"pod/{name} created\n")], report)


def _target_port(text: str) -> int | str | None:
    if not text:
        return None
    if text.isdigit():
        number = int(text)
        if not 1 <= number <= 65535:
            raise SandboxInputError(
                N_("Invalid {what} {value!r}: a port number must be between 1 and 65535."),
                what="--target-port",
                value=number,
            )
        return number
    check_port_name(text)
    return text


def expose(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    kind = invocation.command.words[2]
    source, namespace = invocation.arg("NAME"), namespace_of(session, invocation)
    cluster = session.cluster
    if kind == "deployment":
        deployment = cluster.deployments.get((namespace, source))
        if deployment is None:
            raise _not_found(
                "Deployment", namespace, source, [d for ns, d in cluster.deployments if ns == namespace]
            )
        selector = dict(deployment.selector)
    else:
        pod = cluster.pods.get((namespace, source))
        if pod is None:
            raise _not_found("Pod", namespace, source, [p for ns, p in cluster.pods if ns == namespace])
        selector = dict(pod.labels)
        if not selector:
            raise SandboxInputError(
                N_("Pod {name!r} has no labels, so a Service cannot select it."), name=source
            )
    name = invocation.text("name") or source
    check_service_name(name)
    if (namespace, name) in cluster.services:
        raise SandboxInputError(
            N_("Service {name!r} already exists in namespace {namespace}."), name=name, namespace=namespace
        )
    port = ServicePort(
        invocation.number("port") or 0,
        "",
        invocation.text("protocol", "TCP"),
        _target_port(invocation.text("target_port")),
    )
    service = Service(
        namespace,
        name,
        invocation.text("type", "ClusterIP"),
        ports=(port,),
        selector=frozen_labels(selector),
        labels=frozen_labels(selector),
    )
    _, report = session.edit(lambda c: c.apply_service(service))
    return with_watch(session, [Verbatim(f"service/{name} exposed\n")], report)


def scale(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    name, namespace = invocation.arg("NAME"), namespace_of(session, invocation)
    deployment = session.cluster.deployments.get((namespace, name))
    if deployment is None:
        raise _not_found(
            "Deployment", namespace, name, [d for ns, d in session.cluster.deployments if ns == namespace]
        )
    scaled = dataclasses.replace(deployment, replicas=invocation.number("replicas", 0) or 0)
    _, report = session.edit(lambda cluster: cluster.apply_deployment(scaled))
    return with_watch(session, [Verbatim(f"deployment.apps/{name} scaled\n")], report)


def delete(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    kind = invocation.command.words[2]
    name, namespace = invocation.arg("NAME"), namespace_of(session, invocation)
    cluster = session.cluster
    if kind == "pod":
        pod = cluster.pods.get((namespace, name))
        if pod is None:
            raise _not_found("Pod", namespace, name, [p for ns, p in cluster.pods if ns == namespace])
        _, report = session.edit(lambda c: _delete_pod(c, c.pods[(namespace, name)]))
        return with_watch(session, [Verbatim(f'pod "{name}" deleted\n')], report)
    if kind == "service":
        if (namespace, name) not in cluster.services:
            raise _not_found("Service", namespace, name, [s for ns, s in cluster.services if ns == namespace])
        _, report = session.edit(lambda c: c.remove_service(namespace, name))
        return with_watch(session, [Verbatim(f'service "{name}" deleted\n')], report)
    if (namespace, name) not in cluster.deployments:
        raise _not_found(
            "Deployment", namespace, name, [d for ns, d in cluster.deployments if ns == namespace]
        )
    _, report = session.edit(lambda c: c.remove_deployment(namespace, name))
    session.images.pop((namespace, name), None)
    return with_watch(session, [Verbatim(f'deployment.apps "{name}" deleted\n')], report)


def _delete_pod(cluster: Cluster, pod: Pod) -> None:
    if pod.owner:
        # The ReplicaSet starts a replacement while the old Pod still holds its IP, so the new
        # Pod gets a new name and a new address, as in a real cluster.
        prefix = pod.name.rsplit("-", 1)[0]
        replacement = Pod(
            pod.namespace,
            f"{prefix}-{name_suffix(pod.name + '/replacement', 5)}",
            pod.labels,
            ports=pod.ports,
            owner=pod.owner,
        )
        cluster.apply_pod(replacement)
    cluster.remove_pod(pod.namespace, pod.name)


def label(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    name, namespace = invocation.arg("NAME"), namespace_of(session, invocation)
    pod = session.cluster.pods.get((namespace, name))
    if pod is None:
        raise _not_found("Pod", namespace, name, [p for ns, p in session.cluster.pods if ns == namespace])
    labels = dict(pod.labels)
    changes = invocation.args.get("LABEL") or []
    assert isinstance(changes, list)
    for change in changes:
        if change.endswith("-") and "=" not in change:
            check_label(change[:-1], None)
            labels.pop(change[:-1], None)
            continue
        key, sep, value = change.partition("=")
        if not sep:
            raise SandboxInputError(
                N_("Invalid label {label!r}: write key=value to set it or key- to remove it."), label=change
            )
        check_label(key, value)
        if key in labels and labels[key] != value and not invocation.switch("overwrite"):
            raise SandboxInputError(
                N_("Label {key!r} already has a value ({value}); add --overwrite to change it."),
                key=key,
                value=labels[key],
            )
        labels[key] = value
    if labels == dict(pod.labels):
        return [Verbatim(f"pod/{name} not labeled\n")]
    relabelled = dataclasses.replace(pod, labels=frozen_labels(labels))
    _, report = session.edit(lambda cluster: cluster.apply_pod(relabelled))
    return with_watch(session, [Verbatim(f"pod/{name} labeled\n")], report)


def set_pod_state(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    name, namespace = invocation.arg("NAME"), namespace_of(session, invocation)
    if (namespace, name) not in session.cluster.pods:
        raise _not_found("Pod", namespace, name, [p for ns, p in session.cluster.pods if ns == namespace])
    state = invocation.arg("STATE")
    ready = state != "not-ready"
    terminating = state == "terminating"
    _, report = session.edit(lambda c: c.set_pod_state(namespace, name, ready=ready, terminating=terminating))
    messages = {
        "ready": N_("Pod {name} is ready: its endpoint takes new connections."),
        "not-ready": N_("Pod {name} is not ready: its endpoint is kept but gets no new connections."),
        "terminating": N_(
            "Pod {name} is terminating: its endpoint is used only if no ready endpoint is left."
        ),
    }
    return with_watch(session, [Note(messages[state], {"name": f"{namespace}/{name}"})], report)


API_NAMES = {
    "Deployment": "deployment.apps",
    "Service": "service",
    "Pod": "pod",
    "EndpointSlice": "endpointslice.discovery.k8s.io",
    "Node": "node",
    "ServiceCIDR": "servicecidr.networking.k8s.io",
}


def apply(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    filename = invocation.text("filename")
    if filename == "-":
        if document is None:
            raise SandboxInputError(
                N_("kubectl apply -f - reads YAML from the next lines, up to a line with EOF.")
            )
        text, source = document, "<stdin>"
    else:
        path = Path(filename)
        try:
            text, source = path.read_text(encoding="utf-8"), filename
        except (OSError, ValueError) as error:
            raise file_error(SandboxInputError, filename, error) from None
    cluster = session.cluster
    stores = {
        "Deployment": cluster.deployments,
        "Service": cluster.services,
        "Pod": cluster.pods,
        "EndpointSlice": cluster.endpoint_slices,
    }
    cluster_scoped = {"Node": cluster.nodes, "ServiceCIDR": cluster.service_cidr_objects}
    before = {kind: dict(store) for kind, store in stores.items()}
    scoped_before = {kind: dict(store) for kind, store in cluster_scoped.items()}
    parsed = documents(text, source)  # read once; the trial on a copy and the real edit share it
    applied, report = session.edit(lambda c: apply_objects(c, parsed, source))
    lines = []
    for kind, namespace, name in applied:
        if kind in cluster_scoped:
            old, new = scoped_before[kind].get(name), cluster_scoped[kind].get(name)
        else:
            old, new = before[kind].get((namespace, name)), stores[kind].get((namespace, name))
        status = "created" if old is None else ("unchanged" if old == new else "configured")
        lines.append(f"{API_NAMES[kind]}/{name} {status}")
    return with_watch(session, [Verbatim("\n".join(lines) + "\n")], report)


def _not_found(kind: str, namespace: str, name: str, known: list[str]) -> SandboxInputError:
    from kproxy_tutor.shell.names import not_found

    return not_found(kind, namespace, name, known)
