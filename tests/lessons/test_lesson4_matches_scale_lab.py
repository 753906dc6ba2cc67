"""Lesson 4's statements about how the modes scale hold in the scaling lab's numbers.

Each claim quotes the lesson (both languages: if the wording changes, the test names the claim to
re-check) and tests the direction of the comparison against figures computed from compiled rules.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest

from kproxy_tutor.sandbox.scaling import ScalePoint, measure

LESSON = Path(__file__).resolve().parents[2] / "lessons" / "04-modes.yaml"
SIZES = (10, 100, 1000)
E = 5


@cache
def lab() -> dict[int, ScalePoint]:
    return {p.services: p for p in measure(SIZES, E, seed=0)}


def series(mode: str, figure: Callable[..., float]) -> list[float]:
    return [figure(lab()[n].modes[mode]) for n in SIZES]


def grows_with_services(values: list[float]) -> bool:
    """Linear in the number of Services: each added Service adds about the same amount (within a factor of 2)."""
    slopes = [(b - a) / (m - n) for (a, b), (n, m) in zip(pairwise(values), pairwise(SIZES), strict=True)]
    return all(s > 0 for s in slopes) and all(0.5 <= t / s <= 2 for s, t in pairwise(slopes))


def constant(values: list[float]) -> bool:
    return len(set(values)) == 1


def first_packet_iptables_is_linear() -> None:
    assert grows_with_services(series("iptables", lambda f: f.examined_worst))
    assert grows_with_services(series("iptables", lambda f: f.examined_avg))


def iptables_updates_are_linear() -> None:
    for figure in (
        lambda f: f.full.lines,
        lambda f: f.full.bytes,
        lambda f: f.partial.lines,
        lambda f: f.rules,
    ):
        assert grows_with_services(series("iptables", figure))
    assert grows_with_services(series("iptables", lambda f: f.partial.replaced))


def rules_are_2_plus_3e_per_service_port() -> None:
    rules = series("iptables", lambda f: f.rules)
    assert rules[2] - rules[1] == (SIZES[2] - SIZES[1]) * (2 + 3 * E)


def blog_2000_services_10_pods_at_least_20000_rules() -> None:
    point = measure((2000,), 10, modes=("iptables",))[0]
    assert point.modes["iptables"].rules >= 20_000


def partial_rewrites_changed_chains_full_rewrites_everything() -> None:
    for n in SIZES:
        f = lab()[n].modes["iptables"]
        assert f.partial.lines < f.full.lines
        # A full sync replaces (at least) every rule kube-proxy owns, Service rules included.
        assert f.full.replaced >= n * (2 + 3 * E)
        # A partial one: KUBE-SERVICES (one rule per Service port) plus the changed Service's chains only.
        assert f.partial.replaced < n + 2 * (2 + 3 * (E + 1)) + 30


def ipvs_iptables_rules_barely_depend_on_services() -> None:
    assert constant(series("ipvs", lambda f: f.rules))
    assert grows_with_services(
        series("ipvs", lambda f: f.elements)
    )  # the ipsets and IPVS tables grow instead


def ipvs_first_packet_does_not_grow() -> None:
    assert constant(series("ipvs", lambda f: f.examined_worst))


def nftables_first_packet_is_constant() -> None:
    assert constant(series("nftables", lambda f: f.examined_worst))
    big = lab()[SIZES[-1]].modes
    assert big["nftables"].examined_worst < big["iptables"].examined_worst


def nftables_update_covers_only_what_changed() -> None:
    assert constant(series("nftables", lambda f: f.partial.lines))
    assert constant(series("nftables", lambda f: f.partial.replaced))
    for n in SIZES[1:]:
        modes = lab()[n].modes
        assert modes["nftables"].partial.lines < modes["iptables"].partial.lines
        assert modes["nftables"].partial.bytes < modes["iptables"].partial.bytes


def scale_lab_shows_both_costs() -> None:
    point = lab()[SIZES[-1]].modes["iptables"]
    assert point.examined_worst > 0 and point.full.lines > 0 and point.partial.lines > 0


#: (what lesson 4 says in Russian, in English, the check of its direction in the lab's numbers)
CLAIMS: list[tuple[str, str, Callable[[], None]]] = [
    ("**Первый пакет — O(n).**", "**The first packet is O(n).**", first_packet_iptables_is_linear),
    ("**Обновление — тоже O(n).**", "**Updates are O(n) too.**", iptables_updates_are_linear),
    (
        "2 + 3E на порт Service'а с E Pod'ами",
        "2 + 3E per Service port with E Pods",
        rules_are_2_plus_3e_per_service_port,
    ),
    (
        "2000 Service'ов по 10 Pod'ов дают не меньше 20 000 правил",
        "2,000 Services with 10 Pods each come to at least 20,000 rules",
        blog_2000_services_10_pods_at_least_20000_rules,
    ),
    (
        "переписывает только цепочки изменившихся Service'ов, но полная пересинхронизация по-прежнему переписывает всё",
        "rewrites only the chains of Services that changed, but a full resync still rewrites everything",
        partial_rewrites_changed_chains_full_rewrites_everything,
    ),
    (
        "у iptables линейная стоимость и обработки первого пакета, и обновления правил",
        "iptables has linear cost both for the first packet and for rule updates",
        iptables_updates_are_linear,
    ),
    (
        "число правил iptables почти не зависит от числа Service'ов",
        "the number of iptables rules barely depends on the number of Services",
        ipvs_iptables_rules_barely_depend_on_services,
    ),
    (
        "цена первого пакета не растёт с числом Service'ов",
        "the first-packet cost does not grow with the number of Services",
        ipvs_first_packet_does_not_grow,
    ),
    (
        "то есть примерно O(1) при любом числе Service'ов",
        "roughly O(1) however many Services there are",
        nftables_first_packet_is_constant,
    ),
    (
        "обновление — транзакция, затрагивающая только изменившиеся элементы",
        "an update is a transaction covering only the elements that changed",
        nftables_update_covers_only_what_changed,
    ),
    (
        "линейный проход `KUBE-SERVICES`, O(n)",
        "linear walk of `KUBE-SERVICES`, O(n)",
        first_packet_iptables_is_linear,
    ),
    ("один поиск в verdict map, ~O(1)", "one verdict-map lookup, ~O(1)", nftables_first_packet_is_constant),
    ("хеш-таблица IPVS", "IPVS hash table", ipvs_first_packet_does_not_grow),
    (
        "сколько строк kube-proxy пишет за полную и за частичную синхронизацию",
        "how many lines kube-proxy writes per full and per partial sync",
        scale_lab_shows_both_costs,
    ),
]


@pytest.mark.parametrize(("ru", "en", "check"), CLAIMS, ids=[c[2].__name__ for c in CLAIMS])
def test_lesson4_claim_holds_in_the_scale_lab(ru: str, en: str, check: Callable[[], None]) -> None:
    text = LESSON.read_text(encoding="utf-8")
    assert ru in text, f"lesson 4 no longer says {ru!r}: re-check {check.__name__}"
    assert en in text, f"lesson 4 no longer says {en!r}: re-check {check.__name__}"
    check()
