"""``kubectl exec POD -- curl|wget|nc …``: the request starts from that Pod, through the same tracer as ``curl --from``.

The sandbox's Pods run no programs; the three clients people use to test a Service are read
here (their URL or host and port, and the options that matter) and become one traced request.
"""

from __future__ import annotations

from dataclasses import dataclass

from kproxy_tutor.errors import N_, SandboxInputError
from kproxy_tutor.sandbox.families import IPV4, IPV6
from kproxy_tutor.shell.names import close_match, not_found
from kproxy_tutor.shell.net_commands import send
from kproxy_tutor.shell.output import Note, Output
from kproxy_tutor.shell.parser import Invocation
from kproxy_tutor.shell.session import Session

CLIENTS = ("curl", "wget", "nc")
#: Options of the clients that take a value (the value is skipped, it does not change the request).
VALUE_OPTIONS = {
    "curl": {"-m", "--max-time", "-o", "--output", "-w", "--write-out", "-H", "--header", "-X", "--request",
             "-d", "--data", "--connect-timeout", "-u", "--user", "-A", "--user-agent", "-e", "--referer"},
    "wget": {"-O", "--output-document", "-T", "--timeout", "-t", "--tries", "-U", "--user-agent", "--header"},
    "nc": {"-w", "-s", "-p", "-i"},
}  # fmt: skip


@dataclass(frozen=True)
class Request:
    host: str
    port: int | None
    #: The port the client uses when none is written (curl and wget: 80, or 443 for https).
    default_port: int
    protocol: str = "tcp"
    #: ``-4``/``-6`` (curl, wget, nc): the IP family of the name's address to connect to (None: any).
    family: str | None = None


def parse_client(words: list[str]) -> Request:
    """The host and port a curl, wget or nc command line connects to."""
    program, args = words[0].rsplit("/", 1)[-1], words[1:]
    if program not in CLIENTS:
        raise SandboxInputError(
            N_(
                "The sandbox's Pods run no {program}: kubectl exec runs curl URL, wget URL or nc HOST PORT here."
            ),
            program=program,
        )
    values = VALUE_OPTIONS[program]
    positional: list[str] = []
    udp = False
    skip = False
    family: str | None = None
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("-") and len(arg) > 1:
            option = arg.split("=", 1)[0]
            if program == "nc" and "u" in arg.lstrip("-") and not arg.startswith("--"):
                udp = True
            if arg in ("-4", "--ipv4", "--inet4-only") or (program == "nc" and _short_flag(arg, "4")):
                family = IPV4
            elif arg in ("-6", "--ipv6", "--inet6-only") or (program == "nc" and _short_flag(arg, "6")):
                family = IPV6
            # An option with its value attached (-m5, -qO-, --max-time=5) takes nothing more.
            skip = option in values and "=" not in arg
            continue
        positional.append(arg)
    if program == "nc":
        if len(positional) != 2 or not positional[1].isdigit():
            raise SandboxInputError(N_("nc needs a host and a port: nc [-zv] HOST PORT."))
        host = positional[0]
        return Request(host, int(positional[1]), int(positional[1]), "udp" if udp else "tcp", family)
    if not positional:
        raise SandboxInputError(
            N_("{program} needs a URL, for example {program} http://web:80/."), program=program
        )
    url = positional[0]
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "http", url
    default = 443 if scheme.lower() == "https" else 80
    hostport = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    if hostport.startswith("["):
        # An IPv6 literal, as URLs write it: http://[fd00:10:96::a]:80/
        inside, _, after = hostport[1:].partition("]")
        port = after[1:] if after.startswith(":") else ""
        return Request(inside, int(port) if port.isdigit() else None, default, family=family)
    host, colon, port = hostport.rpartition(":")
    if not colon or not port.isdigit() or ":" in host:
        return Request(hostport, None, default, family=family)
    return Request(host, int(port), default, family=family)


def _short_flag(arg: str, letter: str) -> bool:
    """``letter`` among grouped short options (``-6zv``)."""
    return not arg.startswith("--") and letter in arg[1:]


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _pod(session: Session, text: str, namespace: str) -> str:
    """The Pod ``text`` names (``NAME``, ``pod/NAME`` or ``deploy/NAME``: its first Pod)."""
    cluster = session.cluster
    kind, slash, name = text.partition("/")
    if not slash:
        kind, name = "pod", text
    if kind in ("deploy", "deployment", "deployments", "deployment.apps"):
        owned = sorted(p.name for p in cluster.pods.values() if p.owner == f"{namespace}/{name}")
        if (namespace, name) not in cluster.deployments:
            raise not_found(
                "Deployment", namespace, name, [d for ns, d in cluster.deployments if ns == namespace]
            )
        if not owned:
            raise SandboxInputError(N_("Deployment {name!r} has no Pods to run the command in."), name=name)
        return owned[0]
    if kind not in ("pod", "pods", "po"):
        raise SandboxInputError(N_("kubectl exec runs in a Pod: write POD, pod/NAME or deploy/NAME."))
    if (namespace, name) not in cluster.pods:
        raise not_found("Pod", namespace, name, [p for ns, p in cluster.pods if ns == namespace])
    return name


def exec_command(session: Session, invocation: Invocation, document: str | None) -> list[Output]:
    from kproxy_tutor.shell.kubectl_edit import namespace_of
    from kproxy_tutor.shell.manifests_out import container_name

    namespace = namespace_of(session, invocation)
    name = _pod(session, invocation.arg("POD"), namespace)
    pod = session.cluster.pods[(namespace, name)]
    container = invocation.text("container")
    own = container_name(pod)
    if container and container != own:
        suggestion = close_match(container, [own])
        raise SandboxInputError(
            N_("Pod {pod} has no container {name!r}; its container is {container!r}."),
            pod=name,
            name=container,
            container=own if suggestion is None else suggestion,
        )
    words = invocation.args.get("COMMAND") or []
    assert isinstance(words, list)
    request = parse_client(words)
    target, notes = _service_port(session, request, namespace)
    return notes + send(session, f"{namespace}/{name}", target, family=request.family)


def _service_port(session: Session, request: Request, namespace: str) -> tuple[str, list[Output]]:
    """Where the client connects, and a note when the Service lacks that port (curl's default 80 when none
    is written): a real client then connects to the ClusterIP on that port, and the trace shows what
    the current mode's rules do with it."""
    port = request.port if request.port is not None else request.default_port
    parts = request.host.split(".")
    service = session.cluster.services.get((parts[1] if len(parts) > 1 else namespace, parts[0]))
    if service is None or any(p.port == port for p in service.ports) or not service.cluster_ip:
        return _host_port(request.host, port), []
    from kproxy_tutor.sandbox.trace.request import service_primary_family

    address = service.cluster_ip_of(request.family or service_primary_family(service)) or service.cluster_ip
    params = {
        "port": port,
        "name": service.name,
        "ports": ", ".join(str(p.port) for p in service.ports),
        "address": _host_port(address, port).rpartition(":")[0],
    }
    if request.port is None:
        message = N_(
            "Without a port the client connects to port {port}, and Service {name} has no port {port} "
            "(it has: {ports}): the request goes to {address}:{port}; below is what the rules do with it. "
            "Write {name}:PORT for the Service's port."
        )
    else:
        message = N_(
            "Service {name} has no port {port} (it has: {ports}): the request goes to {address}:{port}; "
            "below is what the rules do with it."
        )
    return _host_port(address, port), [Note(message, params, tone="warning")]
