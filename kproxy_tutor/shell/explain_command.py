"""The sandbox shell's ``explain``: the current node's rules, as its tools print them, read back by ``kproxy-tutor explain``."""

from __future__ import annotations

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.shell.backends import NftBackend
from kproxy_tutor.shell.ipvs_backend import IpvsBackend
from kproxy_tutor.shell.output import ExplainReport, Output
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.session import Session


def node_dump(session: Session) -> str:
    """What the learner would copy from this node in the current mode (the same text the shell's tools print)."""
    from kproxy_tutor.sandbox.iptables.render import render_save

    backend = session.backend
    if session.mode == "nftables" and isinstance(backend, NftBackend):
        return backend.listing()
    parts = []
    if session.mode == "ipvs" and isinstance(backend, IpvsBackend):
        parts += [backend.ipvsadm(), backend.ipset_list(None)]
    rules = session.iptables_rules()
    if rules is not None:
        parts.append(render_save(rules))
    return "".join(parts)


def explain(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    from kproxy_tutor.explain import explain_text, select_service

    sample = invocation.text("dump")
    if sample:
        from kproxy_tutor.explain.samples import sample_text

        explanation = explain_text(sample_text(sample), sample)
    else:
        explanation = explain_text(node_dump(session), f"node {session.node}")
    service = invocation.text("service")
    if service:
        wanted = service if "/" in service else f"default/{service}"
        explanation = select_service(explanation, wanted)
        if not explanation.service_ports:
            raise SandboxInputError(N_("There is no Service {service} in these rules."), service=wanted)
    return [ExplainReport(explanation)]
