"""``curl`` in nftables or IPVS mode: the first packet of each connection through the client's node's backend.

The iptables tracer still resolves the request (DNS, client address, source port), so a Service
name, a ClusterIP or a NodePort mean the same in every mode; only the rules it crosses differ.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kproxy_tutor.sandbox.packet import Packet, Trace
from kproxy_tutor.sandbox.trace.request import dns_step
from kproxy_tutor.shell.session import Session


def connect(session: Session, tracer: Any, client: Any, destination: Any) -> Trace:
    """One new connection from ``client`` to ``destination`` through the current mode's rules."""
    node = client.node if client.node in session.backends else session.node
    backend = session.backends[node]
    packet = Packet(
        destination.protocol,
        tracer.tracer.source_address(client, destination.ip),
        tracer.tracer.allocate_port(),
        destination.ip,
        destination.port,
    )
    trace: Trace = backend.evaluator().evaluate(packet, client.kind)
    backend.count(trace)
    if trace.outcome.masquerade and trace.outcome.snat_interface is None:
        # The evaluators masquerade to the node's primary address, which is eth0's.
        trace = dataclasses.replace(trace, outcome=dataclasses.replace(trace.outcome, snat_interface="eth0"))
    if destination.dns_name is not None:
        dns = dns_step(client, destination, session.cluster.network.dns_service_ip)
        trace = dataclasses.replace(trace, steps=(dns, *trace.steps))
    return trace
