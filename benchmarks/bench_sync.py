"""Benchmark the iptables compiler: full and partial syncs, memory, loading a kubectl JSON dump, iptables-restore.

Run: ``.venv/bin/python benchmarks/bench_sync.py [--services 1000,10000] [--endpoints 5] [--repeat 3]``.
Prints absolute figures (the best of ``--repeat`` runs for each timing). End to end is measured
on two kubectl dumps of the same cluster, both written as ``kubectl get -o json`` prints them:

(a) ``kubectl get svc,endpointslices,nodes -A -o json``: the case the performance target is
    about. The target's "about 9 MB" underestimates kubectl's real output: with the fields the
    API server returns (no managedFields) this is about 56 MB for 10,000 Services with 5
    endpoints each; 9 MB is about 1,600 Services (``--services 1600``);
(b) ``kubectl get svc,endpointslices,pods,nodes -A -o json``: the same with every Pod, which is
    mostly Pod objects kube-proxy never reads (reported, no target).

Each is timed in-process (load, full sync, render) and as the real command,
``kproxy-tutor rules -f cluster.json``, in a fresh interpreter (start-up and imports included).
Where root and iptables-restore are available it also times ``iptables-restore --test`` on the
1,000-Service payload inside a throwaway network namespace.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables import Proxier, render_restore, render_save
from kproxy_tutor.sandbox.iptables.dump import rules_text
from kproxy_tutor.sandbox.manifests import load_paths
from kproxy_tutor.sandbox.model import (
    ClusterNetwork,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Node,
    NodeFacts,
    Service,
    ServicePort,
)

NODES = ("node-0", "node-1", "node-2", "node-3")


def service_ip(i: int) -> str:
    return f"10.96.{16 + i // 250}.{1 + i % 250}"


def endpoint_ip(i: int, j: int) -> str:
    n = i * 8 + j
    return f"10.{1 + n // 62500}.{n // 250 % 250}.{2 + n % 250}"


def build_cluster(services: int, endpoints: int) -> Cluster:
    cluster = Cluster(network=ClusterNetwork(pod_cidr="10.0.0.0/8"), facts=NodeFacts())
    for index, name in enumerate(NODES):
        cluster.add_node(Node(name, (f"192.168.0.{10 + index}",)))
    for i in range(services):
        cluster.apply_service(
            Service(
                f"ns-{i % 50}",
                f"svc-{i}",
                cluster_ip=service_ip(i),
                ports=(ServicePort(80, "http", target_port=8080),),
            )
        )
        cluster.apply_endpoint_slice(
            EndpointSlice(
                f"ns-{i % 50}",
                f"svc-{i}-abcde",
                f"svc-{i}",
                endpoints=tuple(
                    Endpoint((endpoint_ip(i, j),), node_name=NODES[(i + j) % 4]) for j in range(endpoints)
                ),
                ports=(EndpointPort("http", 8080),),
            )
        )
    return cluster


def kubectl_json(services: int, endpoints: int, pods: bool = True) -> dict:
    """What ``kubectl get svc,endpointslices,pods,nodes -A -o json`` prints for the same cluster.

    Without ``pods``, what ``kubectl get svc,endpointslices,nodes -A -o json`` prints. Objects carry what the API server returns for them (uid, resourceVersion, timestamps, owner
    references, defaulted fields), less ``managedFields``, which kubectl hides by default.
    """
    items: list[dict] = []
    stamp = "2025-01-01T00:00:00Z"
    for index, name in enumerate(NODES):
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "uid": str(uuid.UUID(int=10**9 + index)),
                    "resourceVersion": str(500 + index),
                    "creationTimestamp": stamp,
                    "labels": {
                        "kubernetes.io/arch": "amd64",
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                    },
                },
                "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
                "status": {
                    "addresses": [
                        {"type": "InternalIP", "address": f"192.168.0.{10 + index}"},
                        {"type": "Hostname", "address": name},
                    ],
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "lastHeartbeatTime": stamp,
                            "lastTransitionTime": stamp,
                        }
                    ],
                },
            }
        )
    for i in range(services):
        ns, name = f"ns-{i % 50}", f"svc-{i}"
        service_uid = str(uuid.UUID(int=i))
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "uid": service_uid,
                    "resourceVersion": str(1000 + i),
                    "creationTimestamp": stamp,
                    "labels": {"app": name},
                },
                "spec": {
                    "clusterIP": service_ip(i),
                    "clusterIPs": [service_ip(i)],
                    "internalTrafficPolicy": "Cluster",
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
                    "selector": {"app": name},
                    "sessionAffinity": "None",
                    "type": "ClusterIP",
                },
                "status": {"loadBalancer": {}},
            }
        )
        items.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "addressType": "IPv4",
                "metadata": {
                    "name": f"{name}-abcde",
                    "namespace": ns,
                    "generateName": f"{name}-",
                    "uid": str(uuid.UUID(int=2 * 10**8 + i)),
                    "resourceVersion": str(2000 + i),
                    "creationTimestamp": stamp,
                    "generation": 1,
                    "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": stamp},
                    "labels": {
                        "app": name,
                        "kubernetes.io/service-name": name,
                        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "v1",
                            "kind": "Service",
                            "name": name,
                            "uid": service_uid,
                            "blockOwnerDeletion": True,
                            "controller": True,
                        }
                    ],
                },
                "endpoints": [
                    {
                        "addresses": [endpoint_ip(i, j)],
                        "conditions": {"ready": True, "serving": True, "terminating": False},
                        "nodeName": NODES[(i + j) % 4],
                        "targetRef": {
                            "kind": "Pod",
                            "name": f"{name}-{j}",
                            "namespace": ns,
                            "uid": str(uuid.UUID(int=3 * 10**8 + i * 8 + j)),
                        },
                    }
                    for j in range(endpoints)
                ],
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            }
        )
        for j in range(endpoints if pods else 0):
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{name}-{j}",
                        "namespace": ns,
                        "uid": str(uuid.UUID(int=3 * 10**8 + i * 8 + j)),
                        "resourceVersion": str(3000 + i * 8 + j),
                        "creationTimestamp": stamp,
                        "labels": {"app": name},
                    },
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                                "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                                "imagePullPolicy": "IfNotPresent",
                            }
                        ],
                        "nodeName": NODES[(i + j) % 4],
                        "restartPolicy": "Always",
                        "serviceAccountName": "default",
                    },
                    "status": {
                        "phase": "Running",
                        "hostIP": f"192.168.0.{10 + (i + j) % 4}",
                        "podIP": endpoint_ip(i, j),
                        "podIPs": [{"ip": endpoint_ip(i, j)}],
                        "startTime": stamp,
                        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": stamp}],
                    },
                }
            )
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


REPEAT = 1


def timed(label: str, func, repeat: int | None = None):  # type: ignore[no-untyped-def]
    """Run ``func`` ``repeat`` times (default ``--repeat``) and print the best time; returns the last value."""
    best = float("inf")
    value = None
    for _ in range(repeat or REPEAT):
        value = None
        gc.collect()
        start = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<46} {best * 1000:9.1f} ms")
    return value, best


def run_command(path: Path) -> None:
    """``kproxy-tutor rules -f PATH`` in a fresh interpreter, its output discarded."""
    done = subprocess.run(
        [sys.executable, "-m", "kproxy_tutor", "rules", "-f", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        raise SystemExit(f"kproxy-tutor rules failed: {done.stderr.strip()[-500:]}")


def restore_test_in_netns(payload: str) -> float | None:
    if os.geteuid() != 0 or not shutil.which("iptables-restore") or not shutil.which("ip"):
        return None
    name = f"kpt-bench-{uuid.uuid4().hex[:8]}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        return None
    try:
        for chain in ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"):
            subprocess.run(
                ["ip", "netns", "exec", name, "iptables", "-t", "nat", "-N", chain], capture_output=True
            )
        for counter in ("localhost_nps_accepted_pkts", "ct_state_invalid_dropped_pkts"):
            subprocess.run(["ip", "netns", "exec", name, "nfacct", "add", counter], capture_output=True)
        start = time.perf_counter()
        done = subprocess.run(
            ["ip", "netns", "exec", name, "iptables-restore", "--noflush", "--test"],
            input=payload,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            print(f"  iptables-restore --test failed: {done.stderr.strip()[:200]}")
            return None
        return elapsed
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", default="1000,10000")
    parser.add_argument("--endpoints", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best is printed")
    parser.add_argument("--no-pods", action="store_true", help="skip the end-to-end case with Pods (b)")
    args = parser.parse_args()
    global REPEAT
    REPEAT = args.repeat
    sizes = [int(s) for s in args.services.split(",")]
    for size in sizes:
        print(f"{size} Services x {args.endpoints} endpoints")
        cluster, _ = timed(
            "build cluster (model, not part of a sync)",
            lambda size=size: build_cluster(size, args.endpoints),
            repeat=1,
        )
        proxier = Proxier(cluster, "node-0")
        holder = [proxier]

        def first_sync(cluster: Cluster = cluster, holder: list[Proxier] = holder):  # type: ignore[no-untyped-def]
            # A new proxier each time: the figure is the first (full) sync from an empty node.
            holder[0] = Proxier(cluster, "node-0")
            return holder[0].sync()

        result, full_time = timed("full sync (first, from an empty node)", first_sync)
        proxier = holder[0]
        rules = sum(len(t.lines) for t in result.payload.tables)
        print(f"  {'rules in payload':<46} {rules:9d}")
        # One endpoint changes in one Service: a partial sync.
        i = size // 2
        old = cluster.endpoint_slices[(f"ns-{i % 50}", f"svc-{i}-abcde")]
        changed = EndpointSlice(
            old.namespace,
            old.name,
            old.service_name,
            endpoints=(*old.endpoints[:-1], Endpoint(("10.250.0.1",), node_name="node-1")),
            ports=old.ports,
        )
        cluster.apply_endpoint_slice(changed)
        partial, _partial_time = timed("partial sync (one endpoint changed)", proxier.sync, repeat=1)
        assert not partial.full and partial.updated_services
        restore, _ = timed("render restore payload", lambda result=result: render_restore(result.payload))
        timed("render iptables-save view", lambda proxier=proxier: render_save(proxier.kernel.ruleset))
        if size == 1000:
            restore_time = restore_test_in_netns(restore)
            if restore_time is not None:
                print(
                    f"  {'iptables-restore --test (same payload)':<46} {restore_time * 1000:9.1f} ms"
                    f"   (our full sync = {full_time / restore_time:.2f}x of it)"
                )
            else:
                print("  iptables-restore --test: skipped (needs root, ip and iptables-restore)")
        del proxier, result, partial, cluster
        gc.collect()
        tracemalloc.start()
        cluster = build_cluster(size, args.endpoints)
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        Proxier(cluster, "node-0").sync()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"  {'peak memory of a full sync (tracemalloc)':<46} {(peak - base) / 2**20:9.1f} MB"
            f"   (cluster model itself: {base / 2**20:.1f} MB)"
        )
        del cluster
        gc.collect()
        cases = [("a", "svc,endpointslices,nodes", False)]
        if not args.no_pods:
            cases.append(("b", "svc,endpointslices,pods,nodes", True))
        for tag, kinds, pods in cases:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "cluster.json"
                # kubectl prints JSON with four-space indentation.
                path.write_text(json.dumps(kubectl_json(size, args.endpoints, pods), indent=4))
                gc.collect()
                target = "ratio to a plain script: bench_matrix.py" if not pods else "no target"
                print(
                    f"  ({tag}) kubectl get {kinds} -A -o json: {path.stat().st_size / 2**20:.1f} MB ({target})"
                )

                def end_to_end(path: Path = path) -> str:
                    # What the command runs: read and load the file, sync node-0, render its tables.
                    loaded = load_paths([str(path)])
                    return rules_text(loaded.cluster, "node-0")

                timed(f"({tag}) load + full sync + render, in-process", end_to_end)
                timed(f"({tag}) kproxy-tutor rules -f cluster.json", lambda path=path: run_command(path))
    print(f"peak RSS of this process: {resource_peak_mb():.0f} MB")


def resource_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
