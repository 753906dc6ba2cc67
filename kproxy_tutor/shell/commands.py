"""The handler of every shell command, by the command's words; the read-only kubectl views and session commands live here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kproxy_tutor.errors import N_, SandboxInputError, file_error
from kproxy_tutor.shell import (
    explain_command,
    kubectl_edit,
    kubectl_view,
    manifests_out,
    mode_commands,
    net_commands,
)
from kproxy_tutor.shell.output import ExitRequest, HelpReport, Note, Output, ScenarioList, Verbatim
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.scenarios import all_scenarios, find_scenario
from kproxy_tutor.shell.session import STATE_KIND, Session, Start

Handler = Callable[[Session, Invocation, "str | None"], list[Output]]


def get(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    resource = invocation.arg("RESOURCE")
    name = invocation.args.get("NAME")
    output = invocation.text("output")
    everywhere = invocation.switch("all_namespaces")
    namespace = None if everywhere else kubectl_edit.namespace_of(session, invocation)
    cluster = session.cluster

    def visible(ns: str, object_name: str) -> bool:
        return (namespace is None or ns == namespace) and (name is None or object_name == name)

    if resource == "nodes":
        nodes = [n for n in cluster.nodes.values() if name is None or n.name == name]
        if output == "yaml":
            return [Verbatim(kubectl_view.yaml_of([manifests_out.node_manifest(n) for n in nodes]))]
        return [Verbatim(kubectl_view.table(kubectl_view.node_rows(cluster, output == "wide")))]
    objects: list
    if resource == "pods":
        objects = sorted(
            (p for p in cluster.pods.values() if visible(p.namespace, p.name)),
            key=lambda p: (p.namespace, p.name),
        )
        to_yaml, rows = (
            manifests_out.pod_manifest,
            kubectl_view.pod_rows(objects, output == "wide", namespace is None),
        )
    elif resource == "services":
        objects = sorted(
            (s for s in cluster.services.values() if visible(s.namespace, s.name)),
            key=lambda s: (s.namespace, s.name),
        )
        to_yaml, rows = (
            manifests_out.service_manifest,
            kubectl_view.service_rows(objects, output == "wide", namespace is None),
        )
    elif resource == "endpointslices":
        objects = sorted(
            (s for s in cluster.endpoint_slices.values() if visible(s.namespace, s.name)),
            key=lambda s: (s.namespace, s.name),
        )
        to_yaml, rows = (
            manifests_out.endpoint_slice_manifest,
            kubectl_view.slice_rows(objects, namespace is None),
        )
    else:
        objects = sorted(
            (d for d in cluster.deployments.values() if visible(d.namespace, d.name)),
            key=lambda d: (d.namespace, d.name),
        )
        to_yaml, rows = manifests_out.deployment_manifest, kubectl_view.deployment_rows(cluster, namespace)
    if not objects:
        if name is not None:
            raise SandboxInputError(
                N_("There is no {kind} {name!r} in namespace {namespace}."),
                kind=resource,
                name=name,
                namespace=namespace or "default",
            )
        if namespace is None:
            return [Note(N_("No resources found."))]
        return [Note(N_("No resources found in {namespace} namespace."), {"namespace": namespace})]
    if output == "yaml":
        return [Verbatim(kubectl_view.yaml_of([to_yaml(o) for o in objects]))]
    if resource == "deployments":
        rows = [rows[0]] + [r for r in rows[1:] if name is None or name in r]
    return [Verbatim(kubectl_view.table(rows))]


def describe(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    name, namespace = invocation.arg("NAME"), kubectl_edit.namespace_of(session, invocation)
    service = session.cluster.services.get((namespace, name))
    if service is None:
        known = [s for ns, s in session.cluster.services if ns == namespace]
        raise kubectl_edit._not_found("Service", namespace, name, known)
    return [Verbatim(kubectl_view.describe_service(service, session.cluster.slices_of(namespace, name)))]


def watch(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    state = invocation.args.get("STATE")
    if state is not None:
        session.watch = state == "on"
    if session.watch:
        return [
            Note(
                N_(
                    "Watch is on: after every change you see the events kube-proxy on {node} received "
                    "and the rules its sync changed."
                ),
                {"node": session.node},
            )
        ]
    return [Note(N_("Watch is off."))]


def node(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    name = invocation.args.get("NAME")
    if not isinstance(name, str):
        lines = [
            f"{'*' if n == session.node else ' '} {n}  {','.join(session.cluster.nodes[n].internal_ips)}"
            for n in session.cluster.nodes
        ]
        return [Verbatim("\n".join(lines) + "\n")]
    if name not in session.cluster.nodes:
        import difflib

        close = difflib.get_close_matches(name, list(session.cluster.nodes), n=1)
        if close:
            raise SandboxInputError(
                N_("There is no node named {name!r}. Did you mean {suggestion!r}?"),
                name=name,
                suggestion=close[0],
            )
        raise SandboxInputError(
            N_("There is no node named {name!r}. Nodes: {names}."),
            name=name,
            names=", ".join(session.cluster.nodes),
        )
    session.node = name
    return [Note(N_("Now looking at node {node}: its rules, counters and connections."), {"node": name})]


def scenario(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    name = invocation.args.get("NAME")
    if not isinstance(name, str):
        return [ScenarioList(tuple((s.name, s.title, s.description) for s in all_scenarios()))]
    chosen = find_scenario(name)
    start = Start(chosen.manifests, chosen.source, chosen.node, chosen.name)
    session.restart(start)
    session.origin = start
    return [
        Note(
            N_("Scenario {name} loaded; you are on node {node}."), {"name": chosen.name, "node": session.node}
        )
    ]


def save(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    path = Path(invocation.arg("FILE"))
    cluster = session.cluster
    header = {"apiVersion": "kproxy-tutor/v1", "kind": STATE_KIND, "node": session.node}
    if session.scenario:
        header["scenario"] = session.scenario
    # Pods a Deployment owns are recreated from it; only their readiness has to be remembered.
    states = [
        {"namespace": p.namespace, "name": p.name, "ready": p.ready, "terminating": p.terminating}
        for p in cluster.pods.values()
        if p.owner and (not p.ready or p.terminating)
    ]
    if states:
        header["podStates"] = states
    docs: list[dict] = [header]
    docs += [manifests_out.node_manifest(n) for n in cluster.nodes.values()]
    docs += [manifests_out.service_manifest(s) for s in cluster.services.values()]
    docs += [
        manifests_out.endpoint_slice_manifest(s)
        for s in cluster.endpoint_slices.values()
        if not manifests_out.is_derived(s)
    ]
    docs += [
        manifests_out.deployment_manifest(d, session.images.get((d.namespace, d.name), ""))
        for d in cluster.deployments.values()
    ]
    docs += [
        manifests_out.pod_manifest(p, session.images.get((p.namespace, p.name), ""))
        for p in cluster.pods.values()
        if not p.owner
    ]
    try:
        path.write_text(manifests_out.dump_yaml(docs), encoding="utf-8")
    except OSError as error:
        raise SandboxInputError(
            N_("Cannot write {path}: {problem}."), path=str(path), problem=error.strerror or str(error)
        ) from None
    return [Note(N_("Saved to {path}."), {"path": str(path)}, tone="success")]


def load(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    filename = invocation.arg("FILE")
    try:
        text = Path(filename).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise file_error(SandboxInputError, filename, error) from None
    start = session.load_start(text, filename)
    session.restart(start)  # builds everything first: a bad file leaves the sandbox as it was
    session.origin = start
    return [Note(N_("Loaded {path}; you are on node {node}."), {"path": filename, "node": session.node})]


def reset(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    session.restart(session.origin)
    return [Note(N_("The sandbox is back where it started."))]


def help_command(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    words = invocation.args.get("COMMAND") or []
    assert isinstance(words, list)
    if not words:
        return [HelpReport(None)]
    from kproxy_tutor.shell.parser import find_command

    return [HelpReport(find_command(words).name)]


def exit_command(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    return [ExitRequest()]


HANDLERS: dict[str, Handler] = {
    "kubectl create deployment": kubectl_edit.create_deployment,
    "kubectl run": kubectl_edit.run_pod,
    "kubectl expose deployment": kubectl_edit.expose,
    "kubectl expose pod": kubectl_edit.expose,
    "kubectl scale deployment": kubectl_edit.scale,
    "kubectl delete pod": kubectl_edit.delete,
    "kubectl delete service": kubectl_edit.delete,
    "kubectl delete deployment": kubectl_edit.delete,
    "kubectl label pod": kubectl_edit.label,
    "kubectl apply": kubectl_edit.apply,
    "kubectl get": get,
    "kubectl describe service": describe,
    "pod": kubectl_edit.set_pod_state,
    "iptables-save": net_commands.iptables_save,
    "iptables": net_commands.iptables,
    "conntrack -L": net_commands.conntrack,
    "curl": net_commands.curl,
    "mode": mode_commands.mode,
    "nft list table": mode_commands.nft_list,
    "nft list ruleset": mode_commands.nft_list,
    "ipvsadm": mode_commands.ipvsadm,
    "ip addr show": mode_commands.ip_addr,
    "ipset list": mode_commands.ipset_list,
    "explain": explain_command.explain,
    "watch": watch,
    "node": node,
    "scenario": scenario,
    "save": save,
    "load": load,
    "reset": reset,
    "help": help_command,
    "exit": exit_command,
}
