"""The handler of every shell command, by the command's words; the read-only kubectl views and session commands live here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kproxy_tutor.errors import N_, SandboxInputError, file_error, write_problem
from kproxy_tutor.sandbox.allocation import split_cidrs
from kproxy_tutor.sandbox.cluster import DEFAULT_SERVICE_CIDR
from kproxy_tutor.shell import (
    explain_command,
    kubectl_describe,
    kubectl_edit,
    kubectl_exec,
    kubectl_get,
    kubectl_patch,
    manifests_out,
    mode_commands,
    net_commands,
)
from kproxy_tutor.shell.output import (
    ClearScreen,
    ExitRequest,
    HelpReport,
    Note,
    Output,
    ScenarioIntro,
    ScenarioList,
    Verbatim,
)
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.scenarios import all_scenarios, find_scenario
from kproxy_tutor.shell.session import STATE_KIND, Session, Start

Handler = Callable[[Session, Invocation, "str | None"], list[Output]]


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
        from kproxy_tutor.suggest import close_match

        suggestion = close_match(name, session.cluster.nodes)
        if suggestion is not None:
            raise SandboxInputError(
                N_("There is no node named {name!r}. Did you mean {suggestion!r}?"),
                name=name,
                suggestion=suggestion,
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
        ),
        ScenarioIntro(chosen.title, chosen.description, chosen.try_commands),
    ]


def save(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    path = Path(invocation.arg("FILE"))
    write_state(session, path)
    return [Note(N_("Saved to {path}."), {"path": str(path)}, tone="success")]


def write_state(session: Session, path: Path) -> None:
    """Write the sandbox to ``path`` as manifests plus the SandboxState header; then nothing is unsaved."""
    try:
        path.write_text(state_yaml(session), encoding="utf-8")
    except (OSError, ValueError) as error:
        raise SandboxInputError(
            N_("Cannot write {path}: {problem}."), path=str(path), problem=write_problem(error)
        ) from None
    session.unsaved = False


def state_yaml(session: Session) -> str:
    """The session as a sandbox state file: what ``save`` writes and ``load`` reads."""
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
    # ServiceCIDRs first (ClusterIPs are allocated from them); the default one only when it changed.
    docs += [
        manifests_out.service_cidr_manifest(c)
        for c in cluster.service_cidr_objects.values()
        if c.name != DEFAULT_SERVICE_CIDR or c.cidrs != split_cidrs(cluster.network.service_cidr)
    ]
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
    return manifests_out.dump_yaml(docs)


def load(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    filename = invocation.arg("FILE")
    try:
        text = Path(filename).read_text(encoding="utf-8")
    except (OSError, ValueError) as error:
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
    from kproxy_tutor.shell.parser import commands_under, find_command

    under = commands_under(words)
    if len(under) > 1:  # help kubectl, help kubectl delete, help nft
        return [HelpReport(None, tuple(command.name for command in under))]
    return [HelpReport(find_command(words).name)]


def exit_command(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    return [ExitRequest()]


def clear(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    return [ClearScreen()]


def history(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    """Numbered as bash prints them: the number right-aligned in five columns, two spaces, the line."""
    text = invocation.args.get("N")
    lines = list(enumerate(session.history, 1))
    if isinstance(text, str):
        if not (text.isascii() and text.isdigit()):
            raise SandboxInputError(
                N_("Invalid value for {name}: {value!r} is not a number."), name="N", value=text
            )
        lines = lines[-int(text) :] if int(text) else []
    return [Verbatim("".join(f"{number:>5}  {line}\n" for number, line in lines))]


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
    "kubectl get": kubectl_get.get,
    "kubectl exec": kubectl_exec.exec_command,
    "kubectl patch": kubectl_patch.patch,
    "kubectl edit": kubectl_patch.edit,
    "clear": clear,
    "history": history,
    "kubectl describe service": kubectl_describe.describe,
    "kubectl describe pod": kubectl_describe.describe,
    "kubectl describe node": kubectl_describe.describe,
    "kubectl describe endpointslice": kubectl_describe.describe,
    "pod": kubectl_edit.set_pod_state,
    "iptables-save": net_commands.iptables_save,
    "ip6tables-save": net_commands.ip6tables_save,
    "ip6tables": net_commands.ip6tables,
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
