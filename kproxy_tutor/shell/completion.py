"""Tab completion, terminal-free: from the text before the cursor, the word being typed and what it may become.

Command words come from the grammar; flag values and arguments from the live session
(Pods, Services, Deployments, nodes, chains of the current node, files, scenarios).
"""

from __future__ import annotations

import os
import shlex

from kproxy_tutor.shell import grammar
from kproxy_tutor.shell.grammar import Command
from kproxy_tutor.shell.session import Session


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def complete(session: Session, text: str) -> tuple[str, list[str]]:
    """(the partial word at the cursor, sorted candidates that start with it)."""
    tokens = _tokens(text)
    current = "" if not text or text[-1].isspace() or not tokens else tokens.pop()
    candidates = _candidates(session, tokens, current)
    if "," in current:  # a comma list (svc,po): complete its last item
        head = current.rsplit(",", 1)[0] + ","
        candidates = [head + c for c in candidates]
    return current, sorted({c for c in candidates if c.startswith(current)})


def inserted(candidate: str) -> str:
    """What Tab inserts for ``candidate``: the word and a space, as shells do, unless more may follow it.

    A directory (``dir/``), a ``key=`` or a comma list (``svc,``) goes on without a space.
    """
    return candidate if candidate.endswith(("/", "=", ",")) else candidate + " "


def _candidates(session: Session, tokens: list[str], current: str) -> list[str]:
    if tokens and tokens[0] in grammar.COMMAND_ALIASES:
        tokens = [*grammar.COMMAND_ALIASES[tokens[0]], *tokens[1:]]
    if len(tokens) >= 3 and tokens[0] == "kubectl":
        tokens = [*tokens[:2], grammar.WORD_ALIASES.get(tokens[2], tokens[2]), *tokens[3:]]
    # Still typing the command's words?
    nexts = {
        c.words[len(tokens)]
        for c in grammar.COMMANDS
        if len(c.words) > len(tokens) and c.words[: len(tokens)] == tuple(tokens)
    }
    command = _longest(tokens)
    if command is None:
        return sorted(nexts)
    rest = tokens[len(command.words) :]
    if rest:
        flag = command.flag(rest[-1])
        if flag is not None and not flag.switch:
            return _values(session, flag.kind, flag.choices, tokens)
    if current.startswith("-"):
        return [name for f in command.flags for name in f.names if name.startswith("--") or len(f.names) == 1]
    positional = _positional_count(command, rest)
    args = list(command.args)
    if positional < len(args) or (args and args[-1].many):
        arg = args[min(positional, len(args) - 1)]
        return sorted(nexts) + _values(session, arg.kind, arg.choices, tokens)
    return sorted(nexts)


def _longest(tokens: list[str]) -> Command | None:
    best = None
    for command in grammar.COMMANDS:
        n = len(command.words)
        if tuple(tokens[:n]) == command.words and (best is None or n > len(best.words)):
            best = command
    return best


def _positional_count(command: Command, rest: list[str]) -> int:
    count = 0
    skip = False
    for token in rest:
        if skip:
            skip = False
            continue
        flag = command.flag(token.partition("=")[0]) if token.startswith("-") and token != "-" else None
        if flag is not None:
            skip = not flag.switch and "=" not in token
            continue
        if not token.startswith("-"):
            count += 1
    return count


def _namespace(tokens: list[str]) -> str:
    """The namespace a command line names with -n/--namespace (kubectl's default otherwise)."""
    for i, token in enumerate(tokens[:-1]):
        if token in ("-n", "--namespace"):
            return tokens[i + 1]
        if token.startswith("--namespace="):
            return token.partition("=")[2]
    return "default"


def _values(session: Session, kind: str, choices: tuple[str, ...], tokens: list[str]) -> list[str]:
    if choices:
        return list(choices)
    cluster = session.cluster
    # kubectl completes names in the namespace the line names (default otherwise).
    namespace = _namespace(tokens)
    if kind == grammar.POD:
        if tokens and tokens[0] == "curl":
            pods = sorted({p.name for p in cluster.pods.values()})
            return [*pods, "external", *(f"node/{n}" for n in cluster.nodes)]
        return sorted({p.name for p in cluster.pods.values() if p.namespace == namespace})
    if kind == grammar.DEPLOYMENT:
        return sorted({d.name for d in cluster.deployments.values() if d.namespace == namespace})
    if kind == grammar.SERVICE:
        return sorted({s.name for s in cluster.services.values() if s.namespace == namespace})
    if kind == grammar.TARGET:
        names = []
        for service in cluster.services.values():
            names.append(service.name)
            names += [f"{service.name}:{p.port}" for p in service.ports]
        return names
    if kind == grammar.NODE:
        return list(cluster.nodes)
    if kind == grammar.RESOURCE:
        from kproxy_tutor.shell.kubectl_get import KINDS

        return [*KINDS, "all"]
    if kind == grammar.OBJECT:
        return _object_names(session, tokens)
    if kind == grammar.LABEL and tokens[:2] == ["kubectl", "get"]:
        # -l: the labels the objects carry, as key=value
        labels = {f"{k}={v}" for p in cluster.pods.values() for k, v in p.labels.items()}
        labels |= {f"{k}={v}" for s in cluster.services.values() for k, v in s.labels.items()}
        return sorted(labels)
    if kind == grammar.CONTAINER:
        from kproxy_tutor.shell.manifests_out import container_name

        return sorted({container_name(p) for p in cluster.pods.values() if p.namespace == namespace})
    if kind == grammar.CHAIN:
        table = "filter"
        for i, token in enumerate(tokens[:-1]):
            if token in ("-t", "--table"):
                table = tokens[i + 1]
        from kproxy_tutor.shell.ipvs_backend import IpvsBackend

        if session.mode == "nftables":
            return []  # kube-proxy has no chains in iptables then
        backend = session.backend
        ruleset = backend.ruleset if isinstance(backend, IpvsBackend) else session.proxier.kernel.ruleset
        if tokens and tokens[0] == "ip6tables":
            ruleset = session.ip6tables_rules()
            if ruleset is None:
                return []
        existing = ruleset.tables.get(table)
        return sorted(existing.chains) if existing is not None else []
    if kind == grammar.IPSET:
        from kproxy_tutor.shell.ipvs_backend import IpvsBackend

        backends = [session.backend, session.backend6]
        return [name for b in backends if isinstance(b, IpvsBackend) for name in b.ipset_names()]
    if kind == grammar.SCENARIO:
        from kproxy_tutor.shell.scenarios import scenario_names

        return scenario_names()
    if kind == grammar.COMMAND:
        return sorted({c.words[0] for c in grammar.COMMANDS})
    if kind == grammar.FILE:
        return _files()
    return []


def _object_names(session: Session, tokens: list[str]) -> list[str]:
    """Names of the objects of the type named before (``kubectl get svc ``, ``kubectl describe endpointslice ``)."""
    from kproxy_tutor.shell.kubectl_get import KINDS, RESOURCE_WORDS, objects_of

    if len(tokens) < 3:
        return []
    words = tokens[2].split(",")
    resources = [RESOURCE_WORDS[w] for w in words if w in RESOURCE_WORDS]
    if tokens[1] == "describe":
        resources = [RESOURCE_WORDS.get(tokens[2], tokens[2] + "s")]
    names: list[str] = []
    for resource in resources:
        if resource in KINDS:
            namespace = _namespace(tokens)
            names += [
                o.name
                for o in objects_of(session.cluster, resource)
                if getattr(o, "namespace", namespace) == namespace  # Nodes have no namespace
            ]
    return names


def _files() -> list[str]:
    try:
        entries = sorted(os.listdir("."))
    except OSError:
        return []
    return [e + "/" if os.path.isdir(e) else e for e in entries if not e.startswith(".")]
