"""The tutor's prediction for a batch of connections: the request-flow evaluator runs the same rules on paper.

The evaluator traces ``count`` new connections through the rules the lab loaded (iptables
mode) or through the iptables rules kube-proxy would write for the same cluster (nftables
mode: the two modes pick endpoints the same way, with equal shares), of the destination's IP
family: an IPv6 destination goes through the IPv6 proxier's rules. Its outcome keys are
turned into the lab's words: the name of the Pod that answers, ``refused`` or ``timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kproxy_tutor.errors import TutorError
from kproxy_tutor.lab.client import REFUSED, TIMEOUT
from kproxy_tutor.lab.plan import HostPlan, LabPlan
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.families import IPV4, IPV6, family_of_address
from kproxy_tutor.sandbox.ipaddr import join_host_port
from kproxy_tutor.sandbox.iptables.rules import Ruleset


@dataclass(slots=True)
class Prediction:
    count: int
    #: Pod name (or refused/timeout) → predicted connections.
    counts: dict[str, int] = field(default_factory=dict)
    #: Pod name → expected share of new connections, from the rules' probabilities.
    shares: dict[str, float] = field(default_factory=dict)
    #: Why there is no prediction (the evaluator refused this case), else None.
    problem: TutorError | None = None


def _name(plan: LabPlan, key: str) -> str:
    if key == "rejected":
        return REFUSED
    if key == "dropped":
        return TIMEOUT
    ip = (key.rpartition(":")[0] or key).strip("[]")
    host = plan.host_by_ip(ip)
    return host.name if host is not None else key


def predict(
    cluster: Cluster,
    plan: LabPlan,
    ruleset: Ruleset | None,
    source: HostPlan | None,
    dst_ip: str,
    dst_port: int,
    count: int,
    seed: int = 0,
    family: str = IPV4,
) -> Prediction:
    """What the evaluator expects ``count`` connections from ``source`` (None: the client) to do.

    ``ruleset`` is what the lab loaded for the destination's ``family`` (iptables mode): the IPv4
    tracer reads it as the node's rules, the IPv6 tracer as the node's IPv6 rules.
    """
    from kproxy_tutor.sandbox.trace.session import TraceSession

    given = {plan.node_name: ruleset} if ruleset is not None else None
    if family == IPV6:
        session = TraceSession.from_cluster(cluster, seed=seed, family_rules={IPV6: given} if given else None)
    else:
        session = TraceSession.from_cluster(cluster, seed=seed, rules=given)
    to = join_host_port(dst_ip, dst_port)
    try:
        if source is None:
            result = session.load(plan.client_ip_of(family), to, count, "tcp", node=plan.node_name)
        else:
            ip = next((a for a in source.ips if family_of_address(a) == family), source.ip)
            result = session.load(ip, to, count, "tcp")
    except TutorError as error:
        return Prediction(count, problem=error)
    prediction = Prediction(count)
    for key, n in result.counts.items():
        name = _name(plan, key)
        prediction.counts[name] = prediction.counts.get(name, 0) + n
    for key, share in result.expected.items():
        name = _name(plan, key)
        prediction.shares[name] = prediction.shares.get(name, 0.0) + share
    return prediction
