"""Real TCP connections from one of the lab's namespaces: who answered, or how the connection failed.

One short-lived Python process inside the source namespace makes all ``count`` connections
in a row and prints one JSON line; the count, every connect and the whole loop have limits,
so a DROP rule (the client waits for an answer that never comes) cannot hang the tutor.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, UsageError
from kproxy_tutor.lab.system import in_netns

MAX_CONNECTIONS = 1000
CONNECT_TIMEOUT = 1.0
#: The whole loop; connections not tried by then are reported as "skipped".
LOOP_TIME_LIMIT = 30.0

#: Outcome codes (besides the name of the Pod that answered).
REFUSED = "refused"  #: a REJECT rule (icmp-port-unreachable) or nobody listening
TIMEOUT = "timeout"  #: nothing came back: a DROP rule, or no route
UNREACHABLE = "unreachable"  #: ICMP host/net unreachable
SKIPPED = "skipped"  #: the time limit ran out before this connection was tried
ERROR = "error"

CLIENT_CODE = r"""
import errno, json, socket, sys, time
ip, port, count, connect_timeout, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
deadline = time.monotonic() + limit
out = []
for i in range(count):
    if time.monotonic() >= deadline:
        out.append("skipped")
        continue
    s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    if ":" in ip:
        # IPV6_RECVERR: an ICMPv6 error that arrives while connect() still holds the socket (veths
        # deliver it at once, inside the same call) becomes a soft error, which IPv6 TCP reports only
        # after the SYN is sent again 1 s later. With RECVERR the error also wakes the waiting
        # connect(), which then reads it (SO_ERROR), as a client on a real link sees it at once.
        s.setsockopt(socket.IPPROTO_IPV6, getattr(socket, "IPV6_RECVERR", 25), 1)
    s.settimeout(connect_timeout)
    try:
        s.connect((ip, port))
        sport = s.getsockname()[1]
        data = b""
        while not data.endswith(b"\n") and len(data) < 512:
            chunk = s.recv(512)
            if not chunk:
                break
            data += chunk
        out.append("=" + data.decode(errors="replace").strip() + "|" + str(sport))
    except ConnectionRefusedError:
        out.append("refused")
    except (socket.timeout, TimeoutError):
        out.append("timeout")
    except OSError as e:
        out.append("unreachable" if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) else "error")
    finally:
        s.close()
print(json.dumps(out))
"""


@dataclass(slots=True)
class CurlResult:
    source: str
    target_ip: str
    port: int
    #: One entry per connection: the answering Pod's name, or an outcome code.
    outcomes: list[str] = field(default_factory=list)

    @property
    def answered(self) -> Counter[str]:
        """Pod name → connections it answered."""
        return Counter(o[1:].rpartition("|")[0] for o in self.outcomes if o.startswith("="))

    @property
    def source_ports(self) -> set[int]:
        """Local ports of the connections that were answered (to find their conntrack entries)."""
        return {
            int(o.rpartition("|")[2])
            for o in self.outcomes
            if o.startswith("=") and o.rpartition("|")[2].isdigit()
        }

    @property
    def keys(self) -> list[str]:
        """Per connection: the Pod that answered, or the failure code."""
        return [o[1:].rpartition("|")[0] if o.startswith("=") else o for o in self.outcomes]

    @property
    def failures(self) -> Counter[str]:
        return Counter(o for o in self.outcomes if not o.startswith("="))


def check_count(count: int) -> int:
    if not 1 <= count <= MAX_CONNECTIONS:
        raise UsageError(N_("The number of connections must be between 1 and {max}."), max=MAX_CONNECTIONS)
    return count


def connect_many(
    namespace: str,
    source: str,
    ip: str,
    port: int,
    count: int,
    connect_timeout: float = CONNECT_TIMEOUT,
    time_limit: float = LOOP_TIME_LIMIT,
) -> CurlResult:
    """``count`` new TCP connections from ``namespace`` to ``ip:port``."""
    check_count(count)
    argv = [
        sys.executable,
        "-I",
        "-c",
        CLIENT_CODE,
        ip,
        str(port),
        str(count),
        str(connect_timeout),
        str(time_limit),
    ]
    result = in_netns(namespace, argv, timeout=time_limit + connect_timeout + 10)
    outcomes = json.loads(result.stdout.strip().splitlines()[-1])
    return CurlResult(source, ip, port, [str(o) for o in outcomes])
