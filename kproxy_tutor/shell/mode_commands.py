"""The shell's proxy-mode commands: ``mode``, and ``nft``, ``ipvsadm``, ``ip addr``, ``ipset`` on the current node."""

from __future__ import annotations

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.modes import MODE_INFO
from kproxy_tutor.shell.backends import NftBackend
from kproxy_tutor.shell.grammar_modes import MODE_OF_COMMAND
from kproxy_tutor.shell.ipvs_backend import IpvsBackend, LeftoverIpvs, NodeIpvs
from kproxy_tutor.shell.output import ModeList, Note, Output, SwitchReport, Verbatim
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.session import Session

#: One line per mode for ``mode`` without an argument (msgids).
MODE_LINES = {
    "iptables": N_("the default: a chain per Service and per endpoint, walked rule by rule"),
    "nftables": N_("one nftables table; maps find a Service's chain in one lookup"),
    "ipvs": N_("the kernel's IPVS load balancer plus ipsets; deprecated in {version}, use {replacement}"),
}


def deprecation_note(mode: str) -> Note | None:
    info = MODE_INFO[mode]
    if not info.deprecated_in:
        return None
    return Note(
        N_(
            "IPVS mode is deprecated since Kubernetes {version}: use {replacement} mode instead "
            "(the sandbox keeps it so you can compare)."
        ),
        {"version": info.deprecated_in, "replacement": info.replacement},
        tone="warning",
    )


def mode(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    wanted = invocation.args.get("MODE")
    if not isinstance(wanted, str):
        return [ModeList(session.mode)]
    if wanted == session.mode:
        outputs = [Note(N_("kube-proxy already runs in {mode} mode."), {"mode": wanted})]
    else:
        report = session.switch_mode(wanted)
        outputs = [report] if session.watch else []
        outputs.append(Note(_switch_message(report), {"mode": wanted, "old": report.old}, tone="success"))
        if not session.watch:
            outputs.append(
                Note(N_("Turn on 'watch' before switching to see what it removed, wrote and left behind."))
            )
    note = deprecation_note(wanted)
    return outputs + ([note] if note is not None else [])


def _switch_message(report: SwitchReport) -> str:
    if "nftables" not in (report.old, report.new):
        return N_(
            "kube-proxy restarted in {mode} mode on every node. It did not clean up after {old} mode: what "
            "{mode} mode does not rewrite stays on the nodes until kube-proxy --cleanup, a start in nftables "
            "mode, or a reboot."
        )
    if report.new == "nftables" and report.kept:
        return N_(
            "kube-proxy restarted in {mode} mode on every node; it removed what {old} mode had written, "
            "except filter KUBE-FIREWALL (see iptables-save)."
        )
    if report.kept:
        return N_(
            "kube-proxy restarted in {mode} mode on every node; it removed what {old} mode had written. "
            "Chains left by earlier modes stay (see iptables-save)."
        )
    return N_("kube-proxy restarted in {mode} mode on every node; it removed what {old} mode had written.")


def _ipvs(session: Session, invocation: Invocation) -> NodeIpvs | LeftoverIpvs:
    """The node's IPVS as ipvsadm, ip addr and ipset show it: both IP families' proxiers on a dual-stack node."""
    backend = _backend(session, invocation)
    if isinstance(backend, LeftoverIpvs):
        return backend
    assert isinstance(backend, IpvsBackend)
    backend6 = session.backend6
    return NodeIpvs([backend] + ([backend6] if isinstance(backend6, IpvsBackend) else []))


def _backend(session: Session, invocation: Invocation) -> NftBackend | IpvsBackend | LeftoverIpvs:
    needed = MODE_OF_COMMAND[invocation.command.name]
    backend = session.backend
    leftover = session.leftover_ipvs() if needed == "ipvs" else None
    if session.mode != needed and leftover is not None:
        return LeftoverIpvs(leftover)
    if session.mode != needed or backend is None:
        raise SandboxInputError(
            N_(
                "'{command}' belongs to {needed} mode, but kube-proxy runs in {mode} mode here. "
                "Switch with 'mode {needed}'."
            ),
            command=invocation.command.name,
            needed=needed,
            mode=session.mode,
        )
    return backend


def nft_list(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    """One table, or (``nft list ruleset``) every table in creation order: the IPv4 proxier's, then the IPv6 one's."""
    backend = _backend(session, invocation)
    assert isinstance(backend, NftBackend)
    backend6 = session.backend6
    tables = [backend] + ([backend6] if isinstance(backend6, NftBackend) else [])
    family = invocation.args.get("FAMILY")
    if family == "ip6":
        if len(tables) == 1:
            raise SandboxInputError(
                N_(
                    "There is no table ip6 kube-proxy on {node}: the node has no IPv6 address, so kube-proxy "
                    "runs no IPv6 proxier here. Its rules are in nft list table ip kube-proxy."
                ),
                node=session.node,
            )
        tables = tables[1:]
    elif family == "ip":
        tables = tables[:1]
    return [Verbatim("".join(table.listing() for table in tables))]


def _leftover_note(session: Session, backend: object) -> list[Output]:
    if not isinstance(backend, LeftoverIpvs):
        return []
    return [
        Note(
            N_(
                "kube-proxy runs in {mode} mode: this is what IPVS mode left on the node. Nothing updates it any "
                "more; kube-proxy --cleanup, a start in nftables mode or a reboot removes it."
            ),
            {"mode": session.mode},
            tone="warning",
        )
    ]


def ipvsadm(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    backend = _ipvs(session, invocation)
    return [Verbatim(backend.ipvsadm()), *_leftover_note(session, backend)]


def ip_addr(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    backend = _ipvs(session, invocation)
    return [Verbatim(backend.ip_addr()), *_leftover_note(session, backend)]


def ipset_list(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    backend = _ipvs(session, invocation)
    name = invocation.args.get("NAME")
    if isinstance(name, str) and name not in backend.ipset_names():
        raise SandboxInputError(
            N_("There is no ipset named {name!r}. Sets: {names}."),
            name=name,
            names=", ".join(backend.ipset_names()),
        )
    listing = Verbatim(backend.ipset_list(name if isinstance(name, str) else None))
    return [listing, *_leftover_note(session, backend)]
