"""The lessons' example clusters are the sandbox's scenarios: every rule, chain name and address a lesson
quotes is rendered from the scenario it names and compared with the lesson text (both languages).

If a scenario or a compiler changes, these tests say which lesson block no longer matches; if a lesson
quotes a rule kube-proxy would not write for the lesson's objects, they say that too.
"""

from __future__ import annotations

import dataclasses
import io
import ipaddress
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from kproxy_tutor import i18n
from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.iptables import Proxier, render_restore
from kproxy_tutor.shell.scenarios import find_scenario, scenario_names
from kproxy_tutor.shell.session import Session

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
LANGS = ("ru", "en")
CHAIN_NAME = re.compile(
    r"KUBE-(?:SVC|SEP|EXT|SVL|FW)-[A-Z2-7]{16}|(?:service|endpoint|external|firewall)-[A-Z2-7]{8}-[^\s,}`\"']+"
)
HOST_IP = re.compile(r"(?<![\d.])(?:10\.244\.\d{1,3}\.\d{1,3}|192\.168\.1\.\d{1,3})(?![\d/]|\.\d)")


# Lesson text -----------------------------------------------------------------------------------------
@cache
def _lesson(stem: str) -> dict[str, Any]:
    return yaml.safe_load((LESSONS / f"{stem}.yaml").read_text(encoding="utf-8"))


def _texts(value: object, lang: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if set(value) >= {"ru", "en"} and all(isinstance(value[k], str) for k in ("ru", "en")):
            return value[lang]
        return "\n".join(_texts(v, lang) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_texts(v, lang) for v in value)
    return ""


def _step(stem: str, step_id: str) -> dict[str, Any]:
    steps = _lesson(stem)["steps"]
    found = [s for s in steps if s["id"] == step_id]
    assert found, f"lessons/{stem}.yaml has no step {step_id!r}"
    return found[0]


def block(stem: str, step_id: str, contains: str, lang: str) -> str:
    """The code or diagram block of a step that contains ``contains`` (in one language)."""
    for item in _step(stem, step_id)["blocks"]:
        for kind in ("code", "diagram"):
            if kind in item:
                text = _texts(item[kind], lang)
                if contains in text:
                    return text
    raise AssertionError(f"lessons/{stem}.yaml step {step_id}: no block contains {contains!r}")


def rule_lines(text: str, prefix: str = "-A ") -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith(prefix)]


def all_lesson_texts() -> Iterator[tuple[str, str, str]]:
    for path in sorted(LESSONS.glob("0*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for lang in LANGS:
            yield path.name, lang, _texts(data, lang)


# The sandbox -----------------------------------------------------------------------------------------
@cache
def shell(scenario: str, script: str) -> str:
    """Everything the sandbox shell prints for ``script`` (English, plain, wide)."""
    from rich.console import Console

    from kproxy_tutor.ui.shell_repl import run_script
    from kproxy_tutor.ui.shell_view import ShellView

    before = i18n.current_language()
    i18n.set_language("en")
    try:
        buffer = io.StringIO()
        console = Console(file=buffer, width=400, color_system=None, no_color=True, highlight=False)
        session = Session(find_scenario(scenario))
        code = run_script(session, script.splitlines(), ShellView(console, console), False)
    finally:
        i18n.set_language(before)
    assert code == 0, buffer.getvalue()
    return buffer.getvalue()


def scenario_cluster(scenario: str) -> Cluster:
    return Session(find_scenario(scenario)).cluster


def restore(cluster: Cluster, node: str = "worker-1") -> list[str]:
    """What kube-proxy hands to iptables-restore on ``node`` in its first sync."""
    return render_restore(Proxier(cluster, node).sync().payload).splitlines()


def db_service_variant(**changes: Any) -> Cluster:
    """The db-service scenario with lesson 3's "suppose db-service had ..." changes to its Service."""
    cluster = scenario_cluster("db-service")
    service = cluster.services[("default", "db-service")]
    port_changes = changes.pop("port", {})
    ports = tuple(dataclasses.replace(p, **port_changes) for p in service.ports)
    cluster.apply_service(dataclasses.replace(service, ports=ports, **changes))
    return cluster


def etp_local_db() -> Cluster:
    """Lesson 3's "say db-service had type NodePort, nodePort 30432 and externalTrafficPolicy Local"."""
    return db_service_variant(type="NodePort", external_traffic_policy="Local", port={"node_port": 30432})


def scaled_db(replicas: int) -> Cluster:
    cluster = scenario_cluster("db-service")
    deployment = cluster.deployments[("default", "database")]
    cluster.apply_deployment(dataclasses.replace(deployment, replicas=replicas))
    return cluster


def without_comments(line: str) -> str:
    return re.sub(r' -m comment --comment (?:"[^"]*"|\S+)', "", line)


# Lesson 3 (and 1, 7): the db-service chains ----------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_lesson3_full_rules_block_is_what_kube_proxy_writes_for_the_scenario(lang: str) -> None:
    lines = rule_lines(block("03-how-it-works", "rules", ":KUBE-SVC-", lang), "")
    assert len([line for line in lines if line.startswith("-A ")]) == 11  # the lesson's 2 + 3E with E = 3
    written = set(restore(scenario_cluster("db-service")))
    missing = [line for line in lines if line not in written]
    assert not missing, f"kube-proxy does not write these lines for the db-service scenario: {missing}"


@pytest.mark.parametrize("lang", LANGS)
def test_lesson3_chain_diagram_matches_the_scenario(lang: str) -> None:
    diagram = block("03-how-it-works", "chains", "KUBE-SVC-PKJNZ2BPYAP7WCVG", lang)
    written = restore(scenario_cluster("db-service"))
    pairs = re.findall(r"(KUBE-SEP-[A-Z2-7]{16}) ─→ DNAT (\S+)", diagram)
    assert len(pairs) == 3
    for chain, target in pairs:
        assert any(
            line.startswith(f"-A {chain} ") and line.endswith(f"DNAT --to-destination {target}")
            for line in written
        ), (chain, target)
    svc = re.search(r"KUBE-SVC-[A-Z2-7]{16}", diagram)
    assert svc is not None
    assert any(
        line.startswith("-A KUBE-SERVICES ")
        and "-d 10.96.0.12 --dport 5432" in line
        and line.endswith(svc.group())
        for line in written
    )


def test_lesson3_hash_snippet_prints_its_output_block_and_the_sandbox_has_those_chains() -> None:
    code = block("03-how-it-works", "chains", "python3 -c", "en")
    script = code.split("'", 1)[1].rsplit("'", 1)[0]
    printed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    for lang in LANGS:
        assert (
            printed.split() == block("03-how-it-works", "chains", "KUBE-SEP-JXRAYYUVZTS5CCUL\n", lang).split()
        )
    saved = shell("db-service", "iptables-save -t nat")
    for name in printed.split():
        assert f":{name} - [0:0]" in saved


@pytest.mark.parametrize("lang", LANGS)
def test_lesson3_iptables_save_excerpt_is_the_sandbox_iptables_save(lang: str) -> None:
    excerpt = block("03-how-it-works", "probabilities", "iptables-save -t nat | grep", lang)
    saved = shell("db-service", "iptables-save -t nat").splitlines()
    lines = rule_lines(excerpt)
    assert len(lines) == 4
    assert [line for line in saved if line.startswith("-A KUBE-SVC-PKJNZ2BPYAP7WCVG ")] == lines


def test_lesson3_textual_endpoint_order_holds_with_eight_pods() -> None:
    """Lesson 3: "`10.244.0.10:5432` would come before `10.244.0.3:5432`" (scale database to 8)."""
    for lang in LANGS:
        assert "`10.244.0.10:5432`" in _texts(_step("03-how-it-works", "probabilities"), lang)
    jumps = [
        re.search(r"-> ([\d.:]+)", line).group(1)  # type: ignore[union-attr]
        for line in restore(scaled_db(8))
        if line.startswith("-A KUBE-SVC-PKJNZ2BPYAP7WCVG ") and "KUBE-SEP-" in line
    ]
    assert len(jumps) == 8 and jumps.index("10.244.0.10:5432") < jumps.index("10.244.0.3:5432")


@pytest.mark.parametrize("lang", LANGS)
def test_lesson3_masquerade_rules_are_written(lang: str) -> None:
    lines = rule_lines(block("03-how-it-works", "masquerade", "KUBE-POSTROUTING", lang))
    assert lines and set(lines) <= set(restore(scenario_cluster("db-service")))


@pytest.mark.parametrize("lang", LANGS)
def test_lesson3_nodeport_and_affinity_excerpts_follow_from_changing_db_service(lang: str) -> None:
    nodeport = rule_lines(block("03-how-it-works", "nodeport-affinity", "KUBE-NODEPORTS", lang))
    written = set(restore(db_service_variant(type="NodePort", port={"node_port": 30432})))
    assert nodeport and set(nodeport) <= written
    affinity = rule_lines(block("03-how-it-works", "nodeport-affinity", "--rcheck", lang))
    written = set(restore(db_service_variant(session_affinity="ClientIP")))
    assert affinity and set(affinity) <= written


@pytest.mark.parametrize("lang", LANGS)
def test_lesson3_traffic_policy_local_rules_are_written_on_each_node(lang: str) -> None:
    # The Pods live on worker-2: its rules carry KUBE-SVL; worker-1 has none and drops instead.
    with_pods = rule_lines(block("03-how-it-works", "traffic-policy-local", "KUBE-SVL", lang))
    assert with_pods and set(with_pods) <= set(restore(etp_local_db(), "worker-2"))
    without = rule_lines(block("03-how-it-works", "traffic-policy-local", "has no local endpoints", lang))
    assert without and set(without) <= set(restore(etp_local_db(), "worker-1"))


def test_lesson3_quiz_sep_chain_rules_are_written_without_their_comments() -> None:
    text = (LESSONS / "03-how-it-works.quiz.yaml").read_text(encoding="utf-8")
    quoted = set(re.findall(r"`(-A KUBE-SEP-K2CEEONT2Q3EUX5L [^`]+)`", text))
    assert len(quoted) == 2
    written = {without_comments(line) for line in restore(scenario_cluster("db-service"))}
    assert quoted <= written


@pytest.mark.parametrize("lang", LANGS)
def test_lesson3_conntrack_entry_has_the_scenario_addresses(lang: str) -> None:
    entry = block("03-how-it-works", "conntrack", "ESTABLISHED", lang)
    lesson = dict(re.findall(r"(src|dst)=(\S+) .*?", entry.split("dport=5432", 1)[0]))
    reply_src = re.findall(r"src=(\S+)", entry)[1]
    listed = shell("db-service", "curl db-service:5432 --from web\nconntrack -L")
    sandbox = re.search(r"ESTABLISHED src=(\S+) dst=(\S+) .* src=(\S+) dst=(\S+) ", listed)
    assert sandbox is not None
    assert (
        (lesson["src"], lesson["dst"]) == (sandbox.group(1), sandbox.group(2)) == ("10.244.1.5", "10.96.0.12")
    )
    endpoints = {ep.split(":")[0] for ep in _db_endpoints()}
    assert reply_src in endpoints and sandbox.group(3) in endpoints


def _db_endpoints() -> list[str]:
    described = shell("db-service", "kubectl describe svc db-service")
    match = re.search(r"Endpoints:\s+(\S+)", described)
    assert match is not None
    return match.group(1).split(",")


@pytest.mark.parametrize("lang", LANGS)
def test_lesson3_dnat_diagram_and_lessons_1_7_show_the_scenario_endpoints(lang: str) -> None:
    diagram = block("03-how-it-works", "nat-rules", "iptables (DNAT)", lang)
    assert sorted(re.findall(r"Pod: (\S+)", diagram)) == sorted(_db_endpoints())
    assert "Service: 10.96.0.12:5432" in diagram
    nodes = shell("db-service", "kubectl get pods -o wide")
    assert re.search(r"^web\s.*\s10\.244\.1\.5\s+worker-1$", nodes, re.M)


# Lesson 2: the EndpointSlice ------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_lesson2_endpointslice_listing_is_the_sandbox_listing(lang: str) -> None:
    listing = block("02-network", "endpointslices", "ADDRESSTYPE", lang).splitlines()[1].split()
    sandbox = shell("db-service", "kubectl get endpointslices").splitlines()[2].split()
    assert listing[:3] == sandbox[:3]  # name, address type, ports
    assert sorted(listing[3].split(",")) == sorted(sandbox[3].split(","))  # the controller's order may differ
    yaml_block = block("02-network", "endpointslices", "addressType", lang)
    assert sandbox[0] in yaml_block
    assert sorted(re.findall(r'addresses: \["([\d.]+)"\]', yaml_block)) == sorted(sandbox[3].split(","))


def test_lesson2_a_clusterip_on_another_port_matches_no_rule() -> None:
    """Lesson 2 `virtual-object`: the sandbox command it names shows that no kube-proxy rule covers port 80."""
    for lang in LANGS:
        assert "curl 10.96.0.12:80 --from web" in _texts(_step("02-network", "virtual-object"), lang)
    traced, saved = shell("db-service", "curl 10.96.0.12:80 --from web\niptables-save -t nat").split(
        "$ iptables-save -t nat\n"
    )
    assert "no kube-proxy rule matched" in traced
    mentions = [line for line in saved.splitlines() if "10.96.0.12" in line]
    assert mentions and all(line.startswith("-A ") and "-d 10.96.0.12/32" in line for line in mentions)


# Lesson 4: IPVS and nftables ------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_lesson4_ipvs_listings_are_the_sandbox_listings(lang: str) -> None:
    out = shell("db-service", "mode ipvs\nipvsadm -Ln\nip addr show kube-ipvs0")

    def normal(text: str) -> list[str]:
        return [" ".join(line.split()) for line in text.splitlines()]

    ipvsadm = block("04-modes", "ipvs", "ipvsadm -Ln", lang)
    servers = [line for line in normal(ipvsadm) if line.startswith(("TCP ", "UDP ", "-> 10."))]
    assert len(servers) == 4 and set(servers) <= set(normal(out))
    addresses = re.findall(r"inet (\S+) scope", block("04-modes", "ipvs", "kube-ipvs0", lang))
    assert addresses == re.findall(r"inet (\S+) scope", out)


@pytest.mark.parametrize("lang", LANGS)
def test_lesson4_nftables_excerpt_is_in_the_sandbox_table(lang: str) -> None:
    excerpt = block("04-modes", "nftables", "numgen random", lang)
    listed = {
        line.strip()
        for line in shell("db-service", "mode nftables\nnft list table ip kube-proxy").splitlines()
    }
    lines = [
        line.strip()
        for line in excerpt.splitlines()
        if line.strip() and not line.strip().startswith("#") and line.strip() != "}"
    ]
    missing = [line for line in lines if line not in listed]
    assert len(lines) > 8 and not missing, missing


# Lessons 5 and 6 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_lesson5_cluster_cidr_rule_is_in_iptables_save(lang: str) -> None:
    lines = rule_lines(block("05-install", "cluster-cidr", "! -s 10.244.0.0/16", lang))
    assert lines and set(lines) <= set(shell("db-service", "iptables-save -t nat").splitlines())


@pytest.mark.parametrize("lang", LANGS)
def test_lesson6_node_listing_is_the_sandbox_nodes(lang: str) -> None:
    listing = block("06-kubeadm", "daemonset", "custom-columns", lang)
    lesson = re.findall(r"kube-proxy-\w+\s+(192\.168\.\d+\.\d+)\s+(\S+)", listing)
    sandbox = re.findall(
        r"^(\S+)\s+Ready\s+\S+\s+(\S+)", shell("db-service", "kubectl get nodes -o wide"), re.M
    )
    assert sorted(lesson) == sorted((ip, name) for name, ip in sandbox)


def _text_id(value: object) -> str:
    """Test ids name the file (or file:step) and the language, not the text."""
    text = str(value)
    return text if len(text) <= 40 and "\n" not in text else "text"


# Across all lessons ----------------------------------------------------------------------------------
@cache
def _known() -> tuple[frozenset[str], frozenset[str]]:
    """Chain names and addresses the scenarios give, including the variations lessons describe
    (db-service scaled to 4, 5 or 8 Pods, as a NodePort, with session affinity)."""
    from kproxy_tutor.sandbox.nftables import NftProxier
    from kproxy_tutor.sandbox.nftables.render import render_listing

    clusters: list[Cluster] = [scenario_cluster(name) for name in scenario_names()]
    clusters += [scaled_db(replicas) for replicas in (4, 5, 8)]
    clusters.append(db_service_variant(type="NodePort", port={"node_port": 30432}))
    clusters.append(db_service_variant(session_affinity="ClientIP"))
    clusters.append(etp_local_db())
    from .dual_stack import dual_db_service

    dual = dual_db_service()
    clusters.append(dual)
    names: set[str] = set()
    addresses: set[str] = set()
    for cluster in clusters:
        for node in cluster.nodes:
            names.update(CHAIN_NAME.findall("\n".join(restore(cluster, node))))
            names.update(CHAIN_NAME.findall(render_listing(NftProxier(cluster, node).sync().table)))
            addresses.update(cluster.nodes[node].internal_ips)
        addresses.update(pod.pod_ip for pod in cluster.pods.values())
        addresses.update(s.cluster_ip for s in cluster.services.values() if s.cluster_ip)
    for node in dual.nodes:
        # The dual-stack step quotes the IPv6 proxier's chains too.
        names.update(CHAIN_NAME.findall(render_restore(Proxier(dual, node, family="IPv6").sync().payload)))
    return frozenset(names), frozenset(addresses)


@pytest.mark.parametrize(("name", "lang", "text"), list(all_lesson_texts()), ids=_text_id)
def test_every_chain_name_in_the_lessons_comes_from_a_scenario(name: str, lang: str, text: str) -> None:
    names, _ = _known()
    unknown = sorted(set(CHAIN_NAME.findall(text)) - names)
    assert not unknown, f"{name} ({lang}) names chains no scenario produces: {unknown}"


# Lesson 2's first diagram (and its quiz) is the course's generic two-node picture (Pod A 10.244.1.2 on Node1,
# Pod B 10.244.2.3 on Node2), not a sandbox cluster; its db-service blocks are checked above.
GENERIC = {"02-network.yaml", "02-network.quiz.yaml"}


@pytest.mark.parametrize(
    ("name", "lang", "text"), [t for t in all_lesson_texts() if t[0] not in GENERIC], ids=_text_id
)
def test_every_pod_and_node_address_in_the_lessons_is_in_a_scenario(name: str, lang: str, text: str) -> None:
    _, addresses = _known()
    quoted = {ip for ip in HOST_IP.findall(text) if not ipaddress.ip_address(ip).packed.endswith(b"\x00")}
    unknown = sorted(quoted - addresses)
    assert not unknown, f"{name} ({lang}) shows addresses no scenario has: {unknown}"


CHECK_YOURSELF = re.compile(
    r"Проверьте сами|Check it yourself|Try it yourself|Убедитесь сами|See for yourself"
)


def _check_yourself_texts() -> Iterator[tuple[str, str, str]]:
    for path in sorted(LESSONS.glob("0*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for step in data.get("steps", []):
            for item in step.get("blocks", []):
                for lang in LANGS:
                    text = _texts(item.get("text", ""), lang)
                    for paragraph in text.split("\n\n"):
                        if CHECK_YOURSELF.search(paragraph):
                            yield f"{path.name}:{step['id']}", lang, paragraph


def test_there_are_check_it_yourself_blocks() -> None:
    assert len(list(_check_yourself_texts())) >= 4


@pytest.mark.parametrize(("where", "lang", "paragraph"), list(_check_yourself_texts()), ids=_text_id)
def test_every_check_it_yourself_names_a_scenario_and_commands_that_run(
    where: str, lang: str, paragraph: str
) -> None:
    scenario = re.search(r"kproxy-tutor sandbox --scenario ([\w-]+)", paragraph)
    assert scenario is not None, f"{where} ({lang}) says check it yourself but names no scenario"
    assert scenario.group(1) in scenario_names()
    commands = [
        c
        # the sandbox commands are the ones named after the scenario (before it: a real node's commands)
        for c in re.findall(r"`([^`]+)`", paragraph[paragraph.index("`", scenario.end()) + 1 :])
        if c.split()[0]
        in ("curl", "iptables-save", "iptables", "kubectl", "nft", "ipvsadm", "conntrack", "ip")
    ]
    assert commands, f"{where} ({lang}) names no sandbox command"
    shell(scenario.group(1), "\n".join(commands))
