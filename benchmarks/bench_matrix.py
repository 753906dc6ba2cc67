#!/usr/bin/env python3
"""The speed matrix: ``kproxy-tutor rules --format restore`` against a plain reference script, on every input shape.

    python benchmarks/bench_matrix.py [--services 1000,10000[,50000]] [--endpoints 5] [--repeat 3]
                                      [--formats json,yaml] [--no-profile] [--no-inner]

Inputs are what ``kubectl get … -A -o json`` (a JSON ``List``) or ``-o yaml`` split into documents
(multi-document YAML) prints for one cluster: Services and EndpointSlices, with and without
Nodes, Pods, a bare KubeProxyConfiguration and kube-system's ``kube-proxy`` ConfigMap. For each
shape both programs run in fresh interpreters, one after the other, ``--repeat`` times:

* ours: ``python -m kproxy_tutor rules -f FILE --format restore``;
* the reference: ``python benchmarks/plain_reference.py FILE`` (json.load or PyYAML's C loader,
  a loop, string formatting: no tricks), which prints the same bytes (checked first).

Printed per shape: median wall times, the medians of the per-pair ratios ours/reference in wall
and in CPU time (target <= 0.6 on the JSON shapes at 10,000 x 5) and our peak RSS (VmHWM). Ratios from pairs run back to
back hold on a shared machine better than absolute figures do; the load average is printed too.

Then, in this process, at each size: load, the first (full) sync in each mode and its rendering,
a partial sync after one endpoint change, traces per second through the node's rules (the
structured rules of a chain are built on its first visit, so new Services cost more), what
pausing the garbage collector (``sandbox/gcpause.py``: around the load and the syncs) and the
generated constructors (``sandbox/fastinit.py``: the loader's endpoints, the change trackers'
endpoint and service port infos, the parser's rules; the iptables compiler writes strings) still
save, and a profile summary (where the time of a run goes).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_sync import NODES, kubectl_json  # noqa: E402

#: KubeProxyConfiguration as kubeadm writes it (mode iptables, the defaults otherwise).
CONFIG_TEXT = (
    "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
    "kind: KubeProxyConfiguration\n"
    "clusterCIDR: 10.244.0.0/16\n"
    'mode: "iptables"\n'
    "iptables:\n  masqueradeAll: false\n  masqueradeBit: null\n  minSyncPeriod: 1s\n  syncPeriod: 30s\n"
)
CONFIG_OBJECT = {
    "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
    "kind": "KubeProxyConfiguration",
    "clusterCIDR": "10.244.0.0/16",
    "mode": "iptables",
    "iptables": {"masqueradeAll": False, "minSyncPeriod": "1s", "syncPeriod": "30s"},
}
CONFIGMAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {
        "name": "kube-proxy",
        "namespace": "kube-system",
        "uid": "7c1e4f9a-0d5b-4c55-9a57-1c1b1a0f0e01",
        "resourceVersion": "250",
        "creationTimestamp": "2025-01-01T00:00:00Z",
        "labels": {"app": "kube-proxy"},
        "annotations": {"kubeadm.kubernetes.io/component-config.hash": "sha256:0"},
    },
    "data": {
        "config.conf": CONFIG_TEXT,
        "kubeconfig.conf": "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://192.168.0.10:6443\n",
    },
}
#: Shape name -> (kinds besides Services and EndpointSlices).
SHAPES = {
    "svc+eps": (),
    "+nodes": ("Node",),
    "+nodes+pods": ("Node", "Pod"),
    "+nodes+KubeProxyConfiguration": ("Node", "KubeProxyConfiguration"),
    "+nodes+kube-proxy ConfigMap": ("Node", "ConfigMap"),
}


def shape_items(all_items: list[dict], kinds: tuple[str, ...]) -> list[dict]:
    keep = {"Service", "EndpointSlice", *kinds}
    items = [i for i in all_items if i["kind"] in keep]
    if "KubeProxyConfiguration" in kinds:
        items.insert(0, CONFIG_OBJECT)
    if "ConfigMap" in kinds:
        items.insert(0, CONFIGMAP)
    return items


def write_inputs(
    directory: Path, services: int, endpoints: int, formats: list[str], shapes: list[str]
) -> dict[str, Path]:
    """One file per (format, shape); YAML documents are dumped once and joined per shape."""
    all_items = kubectl_json(services, endpoints, pods=True)["items"]
    files: dict[str, Path] = {}
    documents: dict[int, str] = {}
    for shape, kinds in SHAPES.items():
        if shape not in shapes:
            continue
        items = shape_items(all_items, kinds)
        if "json" in formats:
            path = directory / f"{services}-{_slug(shape)}.json"
            # kubectl prints JSON with four-space indentation.
            path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=4))
            files[f"json {shape}"] = path
        if "yaml" in formats:
            import yaml

            dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
            for item in items:
                if id(item) not in documents:
                    documents[id(item)] = yaml.dump(item, Dumper=dumper, sort_keys=False)
            path = directory / f"{services}-{_slug(shape)}.yaml"
            path.write_text("".join("---\n" + documents[id(i)] for i in items))
            files[f"yaml {shape}"] = path
    return files


def _slug(shape: str) -> str:
    return shape.replace("+", "-").replace(" ", "-").strip("-")


#: Runs a program as ``python -m``/``python FILE`` would and prints its own peak RSS (VmHWM) on
#: stderr at exit. VmHWM belongs to the program's own address space; ``ru_maxrss`` would also
#: count the moments between fork and exec, when the child still is a copy of this big process.
PEAK = """
import atexit, runpy, sys
def peak():
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write(f"\\nPEAK {line.split()[1]} {usage.ru_utime + usage.ru_stime}\\n")
atexit.register(peak)
target, sys.argv = sys.argv[1], sys.argv[1:]
if target.endswith(".py"):
    runpy.run_path(target, run_name="__main__")
else:
    runpy.run_module(target, run_name="__main__", alter_sys=True)
"""


def run_measured(command: list[str]) -> tuple[float, float, bytes, float]:
    """(wall seconds, peak RSS in MB, stdout, CPU seconds) of one fresh process running ``command``."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-400:]}")
    peak = [line.split() for line in done.stderr.decode().splitlines() if line.startswith("PEAK ")]
    if not peak:
        return wall, float("nan"), done.stdout, float("nan")
    return wall, int(peak[-1][1]) / 1024, done.stdout, float(peak[-1][2])


def ours(path: Path) -> list[str]:
    return ["kproxy_tutor", "rules", "-f", str(path), "--format", "restore"]


def reference(path: Path) -> list[str]:
    return [str(ROOT / "benchmarks" / "plain_reference.py"), str(path)]


def matrix(files: dict[str, Path], repeat: int, yaml_repeat: int) -> list[tuple[str, float]]:
    print(f"  {'input':<38} {'size':>7} {'ours':>7} {'plain':>7} {'wall':>6} {'CPU':>6} {'peak RSS':>9}")
    ratios = []
    for label, path in files.items():
        mine = run_measured(ours(path))[2]
        theirs = run_measured(reference(path))[2]
        if mine != theirs:
            raise SystemExit(f"{label}: our payload differs from the plain reference's")
        times: list[float] = []
        refs: list[float] = []
        pair: list[float] = []
        cpu_pair: list[float] = []
        rss: list[float] = []
        for _ in range(yaml_repeat if label.startswith("yaml") else repeat):
            wall, peak, _, cpu = run_measured(ours(path))
            ref, _, _, ref_cpu = run_measured(reference(path))
            times.append(wall)
            refs.append(ref)
            rss.append(peak)
            pair.append(wall / ref)
            cpu_pair.append(cpu / ref_cpu)
        ratio = statistics.median(pair)
        ratios.append((label, ratio))
        print(
            f"  {label:<38} {path.stat().st_size / 2**20:5.1f}MB {statistics.median(times):6.2f}s "
            f"{statistics.median(refs):6.2f}s {ratio:5.2f}x {statistics.median(cpu_pair):5.2f}x {max(rss):7.0f}MB"
        )
    return ratios


def best(func, repeat: int = 3) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """The least CPU time of ``repeat`` runs of ``func`` (CPU time: waiting for a busy CPU is not ours)."""
    times = []
    value = None
    for _ in range(repeat):
        value = None
        gc.collect()
        start = time.process_time()
        value = func()
        times.append(time.process_time() - start)
    return min(times), value


def inner(path: Path, services: int, repeat: int) -> None:
    """In-process figures for one input (CPU time): load, syncs per mode, partial sync, traces per second."""
    from kproxy_tutor.sandbox.iptables import Proxier, render_restore
    from kproxy_tutor.sandbox.manifests import load_paths
    from kproxy_tutor.sandbox.model import Endpoint, EndpointSlice
    from kproxy_tutor.sandbox.modes import compile_mode

    load_time, loaded = best(lambda: load_paths([str(path)]), repeat)
    cluster = loaded.cluster  # type: ignore[attr-defined]
    print(f"  {'load (read, parse, build the model)':<52} {load_time * 1000:8.0f} ms")
    full_time, proxier = best(lambda: _synced(Proxier(cluster, NODES[0])), repeat)
    print(f"  {'iptables: first full sync (payload + node tables)':<52} {full_time * 1000:8.0f} ms")
    _full_sync_phases(cluster, full_time, repeat)
    render_time, _ = best(lambda: render_restore(proxier.last.payload), repeat)  # type: ignore[attr-defined]
    print(f"  {'iptables: render the restore payload':<52} {render_time * 1000:8.0f} ms")
    from kproxy_tutor.sandbox.ipvs import IpvsProxier
    from kproxy_tutor.sandbox.nftables import NftProxier

    for mode, proxier_class in (("nftables", NftProxier), ("ipvs", IpvsProxier)):
        sync_time, _ = best(lambda cls=proxier_class: cls(cluster, NODES[0]).sync(), repeat)
        print(
            f"  {mode + ': first full sync':<52} {sync_time * 1000:8.0f} ms  ({sync_time / full_time:.2f}x iptables')"
        )
    for mode in ("iptables", "nftables", "ipvs"):
        compile_time, _ = best(lambda mode=mode: compile_mode(cluster, NODES[0], mode), repeat)
        print(f"  {mode + ': full sync + every rendering + evaluator':<52} {compile_time * 1000:8.0f} ms")
    i = services // 2
    key = (f"ns-{i % 50}", f"svc-{i}-abcde")
    partial_times = []
    for round_ in range(max(repeat, 3)):
        old = cluster.endpoint_slices[key]
        cluster.apply_endpoint_slice(
            EndpointSlice(
                old.namespace,
                old.name,
                old.service_name,
                endpoints=(*old.endpoints[:-1], Endpoint((f"10.250.0.{1 + round_}",), node_name=NODES[1])),
                ports=old.ports,
            )
        )
        start = time.process_time()
        result = proxier.sync()  # type: ignore[attr-defined]
        partial_times.append(time.process_time() - start)
        assert not result.full and result.updated_services
    print(
        f"  {'iptables: partial sync, one endpoint changed (median)':<52} {statistics.median(partial_times) * 1000:8.1f} ms"
    )
    print(
        f"  {'traces per second (new connections, every step kept)':<52} {_traces_per_second(cluster):8,.0f}"
    )


def _full_sync_phases(cluster, full_time: float, repeat: int) -> None:  # type: ignore[no-untyped-def]
    """Where the first full sync's time goes: each phase as the difference of cumulative runs."""
    from kproxy_tutor.sandbox.gcpause import paused_gc
    from kproxy_tutor.sandbox.iptables import Proxier

    def tracked() -> object:
        proxier = Proxier(cluster, NODES[0])
        with paused_gc():  # as inside a sync
            proxier.svc_port_map.update_from(proxier.service_changes)
            proxier.endpoints_map.update_from(proxier.endpoints_changes)
        return proxier

    start, _ = best(lambda: Proxier(cluster, NODES[0]), repeat)
    changes, _ = best(tracked, repeat)
    payload, _ = best(lambda: Proxier(cluster, NODES[0]).sync(apply=False), repeat)
    phases = (
        ("proxier start (the initial list of every object)", start),
        ("change trackers: service ports and endpoints", changes - start),
        ("compile the payload (rule lines, chain names)", payload - changes),
        ("load it into the node's tables (iptables-restore)", full_time - payload),
    )
    for label, value in phases:
        print(f"    {label:<50} {value * 1000:8.0f} ms  ({value / full_time:4.0%})")


def _synced(proxier):  # type: ignore[no-untyped-def]
    proxier.last = proxier.sync()
    return proxier


def _traces_per_second(cluster) -> float:  # type: ignore[no-untyped-def]
    import random

    from kproxy_tutor.sandbox.model import Pod
    from kproxy_tutor.sandbox.trace.session import TraceSession
    from kproxy_tutor.sandbox.trace.tracer import Client

    if ("default", "bench-client") not in cluster.pods:
        cluster.apply_pod(Pod("default", "bench-client", node_name=NODES[0]))
    pod = cluster.pods[("default", "bench-client")]
    targets = [(s.cluster_ip, 80) for s in cluster.services.values() if s.cluster_ip]
    session = TraceSession.from_cluster(cluster, seed=1)
    client = Client("pod", pod.pod_ip, NODES[0], "default/bench-client")
    for ip, port in targets[:4]:
        session.tracer.connect(client, ip, port)  # compile the nodes' rules first
    gc.collect()
    picks = random.Random(7)
    count = 3000
    start = time.process_time()
    for _ in range(count):
        session.tracer.connect(client, *targets[picks.randrange(len(targets))])
    return count / (time.process_time() - start)


TRICKS = """
import sys, time, contextlib
if "no-fastinit" in sys.argv[2]:
    import kproxy_tutor.sandbox.fastinit as fastinit
    fastinit.fast_constructor = lambda cls: cls
if "no-gcpause" in sys.argv[2]:
    import kproxy_tutor.sandbox.gcpause as gcpause
    gcpause.paused_gc = contextlib.nullcontext
from kproxy_tutor.sandbox.manifests import load_paths
from kproxy_tutor.sandbox.iptables.dump import rules_text
start = time.process_time()
rules_text(load_paths([sys.argv[1]]).cluster, None, "restore")
print(time.process_time() - start)
"""


def tricks(path: Path, repeat: int) -> None:
    """What each trick still saves: load + sync + render (CPU time) in a fresh process, with and without it."""
    results: dict[str, list[float]] = {"all": [], "no-gcpause": [], "no-fastinit": []}
    for _ in range(repeat):
        for variant, times in results.items():
            done = subprocess.run(
                [sys.executable, "-c", TRICKS, str(path), variant], capture_output=True, text=True, cwd=ROOT
            )
            times.append(float(done.stdout.strip()))
    base = statistics.median(results["all"])
    print(f"  {'load + sync + render, as shipped':<52} {base * 1000:8.0f} ms")
    for variant, label in (("no-gcpause", "without gcpause"), ("no-fastinit", "without fastinit")):
        value = statistics.median(results[variant])
        print(f"  {label + ' (what it saves)':<52} {value * 1000:8.0f} ms  ({(value - base) * 1000:+.0f} ms)")


def json_parsers(path: Path, repeat: int) -> None:
    """Whether a faster JSON library would earn its place: the stdlib against orjson, collector paused."""
    data = path.read_bytes()
    parsers = {"json.loads (stdlib)": json.loads}
    try:
        import orjson

        parsers["orjson.loads"] = orjson.loads
    except ImportError:
        print("  orjson is not installed: only the stdlib is timed")
    for label, parse in parsers.items():
        times = []
        for _ in range(max(repeat, 3)):
            gc.collect()
            gc.disable()
            start = time.process_time()
            value = parse(data)
            times.append(time.process_time() - start)
            gc.enable()
            del value
        print(f"  {label:<52} {min(times) * 1000:8.0f} ms")


def profile(path: Path) -> None:
    """Where the time of one in-process load + sync + render goes: the top functions by own time."""
    from kproxy_tutor.sandbox.iptables.dump import rules_text
    from kproxy_tutor.sandbox.manifests import load_paths

    profiler = cProfile.Profile()
    profiler.enable()
    rules_text(load_paths([str(path)]).cluster, None, "restore")
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(12)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    for line in lines[start : start + 13]:
        print("   " + line.replace(str(ROOT) + "/", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", default="1000,10000", help="comma-separated sizes (50000 is optional)")
    parser.add_argument("--endpoints", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="pairs per JSON shape (medians are printed)")
    parser.add_argument("--yaml-repeat", type=int, default=1, help="pairs per YAML shape (YAML is slow)")
    parser.add_argument("--formats", default="json,yaml")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated: " + ", ".join(SHAPES))
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-inner", action="store_true", help="only the end-to-end matrix")
    args = parser.parse_args()
    formats = args.formats.split(",")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    for services in (int(s) for s in args.services.split(",")):
        print(f"\n{services:,} Services x {args.endpoints} endpoints")
        with tempfile.TemporaryDirectory() as tmp:
            files = write_inputs(Path(tmp), services, args.endpoints, formats, args.shapes.split(","))
            print(" end to end: rules -f FILE --format restore, fresh processes")
            matrix(files, args.repeat, args.yaml_repeat)
            if args.no_inner:
                continue
            base = Path(tmp) / f"{services}-nodes.json"
            if not base.exists():
                base = Path(tmp) / f"{services}-nodes.json"
                base.write_text(json.dumps(kubectl_json(services, args.endpoints, pods=False), indent=4))
            print(f" in-process, {base.name} (CPU time of this process, best of runs)")
            inner(base, services, args.repeat)
            print(" JSON parsers on the same file (best of runs)")
            json_parsers(base, args.repeat)
            print(" the tricks (fresh processes, medians)")
            tricks(base, args.repeat)
            if not args.no_profile:
                print(" profile of load + full sync + render (own time)")
                profile(base)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
