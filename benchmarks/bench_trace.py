#!/usr/bin/env python3
"""Traces per second through the rules of a 10,000-Service cluster (target: at least 10,000 per second).

Two figures, in traces per CPU second (steady on a busy machine) and per wall-clock second:

- ``trace --count N``: a batch of new connections to one Service (``trace.load.run_load``, which
  keeps only what the distribution shows), to the last Service of KUBE-SERVICES (the kernel
  examines every rule before it) and to one in the middle;
- full traces: each a new connection from a Pod to a random Service's ClusterIP, every step
  recorded as ``kproxy-tutor trace`` shows it: the request's way through every hook (rules
  examined counted), the DNAT, and the reply through conntrack.

    python benchmarks/bench_trace.py [--services N] [--traces N] [--batch N]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time

from kproxy_tutor.sandbox.cluster import Cluster, service_port
from kproxy_tutor.sandbox.model import (
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Node,
    Pod,
    Service,
)
from kproxy_tutor.sandbox.trace.load import run_load
from kproxy_tutor.sandbox.trace.session import TraceSession
from kproxy_tutor.sandbox.trace.tracer import Client


def build(services: int) -> tuple[Cluster, list[tuple[str, int]]]:
    """``services`` ClusterIP Services, each with two endpoints on two nodes (hand-made slices, as a real dump gives)."""
    cluster = Cluster()
    cluster.add_node(Node("node-a", ("192.168.0.11",)))
    cluster.add_node(Node("node-b", ("192.168.0.12",)))
    cluster.apply_pod(Pod("default", "client", node_name="node-a"))
    targets = []
    for i in range(services):
        name = f"svc-{i}"
        svc = cluster.apply_service(Service("bench", name, ports=(service_port(80, "http"),)))
        endpoints = tuple(
            Endpoint(
                (f"10.{64 + (i >> 14)}.{(i >> 6) & 0xFF}.{(i & 0x3F) * 4 + j}",),
                node_name=("node-a", "node-b")[j],
            )
            for j in range(2)
        )
        cluster.apply_endpoint_slice(
            EndpointSlice(
                "bench", f"{name}-x", name, endpoints=endpoints, ports=(EndpointPort("http", 8080),)
            )
        )
        targets.append((svc.cluster_ip, 80))
    return cluster, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--traces", type=int, default=5_000)
    parser.add_argument(
        "--batch", type=int, default=15_000, help="connections per --count batch (at most 20,000)"
    )
    args = parser.parse_args()
    # More than the ephemeral ports (40000-60999) would reuse source ports of live conntrack entries.
    batch = min(args.batch, 20_000)

    started = time.perf_counter()
    cluster, targets = build(args.services)
    session = TraceSession.from_cluster(cluster, seed=1)
    client = Client("pod", cluster.pods[("default", "client")].pod_ip, "node-a", "default/client")
    session.tracer.connect(client, *targets[0])  # compiles node-a's rules and builds the chain indexes
    session.tracer.connect(client, *targets[-1])  # the other node's rules, if the reply crosses to it
    setup = time.perf_counter() - started

    batches = []
    for label, (ip, port) in (("last", targets[-1]), ("middle", targets[len(targets) // 2])):
        fresh = TraceSession.from_cluster(cluster, seed=1)  # new conntrack table and ports
        fresh.tracer.connect(client, *targets[0])  # compile, as the command's first connection does
        cpu, wall = time.process_time(), time.perf_counter()
        result = run_load(fresh.tracer, client, ip, port, "tcp", batch)
        batches.append(
            (
                label,
                batch / (time.process_time() - cpu),
                batch / (time.perf_counter() - wall),
                result.first.rules_examined,
            )
        )
        del fresh

    # Freeze the built cluster out of the garbage collector's sight, as a long-running shell (or the
    # trace command after loading) does: otherwise every collection walks the 10,000-Service model.
    # The figure without it is printed too.
    results = {}
    for frozen in (False, True):
        if frozen:
            gc.collect()
            gc.freeze()
        picks = random.Random(7)
        examined = []
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.traces):
            ip, port = targets[picks.randrange(len(targets))]
            trace = session.tracer.connect(client, ip, port)
            examined.append(trace.rules_examined)
        results[frozen] = (
            args.traces / (time.process_time() - cpu),
            args.traces / (time.perf_counter() - wall),
        )
    print(f"cluster of {args.services:,} Services built and compiled in {setup:.1f} s")
    for label, cpu_rate, wall_rate, examined_one in batches:
        print(
            f"trace --count {batch:,} to the {label:>6} Service: {cpu_rate:,.0f} traces per CPU second, "
            f"{wall_rate:,.0f} per wall-clock second, {examined_one:,} rules examined each "
            f"({'meets' if cpu_rate >= 10_000 else 'BELOW'} the 10,000/s target)"
        )
    print(f"full traces (every step recorded, reply included), {args.traces:,} random Services:")
    for frozen, label in ((True, "cluster frozen out of the GC"), (False, "default GC")):
        cpu_rate, wall_rate = results[frozen]
        print(
            f"{label:>29}: {cpu_rate:,.0f} traces per CPU second, {wall_rate:,.0f} per wall-clock second "
            f"({'meets' if cpu_rate >= 10_000 else 'BELOW'} the 10,000/s target)"
        )
    print(
        f"rules examined per trace: mean {statistics.mean(examined):,.0f}, "
        f"min {min(examined):,}, max {max(examined):,} (the kernel walks KUBE-SERVICES rule by rule)"
    )


if __name__ == "__main__":
    main()
