"""One Service's part of what kube-proxy wrote in nftables or IPVS mode (``rules --service``).

nftables: the Service's chains (their names carry ``NAMESPACE/NAME/``) and the set and map
elements that hold its addresses or jump to those chains. IPVS: its virtual servers and the
addresses kube-ipvs0 holds for it. Views that do not split by Service are refused by the caller.
"""

from __future__ import annotations

import dataclasses

from kproxy_tutor.sandbox.cluster import Cluster
from kproxy_tutor.sandbox.ipvs.proxier import IpvsState
from kproxy_tutor.sandbox.nftables.ruleset import NftSet, NftTable

#: The views of each mode that ``--service`` can narrow.
SPLIT_VIEWS = {"nftables": ("list", "transaction", "transaction-sorted"), "ipvs": ("ipvsadm", "kube-ipvs0")}


def _addresses(cluster: Cluster, namespace: str, name: str) -> set[str]:
    service = cluster.services[(namespace, name)]
    ips = {service.cluster_ip, *service.cluster_ips, *service.external_ips}
    ips |= {i.ip for i in service.load_balancer_ingress if i.ip}
    return {ip for ip in ips if ip and ip != "None"}


def nft_service_table(table: NftTable, cluster: Cluster, namespace: str, name: str) -> NftTable:
    marker = f"-{namespace}/{name}/"
    chains = {n: c for n, c in table.chains.items() if marker in n}
    addresses = _addresses(cluster, namespace, name)

    def kept(nft_set: NftSet) -> NftSet:
        elements = [
            e
            for e in nft_set.elements
            if (e.value is not None and any(e.value.endswith(f" {chain}") for chain in chains))
            or (e.value is None and e.key and e.key[0] in addresses)
        ]
        return dataclasses.replace(nft_set, elements=elements)

    # The Service's own affinity sets have no elements until traffic comes; keep them by name.
    sets = {n: s for n, s in ((n, kept(s)) for n, s in table.sets.items()) if s.elements or marker in n}
    return NftTable(table.family, table.name, table.comment, sets, chains)


def ipvs_service_state(state: IpvsState, cluster: Cluster, namespace: str, name: str) -> IpvsState:
    servers = [v for v in state.virtual_servers if v.service.partition(":")[0] == f"{namespace}/{name}"]
    addresses = _addresses(cluster, namespace, name)
    return IpvsState(servers, [a for a in state.bound_addresses if a in addresses])
