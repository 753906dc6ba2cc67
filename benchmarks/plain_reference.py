#!/usr/bin/env python3
"""The plain reference for the benchmarks: the iptables-restore payload of the benchmark's clusters, written plainly.

    python benchmarks/plain_reference.py cluster.json > payload.txt

It is the simplest straightforward script a person would write for the job: ``json.load``
(or PyYAML's C loader for multi-document YAML), a loop over the Services and EndpointSlices,
``hashlib``/``base64`` for the chain names, string formatting, one write. It knows only what
the benchmark's clusters hold (ClusterIP Services with TCP ports, ready endpoints, the default
cluster CIDR), and prints the same bytes as ``kproxy-tutor rules -f FILE --format restore``
for them; ``bench_matrix.py`` checks that before timing anything.
"""

import base64
import hashlib
import json
import sys

FILTER = """*filter
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-FIREWALL - [0:0]
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
"""
POSTROUTING = """-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
"""
TAIL = """-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
COMMIT
"""


def token(text):
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def read_objects(path):
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            return json.load(f)["items"]
    import yaml

    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.load_all(f, Loader=yaml.CSafeLoader) if doc]


def main(path):
    services = {}
    endpoints = {}
    for obj in read_objects(path):
        if obj["kind"] == "Service":
            services[(obj["metadata"]["namespace"], obj["metadata"]["name"])] = obj
        elif obj["kind"] == "EndpointSlice":
            labels = obj["metadata"]["labels"]
            key = (obj["metadata"]["namespace"], labels["kubernetes.io/service-name"])
            endpoints.setdefault(key, []).append(obj)

    # Above 1,000 endpoints kube-proxy leaves the comments off the endpoint rules.
    large = sum(len(e["endpoints"]) for slices in endpoints.values() for e in slices) > 1000
    chains = []
    rules = []
    for key in sorted(services):
        spec = services[key]["spec"]
        for port in spec["ports"]:
            name = f"{key[0]}/{key[1]}:{port['name']}"
            svc_chain = "KUBE-SVC-" + token(name + "tcp")
            targets = []
            for eps in endpoints.get(key, []):
                for eps_port in eps["ports"]:
                    if eps_port["name"] == port["name"]:
                        for endpoint in eps["endpoints"]:
                            targets.append(f"{endpoint['addresses'][0]}:{eps_port['port']}")
            targets.sort()
            comment = f'"{name} cluster IP"'
            match = f"-m tcp -p tcp -d {spec['clusterIP']} --dport {port['port']}"
            chains.append(f":{svc_chain} - [0:0]")
            rules.append(f"-A KUBE-SERVICES -m comment --comment {comment} {match} -j {svc_chain}")
            rules.append(
                f"-A {svc_chain} -m comment --comment {comment} {match} ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ"
            )
            sep_rules = []
            for i, target in enumerate(targets):
                sep_chain = "KUBE-SEP-" + token(name + "tcp" + target)
                chains.append(f":{sep_chain} - [0:0]")
                left = len(targets) - i
                statistic = f"-m statistic --mode random --probability {1 / left:.10f} " if left > 1 else ""
                ip = target.split(":")[0]
                if large:
                    rules.append(f"-A {svc_chain} {statistic}-j {sep_chain}")
                    sep_rules.append(f"-A {sep_chain} -s {ip} -j KUBE-MARK-MASQ")
                    sep_rules.append(f"-A {sep_chain} -m tcp -p tcp -j DNAT --to-destination {target}")
                else:
                    rules.append(
                        f'-A {svc_chain} -m comment --comment "{name} -> {target}" {statistic}-j {sep_chain}'
                    )
                    sep_rules.append(f"-A {sep_chain} -m comment --comment {name} -s {ip} -j KUBE-MARK-MASQ")
                    sep_rules.append(
                        f"-A {sep_chain} -m comment --comment {name} -m tcp -p tcp -j DNAT --to-destination {target}"
                    )
            rules.extend(sep_rules)
    sys.stdout.write(FILTER + "\n".join(chains) + "\n" + POSTROUTING + "\n".join(rules) + "\n" + TAIL)


if __name__ == "__main__":
    main(sys.argv[1])
