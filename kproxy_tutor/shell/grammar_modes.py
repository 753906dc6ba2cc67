"""The shell commands of kube-proxy's proxy modes: ``mode`` and the tools that show nftables and IPVS state."""

from __future__ import annotations

from kproxy_tutor.errors import N_
from kproxy_tutor.sandbox.modes import MODES
from kproxy_tutor.shell.grammar_types import IPSET, MODE, TEXT, Arg, Command, Flag

#: Commands that only make sense in one mode → that mode (the handlers refuse them in another).
MODE_OF_COMMAND = {
    "nft list table": "nftables",
    "nft list ruleset": "nftables",
    "ipvsadm": "ipvs",
    "ip addr show": "ipvs",
    "ipset list": "ipvs",
}

MODE_COMMANDS: tuple[Command, ...] = (
    Command(
        ("mode",),
        N_("Show kube-proxy's proxy mode, or restart every node's kube-proxy in another one."),
        "mode [iptables|nftables|ipvs]",
        (Arg("MODE", MODE, choices=MODES, optional=True),),
        (),
        N_(
            "Like restarting kube-proxy with another --proxy-mode: it first removes what the old mode wrote "
            "(KUBE-* chains, table ip kube-proxy, or IPVS virtual servers, kube-ipvs0 addresses and ipsets), "
            "then writes everything in the new mode. With 'watch on' you see both. IPVS mode is deprecated "
            "since Kubernetes v1.35."
        ),
        ("mode nftables", "mode"),
    ),
    Command(
        ("nft", "list", "table"),
        N_("nftables mode: print kube-proxy's table as nft list table does."),
        "nft list table ip|ip6 kube-proxy",
        (Arg("FAMILY", TEXT, choices=("ip", "ip6")), Arg("TABLE", TEXT, choices=("kube-proxy",))),
        (),
        N_(
            "One table holds everything: a chain per Service port (service-HASH-NAMESPACE/NAME/PROTOCOL/PORT) "
            "and per endpoint, and maps that find them in one lookup instead of a list of rules."
        ),
        ("nft list table ip kube-proxy", "nft list table ip6 kube-proxy"),
    ),
    Command(
        ("nft", "list", "ruleset"),
        N_("nftables mode: print every nftables table of the node (here: kube-proxy's)."),
        "nft list ruleset",
        (),
        (),
        "",
        ("nft list ruleset",),
    ),
    Command(
        ("ipvsadm",),
        N_("IPVS mode: list the virtual servers and their real servers, with connection counters."),
        "ipvsadm [-L] [-n]",
        (),
        (
            Flag(("-L", "--list"), "list", switch=True),
            Flag(("-n", "--numeric"), "numeric", switch=True),
        ),
        N_(
            "ActiveConn counts the connections curl opened through this node's virtual servers; -Ln is the "
            "same as -L -n, and without options ipvsadm lists too."
        ),
        ("ipvsadm -Ln",),
    ),
    Command(
        ("ip", "addr", "show"),
        N_("IPVS mode: show the kube-ipvs0 dummy interface, which holds every Service IP."),
        "ip addr show kube-ipvs0",
        (Arg("DEVICE", TEXT, choices=("kube-ipvs0",)),),
        (),
        N_(
            "Binding the Service IPs to a local interface makes the node accept their packets, so IPVS sees them."
        ),
        ("ip addr show kube-ipvs0",),
    ),
    Command(
        ("ipset", "list"),
        N_("IPVS mode: list the ipsets kube-proxy's iptables rules match (all, or one by name)."),
        "ipset list [NAME]",
        (Arg("NAME", IPSET, optional=True),),
        (),
        "",
        ("ipset list", "ipset list KUBE-CLUSTER-IP"),
    ),
)
