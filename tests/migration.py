"""Shared steps of the migration tests: build, migrate, read both sides, compare.

Everything checked here is read with boto3 (tests/inventory.py), never through
ferry's own code; only the ID mapping comes from ferry (`ferry mapping`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import estate
import inventory as inv
from conftest import write_config

SOURCE_REGION = "us-east-1"


@dataclass
class Migration:
    src: Any
    dst: Any
    src_region: str
    dst_region: str
    src_account: str
    dst_account: str
    created: dict[str, str]
    before: dict
    workdir: Path


def prepare(session, accounts, emulator, workdir: Path, dst_region: str, extra_toml: str = "") -> Migration:
    """Builds the network estate in the source and writes ferry.toml."""
    created = estate.build_network_estate(lambda r: session(accounts.source, r), SOURCE_REGION)
    dst = session(accounts.destination, dst_region)
    m = Migration(
        src=session(accounts.source, SOURCE_REGION),
        dst=dst,
        src_region=SOURCE_REGION,
        dst_region=dst_region,
        src_account=accounts.source,
        dst_account=accounts.destination,
        created=created,
        before=inv.read_network(dst, dst_region),
        workdir=workdir,
    )
    write_config(workdir, accounts.source, accounts.destination, SOURCE_REGION, dst_region, emulator, extra_toml)
    return m


def mapping(ferry: Callable) -> dict[str, str]:
    result = ferry("mapping --output json")
    assert result.returncode == 0, result.stderr
    return {m["source_key"].split("/", 1)[1]: m["dest_id"] for m in json.loads(result.stdout)}


def assert_equivalent(m: Migration, ferry_mapping: dict[str, str]) -> None:
    """An independent read of both accounts shows the same estate, ID for ID."""
    src = inv.read_network(m.src, m.src_region)
    dst = inv.read_network(m.dst, m.dst_region)
    ids = dict(ferry_mapping)
    # Every non-default source resource was migrated.
    missing = inv.ids(inv.without_defaults(src)) - set(ids)
    assert not missing, f"not migrated: {sorted(missing)}"
    # AWS-made counterparts ferry did not need to map (main tables of new VPCs...).
    for s, d in inv.default_mapping(src, dst, ids, m.src_region, m.dst_region).items():
        ids.setdefault(s, d)
    if m.src_region != m.dst_region:
        # Default VPCs differ between regions (one default subnet per zone).
        family = inv.default_vpc_family(src)
        ids = {s: d for s, d in ids.items() if s not in family}
    translate_ids = {**ids, m.src_account: m.dst_account}
    expected = inv.translate(inv.select(src, ids), translate_ids, m.src_region, m.dst_region)
    actual = inv.select(dst, ids.values())
    assert not expected.unmapped, f"ids without a destination: {sorted(expected.unmapped)}"
    for kind in expected:
        assert expected[kind] == actual[kind], kind
    # Nothing else appeared in the destination but AWS defaults of new VPCs.
    extra = inv.ids(inv.without_defaults(dst)) - set(ids.values()) - inv.ids(inv.without_defaults(m.before))
    assert not extra, f"unexpected in the destination: {sorted(extra)}"


def live(inventory: dict) -> dict:
    """The inventory without records of VPCs that no longer exist.

    moto keeps a deleted VPC's default network ACL (AWS deletes it with the
    VPC; see emulator/README.md), which would otherwise look like a leftover.
    """
    vpcs = set(inventory["vpcs"])
    return {
        kind: {k: v for k, v in records.items() if "vpc" not in v or v["vpc"] in vpcs}
        for kind, records in inventory.items()
    }


_TAGGED = [
    ("describe_vpcs", "Vpcs", {}),
    ("describe_subnets", "Subnets", {}),
    ("describe_internet_gateways", "InternetGateways", {}),
    ("describe_addresses", "Addresses", {}),
    ("describe_nat_gateways", "NatGateways", {"state": ["pending", "available"]}),
    ("describe_route_tables", "RouteTables", {}),
    ("describe_network_acls", "NetworkAcls", {}),
    ("describe_security_groups", "SecurityGroups", {}),
    ("describe_vpc_endpoints", "VpcEndpoints", {}),
    ("describe_dhcp_options", "DhcpOptions", {}),
    ("describe_vpc_peering_connections", "VpcPeeringConnections", {}),
]


def ferry_sources(session, region: str) -> list[str]:
    """The ferry:source tag of every live EC2 network resource in the account.

    Read per resource type: moto's DescribeTags keeps tags of deleted resources.
    """
    ec2 = session.client("ec2", region_name=region)
    out = []
    for op, key, extra in _TAGGED:
        filters = [{"Name": k, "Values": v} for k, v in extra.items()]
        kwargs = {"Filters": filters} if op != "describe_nat_gateways" else {"Filter": filters}
        for item in getattr(ec2, op)(**kwargs)[key]:
            state = item.get("State") or item.get("Status", {}).get("Code", "")
            if isinstance(state, str) and state.lower() in ("deleted", "deleting", "rejected", "failed"):
                continue
            out += [t["Value"] for t in item.get("Tags", []) if t["Key"] == "ferry:source"]
    return sorted(out)
