"""Scripted sessions for every scenario, compared with golden transcripts (regenerate with --update-goldens)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kproxy_tutor.shell.scenarios import scenario_names

SCRIPTS = {
    "db-service": (
        "db-service",
        "en",
        """
kubectl get pods -o wide
kubectl get svc
kubectl get endpointslices
kubectl describe svc db-service
iptables -t nat -L KUBE-SERVICES -n -v
curl db-service:5432 --from web
iptables -t nat -L KUBE-SVC-PKJNZ2BPYAP7WCVG -n -v
conntrack -L
watch on
kubectl scale deployment database --replicas 4
iptables -t nat -L KUBE-SVC-PKJNZ2BPYAP7WCVG -n -v
""",
    ),
    "db-service.ru": (
        "db-service",
        "ru",
        """
watch on
kubectl run client --image busybox
pod database-bbhfmz28w9-7hf5n not-ready
kubectl scal deployment database --replicas 2
kubectl get pods -o wdie
curl db-service:5432 --from web --brief -n 3
""",
    ),
    "nodeport-web": (
        "nodeport-web",
        "en",
        """
kubectl get svc -o wide
iptables -t nat -S KUBE-NODEPORTS
iptables -t nat -S KUBE-EXT-LOLE4ISW44XBNF3G
curl 192.168.1.11:30080 --from external -n 2
iptables -t nat -L KUBE-NODEPORTS -n -v
node worker-2
curl 192.168.1.12:30080 --from external --brief
""",
    ),
    "session-affinity": (
        "session-affinity",
        "en",
        """
kubectl describe svc cart
iptables -t nat -S KUBE-SVC-EE4FE7XDP64QLQLA
curl cart --from client -n 4 --brief
iptables -t nat -L KUBE-SVC-EE4FE7XDP64QLQLA -n -v
""",
    ),
    "no-endpoints": (
        "no-endpoints",
        "en",
        """
kubectl get endpointslices
iptables -t filter -L KUBE-SERVICES -n -v
curl orders:8080 --from client
iptables -t filter -L KUBE-SERVICES -n -v
watch on
kubectl label pod orders-1 app=orders
kubectl label pod orders-1 app=orders --overwrite
curl orders:8080 --from client --brief
""",
    ),
    "etp-local": (
        "etp-local",
        "en",
        """
kubectl get pods -o wide
iptables -t nat -S KUBE-EXT-PFINMTQ5Y2TT4XZK
curl 192.168.1.11:30090 --from external --brief
node worker-2
iptables -t filter -L KUBE-EXTERNAL-SERVICES -n -v
curl 192.168.1.12:30090 --from external --brief
""",
    ),
    "empty": (
        None,
        "en",
        """
kubectl get pods
kubectl create deployment web --image nginx --replicas 2 --port 80
kubectl expose deployment web --port 8080 --target-port 80
kubectl run client --image busybox
kubectl get svc -o wide
curl web:8080 --from client --brief
kubectl delete service web
""",
    ),
}


def test_every_scenario_has_a_golden_session() -> None:
    covered = {scenario for scenario, _lang, _script in SCRIPTS.values() if scenario}
    assert covered == set(scenario_names())


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_scenario_session(name: str, run_shell: Callable, golden: Callable[[str, str], None]) -> None:
    scenario, lang, script = SCRIPTS[name]
    code, text, _session = run_shell(script, scenario, lang, keep_going=True)
    golden(name, text)
    # Only the sessions that type mistakes on purpose may fail.
    assert code == (4 if name in ("db-service.ru", "no-endpoints") else 0)


@pytest.mark.parametrize("name", scenario_names())
def test_the_commands_a_scenario_suggests_run_in_it(
    name: str, run_shell: Callable[..., tuple[int, str, object]]
) -> None:
    """The intro's "Try:" list: each command works in its scenario, in order (a typo fails here)."""
    from kproxy_tutor.shell.scenarios import find_scenario

    commands = find_scenario(name).try_commands
    assert commands, f"{name} suggests nothing to try"
    for lang in ("en", "ru"):
        code, out, _session = run_shell("\n".join(commands), scenario=name, lang=lang)
        assert code == 0, out


def test_loading_a_scenario_in_the_shell_says_what_it_is_and_what_to_try(
    run_shell: Callable[..., tuple[int, str, object]],
) -> None:
    code, out, _session = run_shell("scenario etp-local", lang="ru")
    assert code == 0
    assert (
        "externalTrafficPolicy: Local" in out
        and "Попробуйте:\n  curl 192.168.1.11:30090 --from external" in out
    )
