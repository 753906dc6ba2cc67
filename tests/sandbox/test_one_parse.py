"""Each manifest source is parsed once, and the proxy mode comes from that one load."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from kproxy_tutor import entry
from kproxy_tutor.errors import SandboxInputError
from kproxy_tutor.sandbox.manifests import load_texts

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
DB = SCENARIOS / "db-service.yaml"

DB_OBJECTS = [o for o in yaml.safe_load_all(DB.read_text(encoding="utf-8")) if o]
CONFIG = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: {mode}\n"


def configmap(mode: str) -> dict[str, object]:
    """kube-proxy's ConfigMap as ``kubectl get cm -n kube-system kube-proxy -o json`` shows it."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "data": {"config.conf": CONFIG.format(mode=mode), "kubeconfig.conf": "apiVersion: v1\n"},
    }


def json_dump(mode: str) -> str:
    """A kubectl-style JSON List: the scenario's objects plus kube-proxy's ConfigMap."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [configmap(mode), *DB_OBJECTS]}, indent=4)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts every JSON and YAML parser call, by the first line of the text parsed."""
    calls: Counter[str] = Counter()

    def counting(function):  # type: ignore[no-untyped-def]
        def wrapper(stream, *args, **kwargs):  # type: ignore[no-untyped-def]
            text = stream if isinstance(stream, str) else getattr(stream, "name", repr(stream))
            calls[text.lstrip().splitlines()[0] if text.strip() else ""] += 1
            return function(stream, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(json, "loads", counting(json.loads))
    for name in ("load", "load_all", "safe_load", "safe_load_all", "compose", "compose_all"):
        monkeypatch.setattr(yaml, name, counting(getattr(yaml, name)))
    return calls


def test_rules_parses_a_json_dump_with_kube_proxy_configmap_once(
    tmp_path: Path, parses: Counter[str], capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text(json_dump("nftables"), encoding="utf-8")
    code = entry.main(["--lang", "en", "rules", "-f", str(dump), "--node", "worker-1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("table ip kube-proxy {")  # the ConfigMap's mode, from the one load
    assert "the KubeProxyConfiguration in the manifests sets it" in err
    # The dump once (JSON), the ConfigMap's embedded config.conf once (YAML), nothing else.
    assert parses == Counter({"{": 1, "apiVersion: kubeproxy.config.k8s.io/v1alpha1": 1})


def test_rules_parses_multi_document_yaml_with_a_configuration_once(
    tmp_path: Path, parses: Counter[str], capsys: pytest.CaptureFixture[str]
) -> None:
    manifests = tmp_path / "cluster.yaml"
    text = CONFIG.format(mode="ipvs") + "---\n" + DB.read_text(encoding="utf-8")
    manifests.write_text(text, encoding="utf-8")
    code = entry.main(["--lang", "en", "rules", "-f", str(manifests), "--node", "worker-1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("IP Virtual Server version")
    assert sum(parses.values()) == 1 and parses[text.splitlines()[0]] == 1
    # No warning that contradicts the mode shown.
    assert "the rules shown are iptables mode" not in err


@pytest.mark.parametrize("form", ["bare", "configmap"])
@pytest.mark.parametrize("mode", ["iptables", "nftables", "ipvs"])
def test_the_load_result_carries_the_configured_mode(form: str, mode: str) -> None:
    text = CONFIG.format(mode=mode) if form == "bare" else json.dumps(configmap(mode))
    loaded = load_texts([(text, "config"), (DB.read_text(encoding="utf-8"), "db.yaml")])
    assert loaded.configured_mode == mode
    assert loaded.config_location is not None and loaded.config_location.startswith("config")
    assert not loaded.warnings


def test_no_configuration_or_an_empty_mode_leaves_the_choice_to_the_command() -> None:
    assert load_texts([(DB.read_text(encoding="utf-8"), "db.yaml")]).configured_mode is None
    assert load_texts([(CONFIG.format(mode='""'), "c.yaml")]).configured_mode is None


def test_an_unknown_configured_mode_is_refused_with_its_location() -> None:
    with pytest.raises(SandboxInputError) as error:
        load_texts([(CONFIG.format(mode="userspace"), "c.yaml")])
    assert error.value.location == "c.yaml:1"
