"""Kernel check: real nft accepts our transaction and lists it back exactly as our ``nft list`` rendering.

Runs only as root with ``ip`` and ``nft``, always inside a throwaway network namespace.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kproxy_tutor.sandbox.nftables import NftProxier, render_listing, render_transaction
from kproxy_tutor.sandbox.nftables.parse import parse_listing
from tests.modes.helpers import DATA, SCENARIOS, load_scenario
from tests.netns import network_namespace, unavailable_reason

pytestmark = pytest.mark.kernel
_REASON = unavailable_reason(("ip", "nft"))


@pytest.mark.skipif(_REASON is not None, reason=_REASON or "")
@pytest.mark.parametrize("path", [*SCENARIOS, DATA / "upstream-startup.yaml"], ids=lambda p: p.stem)
def test_nft_loads_and_lists_our_table(path: Path) -> None:
    cluster, node = load_scenario(path)
    proxier = NftProxier(cluster, node)
    result = proxier.sync()
    table = result.table
    # What kube-proxy sends on its first sync, in its order: nft creates the objects in that
    # order and lists them so.
    (transaction,) = result.transactions()
    with network_namespace("kpt-nft") as ns:
        ns.run(["nft", "-c", "-f", "-"], stdin=transaction)
        ns.run(["nft", "-f", "-"], stdin=transaction)
        listed = ns.run(["nft", "list", "table", "ip", "kube-proxy"]).stdout
        # The sorted form (upstream's tests) describes the same objects: loaded into a fresh
        # table it lists the same rules and elements, only in name order.
        ns.run(["nft", "delete", "table", "ip", "kube-proxy"])
        ns.run(["nft", "-f", "-"], stdin=render_transaction(table))
        sorted_listing = ns.run(["nft", "list", "table", "ip", "kube-proxy"]).stdout
    assert listed == render_listing(table)
    assert parse_listing(sorted_listing).canonical() == table.canonical()
