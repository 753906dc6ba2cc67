"""What the client's own socket calls return when a rule stops its connection: errno names, in the order it meets them.

Checked against the kernel (a UDP and a TCP socket in a network namespace with REJECT and DROP
rules in OUTPUT):

- TCP (and SCTP): a REJECT answers with ICMP port unreachable, a hard error for a connection
  being opened, so ``connect()`` fails with ECONNREFUSED; a DROP leaves ``connect()`` to retry
  until it times out (ETIMEDOUT).
- UDP from a process on the node, stopped in the OUTPUT path (iptables/nftables OUTPUT, IPVS at
  LOCAL_OUT): netfilter drops the datagram inside the sender's own kernel, so ``send()`` itself
  fails with EPERM ("Operation not permitted"); a REJECT's ICMP port unreachable then makes the
  next receive on the (connected) socket fail with ECONNREFUSED.
- UDP stopped anywhere else (a Pod's or an outside client's packet, on the way in): ``send()``
  succeeds; after a REJECT the next receive on a connected socket fails with ECONNREFUSED
  (an unconnected socket is not told); after a DROP nothing comes back.
"""

from __future__ import annotations

from kproxy_tutor.sandbox.packet import Direction, OutcomeKind, SourceKind, StepKind, Trace

EPERM = "EPERM"
ECONNREFUSED = "ECONNREFUSED"
ETIMEDOUT = "ETIMEDOUT"


def stopped_on_output(trace: Trace) -> bool:
    """A process on the node sent the packet and a rule stopped it in its own node's output path."""
    if trace.source_kind != SourceKind.NODE:
        return False
    verdict = next(
        (s for s in reversed(trace.steps) if s.kind == StepKind.VERDICT and s.direction == Direction.REQUEST),
        None,
    )
    return (
        verdict is not None and verdict.node == trace.source_node and (verdict.hook or "").upper() == "OUTPUT"
    )


def socket_errors(trace: Trace) -> tuple[str, ...]:
    """The errno names the client's socket calls return, first to last (empty: no error)."""
    kind = trace.outcome.kind
    if kind not in (OutcomeKind.REJECTED, OutcomeKind.DROPPED):
        return ()
    if trace.packet.protocol != "udp":
        return (ECONNREFUSED,) if kind == OutcomeKind.REJECTED else (ETIMEDOUT,)
    first = (EPERM,) if stopped_on_output(trace) else ()
    return (*first, ECONNREFUSED) if kind == OutcomeKind.REJECTED else first
