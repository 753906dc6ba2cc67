"""The shell's command grammar: every command's words, arguments, flags and help, as data.

The parser, tab completion and ``help`` all read this one table, so a command added here is
parsed, completed and documented at once. Help texts are gettext msgids marked with ``N_``;
the UI translates them when it shows them.
"""

from __future__ import annotations

from kproxy_tutor.errors import N_
from kproxy_tutor.shell.grammar_modes import MODE_COMMANDS
from kproxy_tutor.shell.grammar_types import (  # noqa: F401 - re-exported: the grammar's public names
    CHAIN,
    COMMAND,
    CONTAINER,
    COUNT,
    DEPLOYMENT,
    FILE,
    IPSET,
    LABEL,
    MODE,
    NAME,
    NODE,
    OBJECT,
    POD,
    PORT,
    POSITIVE,
    PROTOCOL_CHOICES,
    RESOURCE,
    SCENARIO,
    SERVICE,
    SERVICE_TYPES,
    TARGET,
    TEXT,
    Arg,
    Command,
    Flag,
)

NAMESPACE = Flag(("-n", "--namespace"), "namespace", NAME, metavar="NAMESPACE")
OUTPUT = Flag(
    ("-o", "--output"),
    "output",
    TEXT,
    choices=("wide", "yaml", "json", "name"),
    metavar="wide|yaml|json|name",
)
SELECTOR = Flag(("-l", "--selector"), "selector", LABEL, metavar="SELECTOR")
ALL_NAMESPACES = Flag(("-A", "--all-namespaces"), "all_namespaces", switch=True)

#: Resource words kubectl accepts for the same thing, where a command word names a kind.
# iptables-save and ip6tables-save, iptables and ip6tables: the same options for either family.
TABLE = Flag(("-t", "--table"), "table", TEXT, choices=("filter", "nat", "mangle"), metavar="TABLE")
SAVE_FLAGS = (TABLE, Flag(("-c", "--counters"), "counters", switch=True))
LIST_FLAGS = (
    TABLE,
    Flag(("-L", "--list"), "list", switch=True),
    Flag(("-S", "--list-rules"), "list_rules", switch=True),
    Flag(("-n", "--numeric"), "numeric", switch=True),
    Flag(("-v", "--verbose"), "verbose", switch=True),
    Flag(("-x", "--exact"), "exact", switch=True),
    Flag(("--line-numbers",), "line_numbers", switch=True),
)

WORD_ALIASES = {
    "deploy": "deployment",
    "deployments": "deployment",
    "po": "pod",
    "pods": "pod",
    "svc": "service",
    "services": "service",
    "no": "node",
    "nodes": "node",
    "endpointslices": "endpointslice",
}
COMMANDS: tuple[Command, ...] = (
    Command(
        ("kubectl", "create", "deployment"),
        N_("Create a Deployment: its Pods get IPs on the worker nodes."),
        "kubectl create deployment NAME --image IMAGE [--replicas N] [--port PORT] [-n NAMESPACE]",
        (Arg("NAME"),),
        (
            Flag(("--image",), "image", TEXT, required=True, metavar="IMAGE"),
            Flag(("--replicas",), "replicas", COUNT, metavar="N"),
            Flag(("--port",), "port", PORT, metavar="PORT"),
            NAMESPACE,
        ),
        N_(
            "The Pods are labelled app=NAME, as kubectl does, so 'kubectl expose deployment NAME' finds them."
        ),
        ("kubectl create deployment web --image nginx --replicas 3 --port 80",),
    ),
    Command(
        ("kubectl", "run"),
        N_("Create a single Pod (for example a client to send requests from)."),
        "kubectl run NAME --image IMAGE [--port PORT] [--labels k=v,...] [-n NAMESPACE]",
        (Arg("NAME"),),
        (
            Flag(("--image",), "image", TEXT, required=True, metavar="IMAGE"),
            Flag(("--port",), "port", PORT, metavar="PORT"),
            Flag(("--labels", "-l"), "labels", TEXT, metavar="k=v,..."),
            NAMESPACE,
        ),
        N_("Without --labels the Pod is labelled run=NAME, as kubectl does."),
        ("kubectl run client --image busybox",),
    ),
    *(
        Command(
            ("kubectl", "expose", kind),
            N_("Create a Service that selects the Pods of a Deployment or the labels of a Pod."),
            f"kubectl expose {kind} NAME --port PORT [--target-port PORT] [--type ClusterIP|NodePort|LoadBalancer] "
            "[--name NAME] [--protocol TCP|UDP|SCTP] [-n NAMESPACE]",
            (Arg("NAME", DEPLOYMENT if kind == "deployment" else POD),),
            (
                Flag(("--port",), "port", PORT, required=True, metavar="PORT"),
                Flag(("--target-port",), "target_port", TEXT, metavar="PORT"),
                Flag(("--type",), "type", TEXT, choices=SERVICE_TYPES, metavar="TYPE"),
                Flag(("--name",), "name", NAME, metavar="NAME"),
                Flag(("--protocol",), "protocol", TEXT, choices=PROTOCOL_CHOICES, metavar="PROTOCOL"),
                NAMESPACE,
            ),
            N_(
                "The API server gives the Service a ClusterIP (and a NodePort for NodePort and "
                "LoadBalancer); the EndpointSlice controller lists the Pods it selects. Watch what "
                "kube-proxy does with both: 'watch on' first."
            ),
            (f"kubectl expose {kind} web --port 80 --type NodePort",),
        )
        for kind in ("deployment", "pod")
    ),
    Command(
        ("kubectl", "scale", "deployment"),
        N_("Change the number of a Deployment's Pods."),
        "kubectl scale deployment NAME --replicas N [-n NAMESPACE]",
        (Arg("NAME", DEPLOYMENT),),
        (Flag(("--replicas",), "replicas", COUNT, required=True, metavar="N"), NAMESPACE),
        N_(
            "Each new Pod becomes an endpoint: kube-proxy adds a KUBE-SEP chain and rewrites the probabilities."
        ),
        ("kubectl scale deployment web --replicas 4",),
    ),
    *(
        Command(
            ("kubectl", "delete", kind),
            N_("Delete a Pod, Service or Deployment."),
            f"kubectl delete {kind} NAME [-n NAMESPACE]",
            (Arg("NAME", kind),),
            (NAMESPACE,),
            N_("A Pod that belongs to a Deployment is replaced by a new one, as in a real cluster."),
            (f"kubectl delete {kind} web",),
        )
        for kind in (POD, SERVICE, DEPLOYMENT)
    ),
    Command(
        ("kubectl", "label", "pod"),
        N_("Add, change (with --overwrite) or remove (k-) labels of a Pod."),
        "kubectl label pod NAME k=v|k- ... [--overwrite] [-n NAMESPACE]",
        (Arg("NAME", POD), Arg("LABEL", LABEL, many=True)),
        (Flag(("--overwrite",), "overwrite", switch=True), NAMESPACE),
        N_("A Pod whose labels stop matching a Service's selector leaves its EndpointSlice."),
        ("kubectl label pod client app=web", "kubectl label pod client app-"),
    ),
    Command(
        ("kubectl", "apply"),
        N_("Create or update objects from Kubernetes YAML (a file, or pasted after 'kubectl apply -f -')."),
        "kubectl apply -f FILE|-",
        (),
        (Flag(("-f", "--filename"), "filename", FILE, required=True, metavar="FILE"),),
        N_(
            "With -f - type or paste the YAML on the next lines and end it with a line that says EOF. "
            "Several documents separated by --- are applied all together or not at all."
        ),
        ("kubectl apply -f service.yaml", "kubectl apply -f -"),
    ),
    Command(
        ("kubectl", "get"),
        N_("List objects: Pods, Services, Deployments, Endpoints, EndpointSlices, Nodes (or all)."),
        "kubectl get TYPE[,TYPE...] [NAME...] [-o wide|yaml|json|name] [-l SELECTOR] [--show-labels] "
        "[-n NAMESPACE] [-A]",
        (Arg("RESOURCE", RESOURCE), Arg("NAME", OBJECT, optional=True, many=True)),
        (
            OUTPUT,
            SELECTOR,
            Flag(("--show-labels",), "show_labels", switch=True),
            NAMESPACE,
            ALL_NAMESPACES,
        ),
        N_(
            "TYPE is pods (po), services (svc), deployments (deploy), endpoints (ep), endpointslices, nodes (no), "
            "servicecidrs or all; several types go in one comma list (svc,pods), and TYPE/NAME works too (svc/web). "
            "-o yaml and -o json print the objects as kubectl does, so the output can be given back to "
            "kubectl apply -f or to kproxy-tutor rules -f. The sandbox has no clock, so there is no AGE column."
        ),
        (
            "kubectl get pods -o wide",
            "kubectl get svc,ep",
            "kubectl get pods -l app=web --show-labels",
            "kubectl get svc db-service -o yaml",
            "kubectl get all -A",
        ),
    ),
    *(
        Command(
            ("kubectl", "describe", kind),
            N_("Show an object in detail: a Service with its endpoints, a Pod, a Node or an EndpointSlice."),
            f"kubectl describe {kind} NAME [-n NAMESPACE]",
            (Arg("NAME", kind if kind in (SERVICE, POD, NODE) else OBJECT),),
            () if kind == NODE else (NAMESPACE,),
            "",
            (f"kubectl describe {kind} {example}",),
        )
        for kind, example in (
            (SERVICE, "db-service"),
            (POD, "web"),
            (NODE, "worker-1"),
            ("endpointslice", "db-service-nbggt"),
        )
    ),
    Command(
        ("kubectl", "exec"),
        N_("Run curl, wget or nc in a Pod: the request starts from that Pod and goes through the rules."),
        "kubectl exec POD [-c CONTAINER] [-n NAMESPACE] -- curl|wget|nc ARGS...",
        (Arg("POD", POD), Arg("COMMAND", TEXT, many=True)),
        (
            Flag(("-c", "--container"), "container", CONTAINER, metavar="CONTAINER"),
            Flag(("-i", "--stdin"), "stdin", switch=True),
            Flag(("-t", "--tty"), "tty", switch=True),
            NAMESPACE,
        ),
        N_(
            "The sandbox's Pods run no shell or programs of their own: kubectl exec runs curl URL, wget URL "
            "or nc HOST PORT, and shows the way the request took, as curl --from POD does. A URL without a "
            "port goes to port 80 (https: 443), as curl does; POD may also be deploy/NAME (its first Pod)."
        ),
        (
            "kubectl exec web -- curl db-service:5432",
            "kubectl exec -it web -- wget -qO- http://db-service:5432",
            "kubectl exec web -- nc -zv db-service 5432",
        ),
    ),
    Command(
        ("kubectl", "patch"),
        N_("Change fields of a Service, Deployment or Pod with a patch."),
        "kubectl patch TYPE NAME -p PATCH [--type strategic|merge|json] [-n NAMESPACE]",
        (Arg("RESOURCE", RESOURCE), Arg("NAME", OBJECT, optional=True)),
        (
            Flag(("-p", "--patch"), "patch", TEXT, required=True, metavar="PATCH"),
            Flag(("--type",), "type", TEXT, choices=("strategic", "merge", "json"), metavar="TYPE"),
            NAMESPACE,
        ),
        N_(
            "PATCH is JSON (or YAML). strategic, the default, merges lists such as ports by their key "
            "(port, containerPort, name); merge (RFC 7386) replaces lists whole and deletes a field set to "
            "null; json (RFC 6902) is a list of operations: add, remove, replace, test, move, copy. Quote the "
            "patch in single quotes. TYPE/NAME works too (svc/web)."
        ),
        (
            """kubectl patch svc cart -p '{"spec":{"sessionAffinity":"ClientIP"}}'""",
            """kubectl patch deploy web -p '{"spec":{"replicas":5}}'""",
            """kubectl patch svc web --type json -p '[{"op":"replace","path":"/spec/type","value":"NodePort"}]'""",
        ),
    ),
    Command(
        ("kubectl", "edit"),
        N_("Edit an object's YAML in your editor ($VISUAL or $EDITOR); saving applies it."),
        "kubectl edit TYPE NAME [-n NAMESPACE]",
        (Arg("RESOURCE", RESOURCE), Arg("NAME", OBJECT, optional=True)),
        (NAMESPACE,),
        N_(
            "The editor is KUBE_EDITOR, VISUAL or EDITOR (else vi). Save and quit to apply: the change goes "
            "in completely or not at all, and an error names the line of the file, which is kept. Quit "
            "without saving, or empty the file, to cancel. It needs a terminal; in a script use kubectl "
            "patch or kubectl apply -f."
        ),
        ("kubectl edit svc cart", "kubectl edit deploy web"),
    ),
    Command(
        ("pod",),
        N_("Sandbox only: make a Pod ready, not ready or terminating (its endpoint changes)."),
        "pod NAME ready|not-ready|terminating [-n NAMESPACE]",
        (Arg("NAME", POD), Arg("STATE", TEXT, choices=("ready", "not-ready", "terminating"))),
        (NAMESPACE,),
        N_(
            "A real Pod turns not ready when its readiness probe fails and terminating when it is deleted; "
            "kube-proxy then stops sending new connections to it (terminating endpoints are used only when "
            "nothing else is left)."
        ),
        ("pod web-1 not-ready",),
    ),
    Command(
        ("iptables-save",),
        N_("Print the node's rules as iptables-save does."),
        "iptables-save [-t TABLE] [-c]",
        (),
        SAVE_FLAGS,
        N_("Counters (-c) come from the requests you sent with curl on this node."),
        ("iptables-save -t nat",),
    ),
    Command(
        ("iptables",),
        N_("List a chain with packet counters, as iptables -L -n -v does (or -S for rule specs)."),
        "iptables [-t TABLE] -L|-S [CHAIN] [-n] [-v] [-x] [--line-numbers]",
        (Arg("CHAIN", CHAIN, optional=True),),
        LIST_FLAGS,
        N_(
            "The pkts and bytes columns count the first packet of every connection curl opened through this "
            "node. When kube-proxy rewrites a chain, its counters start again from zero, as on a real node."
        ),
        ("iptables -t nat -L KUBE-SERVICES -n -v", "iptables -t nat -nvL KUBE-SVC-PKJNZ2BPYAP7WCVG"),
    ),
    Command(
        ("ip6tables-save",),
        N_("Print the node's IPv6 rules as ip6tables-save does (the IPv6 proxier of a dual-stack node)."),
        "ip6tables-save [-t TABLE] [-c]",
        (),
        SAVE_FLAGS,
        N_(
            "On a dual-stack node kube-proxy runs a second proxier for IPv6 with its own chains; a node with "
            "no IPv6 address has no IPv6 proxier, and ip6tables-save prints nothing. The counters stay at "
            "zero: the shell counts only the IPv4 rules."
        ),
        ("ip6tables-save -t nat",),
    ),
    Command(
        ("ip6tables",),
        N_("List a chain of the IPv6 rules, as ip6tables -L -n -v does (or -S for rule specs)."),
        "ip6tables [-t TABLE] -L|-S [CHAIN] [-n] [-v] [-x] [--line-numbers]",
        (Arg("CHAIN", CHAIN, optional=True),),
        LIST_FLAGS,
        "",
        ("ip6tables -t nat -L KUBE-SERVICES -n",),
    ),
    Command(
        ("conntrack", "-L"),
        N_("List the node's connection-tracking entries (the connections curl opened)."),
        "conntrack -L",
        (),
        (),
        "",
        ("conntrack -L",),
    ),
    *MODE_COMMANDS,
    Command(
        ("explain",),
        N_("Explain this node's rules in words, Service by Service (as kproxy-tutor explain does)."),
        "explain [--service NS/NAME] [--dump NAME]",
        (),
        (
            Flag(("--service",), "service", TEXT, metavar="NS/NAME"),
            Flag(("--dump",), "dump", TEXT, metavar="NAME"),
        ),
        N_(
            "Reads the rules of the current mode as the node's tools print them and explains each one, "
            "with the lesson step that covers it. With --dump, explains a node dump that ships with the "
            "tutor instead (stale-node: a node that still holds a deleted Service's chains). On a real "
            "node: kproxy-tutor explain --rules DUMP."
        ),
        ("explain", "explain --service default/web", "explain --dump stale-node"),
    ),
    Command(
        ("curl",),
        N_("Send requests to a Service and show the way each one took through the rules."),
        "curl SERVICE[:PORT]|IP:PORT|[IPV6]:PORT [--from POD|node/NAME|external] [-4|-6] [-n N] [--brief]",
        (Arg("TARGET", TARGET),),
        (
            Flag(("--from",), "source", POD, metavar="POD"),
            Flag(("-n", "--count"), "count", POSITIVE, metavar="N"),
            Flag(("--brief",), "brief", switch=True),
            Flag(("-4", "--ipv4"), "ipv4", switch=True),
            Flag(("-6", "--ipv6"), "ipv6", switch=True),
        ),
        N_(
            "SERVICE may be a name (db-service, db-service.default, db-service.default.svc.cluster.local) "
            "or an address: a ClusterIP, or a node IP with a NodePort. --from is a Pod, node/NAME (a process "
            "on that node) or external (a client outside the cluster); without it the request comes from the "
            "node you are looking at. An IPv6 address goes in brackets, [fd00:10:96::a]:80, and its packets go "
            "through the IPv6 proxier's rules. A Service name means the Service's primary IP family; -6 (or -4) "
            "picks its ClusterIP of that family, as curl -6 asks DNS for the IPv6 address."
        ),
        ("curl db-service:5432 --from web", "curl 192.168.1.11:30080 --from external -n 4"),
    ),
    Command(
        ("watch",),
        N_("After every change, show the events kube-proxy received and the rules its sync changed."),
        "watch on|off",
        (Arg("STATE", TEXT, choices=("on", "off"), optional=True),),
        (),
        "",
        ("watch on",),
    ),
    Command(
        ("node",),
        N_("Choose the node whose rules, counters and connections you look at."),
        "node [NAME]",
        (Arg("NAME", NODE, optional=True),),
        (),
        N_("Every node runs its own kube-proxy with its own rules; without NAME the nodes are listed."),
        ("node worker-2",),
    ),
    Command(
        ("scenario",),
        N_("List the scenarios, or replace the sandbox with one of them."),
        "scenario [NAME]",
        (Arg("NAME", SCENARIO, optional=True),),
        (),
        "",
        ("scenario db-service",),
    ),
    Command(
        ("save",),
        N_("Save the sandbox as Kubernetes YAML manifests."),
        "save FILE",
        (Arg("FILE", FILE),),
        (),
        "",
        ("save my-cluster.yaml",),
    ),
    Command(
        ("load",),
        N_("Replace the sandbox with the objects of a YAML file (saved or written by hand)."),
        "load FILE",
        (Arg("FILE", FILE),),
        (),
        "",
        ("load my-cluster.yaml",),
    ),
    Command(("clear",), N_("Clear the screen."), "clear"),
    Command(
        ("history",),
        N_("List the commands typed in this sandbox session, numbered."),
        "history [N]",
        (Arg("N", COUNT, optional=True),),
        (),
        N_("With N, only the last N commands. Up and Down arrows bring earlier commands back to the prompt."),
        ("history", "history 5"),
    ),
    Command(("reset",), N_("Start again from the scenario you began with (or an empty cluster)."), "reset"),
    Command(
        ("help",),
        N_("List the commands, or explain one."),
        "help [COMMAND]",
        (Arg("COMMAND", COMMAND, optional=True, many=True),),
        (),
        "",
        ("help", "help kubectl expose"),
    ),
    Command(("exit",), N_("Leave the sandbox (Ctrl-D does the same)."), "exit"),
)

#: ``help`` without a command: the commands by what they are for. Each entry is the first word or
#: words of one or more commands; every command falls under exactly one entry (a test checks).
HELP_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (N_("Cluster objects, as with kubectl:"), ("kubectl", "pod")),
    (
        N_("kube-proxy and the node's rules:"),
        (
            "iptables-save",
            "iptables",
            "ip6tables-save",
            "ip6tables",
            "conntrack -L",
            "mode",
            "nft list",
            "ipvsadm",
            "ip addr show",
            "ipset list",
            "explain",
        ),
    ),
    (N_("Requests through the rules:"), ("curl", "watch")),
    (N_("The sandbox:"), ("node", "scenario", "save", "load", "reset", "history", "clear", "help", "exit")),
)

#: Words that mean the same command (or its first word: ``k`` is kubectl, as in most shells' aliases).
COMMAND_ALIASES = {"quit": ("exit",), "?": ("help",), "k": ("kubectl",)}


def command_named(name: str) -> Command:
    for command in COMMANDS:
        if command.name == name:
            return command
    raise KeyError(name)
