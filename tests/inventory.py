"""An independent reader of an account's network estate, and a translator.

Tests judge ferry with this module, so it must not share ferry's assumptions:
it uses boto3 only, reads everything in one account-region, and normalises it
into plain JSON-able data:

    read_network(session, region) -> {kind: {id: record}}

Kinds are ``KINDS``. Every record has ``name`` (the Name tag or None), ``tags``
(user tags, without Name and without ``aws:``/``ferry:`` keys) and ``default``:
True for what AWS creates by itself (the default VPC and its subnets, internet
gateway and DHCP options; every VPC's main route table, default network ACL and
default security group). ferry maps those instead of creating them.

Left out on purpose, because they differ between two equivalent estates:
association ids, rule ids, addresses AWS picks (public and private IPs), zone
ids, owner ids except where they say which account a peer lives in, and
resources in a deleted or failed state.

    translate(src_inventory, mapping, src_region, dst_region, zone_map=None)

rewrites a source inventory into the destination's terms (ids and account ids
through `mapping`, zones by letter or `zone_map`, regions inside names such as
``com.amazonaws.<region>.s3`` and ARNs), so that a test can assert
``select(translate(src), migrated) == select(read_network(dst), migrated)``.
Every list in an inventory is a set, kept sorted, so equality ignores order.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable, Iterator

KINDS = (
    "vpcs",
    "subnets",
    "internet_gateways",
    "elastic_ips",
    "nat_gateways",
    "route_tables",
    "network_acls",
    "security_groups",
    "vpc_endpoints",
    "dhcp_options",
    "vpc_peering_connections",
)

GONE_STATES = {"deleted", "deleting", "failed", "rejected", "expired"}
DEFAULT_ACL_RULE = 32767
PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}

Inventory = dict[str, dict[str, dict[str, Any]]]


# --- reading ----------------------------------------------------------------


def _pages(ec2, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a describe call, page by page where the API paginates."""
    if ec2.can_paginate(operation):
        for page in ec2.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(ec2, operation)(**kwargs).get(key, [])


def _user_tags(tags: list[dict[str, str]] | None) -> dict[str, Any]:
    """``name`` and ``tags`` fields: the Name tag apart, system tags dropped."""
    tags = {t["Key"]: t["Value"] for t in tags or []}
    user = {k: v for k, v in tags.items() if k != "Name" and not k.startswith(("aws:", "ferry:"))}
    return {"name": tags.get("Name"), "tags": dict(sorted(user.items()))}


def _canonical(value: Any) -> Any:
    """Sort every list (they are all sets) by its items' JSON, recursively."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _is_default_dhcp(config: dict[str, str], region: str) -> bool:
    domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return config == {"domain-name": domain, "domain-name-servers": "AmazonProvidedDNS"}


class _Reader:
    """Reads one account-region; holds what several kinds need to look up."""

    def __init__(self, session, region: str) -> None:
        self.region = region
        self.ec2 = session.client("ec2", region_name=region)
        self.default_vpcs = {
            v["VpcId"] for v in _pages(self.ec2, "describe_vpcs", "Vpcs") if v["IsDefault"]
        }
        self.aws_prefix_lists = {
            p["PrefixListId"]: p["PrefixListName"]
            for p in _pages(self.ec2, "describe_managed_prefix_lists", "PrefixLists")
            if p.get("OwnerId") == "AWS"
        }

    def prefix_list(self, prefix_list_id: str) -> str:
        """AWS-managed lists by name (their ids differ per account); others by id."""
        return self.aws_prefix_lists.get(prefix_list_id, prefix_list_id)

    def read(self) -> Inventory:
        return {kind: _canonical(getattr(self, kind)()) for kind in KINDS}

    def vpcs(self) -> dict[str, Any]:
        out = {}
        for vpc in _pages(self.ec2, "describe_vpcs", "Vpcs"):
            vpc_id = vpc["VpcId"]
            cidrs = [
                a["CidrBlock"]
                for a in vpc.get("CidrBlockAssociationSet", [])
                if a["CidrBlockState"]["State"] == "associated"
            ]
            ipv6 = [
                a["Ipv6CidrBlock"]
                for a in vpc.get("Ipv6CidrBlockAssociationSet", [])
                if a["Ipv6CidrBlockState"]["State"] == "associated"
            ]
            out[vpc_id] = {
                **_user_tags(vpc.get("Tags")),
                "default": vpc["IsDefault"],
                "cidr": vpc["CidrBlock"],
                "secondary_cidrs": [c for c in cidrs if c != vpc["CidrBlock"]],
                "ipv6_cidrs": ipv6,
                "tenancy": vpc["InstanceTenancy"],
                "dns_support": self._vpc_flag(vpc_id, "enableDnsSupport"),
                "dns_hostnames": self._vpc_flag(vpc_id, "enableDnsHostnames"),
                "dhcp_options": vpc.get("DhcpOptionsId"),
            }
        return out

    def _vpc_flag(self, vpc_id: str, attribute: str) -> bool:
        answer = self.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
        key = attribute[0].upper() + attribute[1:]
        return answer[key]["Value"]

    def subnets(self) -> dict[str, Any]:
        return {
            s["SubnetId"]: {
                **_user_tags(s.get("Tags")),
                "default": s["DefaultForAz"],
                "vpc": s["VpcId"],
                "cidr": s["CidrBlock"],
                "ipv6_cidrs": [
                    a["Ipv6CidrBlock"] for a in s.get("Ipv6CidrBlockAssociationSet", [])
                ],
                "zone": s["AvailabilityZone"],
                "map_public_ip_on_launch": s["MapPublicIpOnLaunch"],
                "assign_ipv6_on_creation": s.get("AssignIpv6AddressOnCreation", False),
            }
            for s in _pages(self.ec2, "describe_subnets", "Subnets")
        }

    def internet_gateways(self) -> dict[str, Any]:
        out = {}
        for igw in _pages(self.ec2, "describe_internet_gateways", "InternetGateways"):
            vpcs = [a["VpcId"] for a in igw.get("Attachments", [])]
            out[igw["InternetGatewayId"]] = {
                **_user_tags(igw.get("Tags")),
                "default": bool(self.default_vpcs.intersection(vpcs)),
                "vpcs": vpcs,
            }
        return out

    def elastic_ips(self) -> dict[str, Any]:
        return {
            a["AllocationId"]: {
                **_user_tags(a.get("Tags")),
                "default": False,
                "domain": a.get("Domain"),
            }
            for a in _pages(self.ec2, "describe_addresses", "Addresses")
            if "AllocationId" in a
        }

    def nat_gateways(self) -> dict[str, Any]:
        return {
            n["NatGatewayId"]: {
                **_user_tags(n.get("Tags")),
                "default": False,
                "vpc": n["VpcId"],
                "subnet": n["SubnetId"],
                "connectivity": n.get("ConnectivityType", "public"),
                "allocations": [
                    a["AllocationId"]
                    for a in n.get("NatGatewayAddresses", [])
                    if a.get("AllocationId")
                ],
            }
            for n in _pages(self.ec2, "describe_nat_gateways", "NatGateways")
            if n["State"] not in GONE_STATES
        }

    def route_tables(self) -> dict[str, Any]:
        out = {}
        for table in _pages(self.ec2, "describe_route_tables", "RouteTables"):
            associations = table.get("Associations", [])
            main = any(a.get("Main") for a in associations)
            out[table["RouteTableId"]] = {
                **_user_tags(table.get("Tags")),
                "default": main,
                "vpc": table["VpcId"],
                "main": main,
                "subnets": [a["SubnetId"] for a in associations if a.get("SubnetId")],
                "gateways": [a["GatewayId"] for a in associations if a.get("GatewayId")],
                "routes": [
                    self._route(r) for r in table.get("Routes", []) if r.get("GatewayId") != "local"
                ],
            }
        return out

    def _route(self, route: dict[str, Any]) -> dict[str, Any]:
        destination = (
            route.get("DestinationCidrBlock")
            or route.get("DestinationIpv6CidrBlock")
            or self.prefix_list(route.get("DestinationPrefixListId", ""))
        )
        target_keys = (
            "GatewayId",
            "NatGatewayId",
            "VpcPeeringConnectionId",
            "TransitGatewayId",
            "EgressOnlyInternetGatewayId",
            "InstanceId",
            "NetworkInterfaceId",
            "CarrierGatewayId",
            "LocalGatewayId",
            "CoreNetworkArn",
        )
        target = next((route[k] for k in target_keys if route.get(k)), None)
        return {"destination": destination, "target": target, "state": route.get("State")}

    def network_acls(self) -> dict[str, Any]:
        return {
            acl["NetworkAclId"]: {
                **_user_tags(acl.get("Tags")),
                "default": acl["IsDefault"],
                "vpc": acl["VpcId"],
                "subnets": [a["SubnetId"] for a in acl.get("Associations", [])],
                "entries": [
                    _acl_entry(e)
                    for e in acl.get("Entries", [])
                    if e["RuleNumber"] != DEFAULT_ACL_RULE
                ],
            }
            for acl in _pages(self.ec2, "describe_network_acls", "NetworkAcls")
        }

    def security_groups(self) -> dict[str, Any]:
        out = {}
        for group in _pages(self.ec2, "describe_security_groups", "SecurityGroups"):
            owner = group["OwnerId"]
            out[group["GroupId"]] = {
                **_user_tags(group.get("Tags")),
                "default": group["GroupName"] == "default",
                "vpc": group.get("VpcId"),
                "group_name": group["GroupName"],
                "description": group["Description"],
                "ingress": self._rules(group.get("IpPermissions", []), owner),
                "egress": self._rules(group.get("IpPermissionsEgress", []), owner),
            }
        return out

    def _rules(self, permissions: list[dict[str, Any]], owner: str) -> list[dict]:
        """One row per (protocol, ports, peer): how AWS stores rules anyway."""
        rows = []
        for perm in permissions:
            protocol = PROTOCOL_NAMES.get(perm["IpProtocol"], perm["IpProtocol"])
            ports = (None, None) if protocol == "-1" else (perm.get("FromPort"), perm.get("ToPort"))
            for peer_type, peer, description in self._peers(perm, owner):
                rows.append(
                    {
                        "protocol": protocol,
                        "from_port": ports[0],
                        "to_port": ports[1],
                        "peer_type": peer_type,
                        "peer": peer,
                        "description": description,
                    }
                )
        return rows

    def _peers(self, perm: dict[str, Any], owner: str) -> Iterator[tuple]:
        for r in perm.get("IpRanges", []):
            yield "cidr", r["CidrIp"], r.get("Description")
        for r in perm.get("Ipv6Ranges", []):
            yield "ipv6", r["CidrIpv6"], r.get("Description")
        for r in perm.get("PrefixListIds", []):
            yield "prefix_list", self.prefix_list(r["PrefixListId"]), r.get("Description")
        for r in perm.get("UserIdGroupPairs", []):
            account = r.get("UserId", owner)
            peer = r["GroupId"] if account == owner else f"{account}/{r['GroupId']}"
            yield "group", peer, r.get("Description")

    def vpc_endpoints(self) -> dict[str, Any]:
        return {
            e["VpcEndpointId"]: {
                **_user_tags(e.get("Tags")),
                "default": False,
                "vpc": e["VpcId"],
                "service": e["ServiceName"],
                "type": e["VpcEndpointType"],
                "route_tables": e.get("RouteTableIds", []),
                "subnets": e.get("SubnetIds", []),
                "security_groups": [g["GroupId"] for g in e.get("Groups", [])],
                "private_dns": e.get("PrivateDnsEnabled", False),
                "policy": json.loads(e["PolicyDocument"]) if e.get("PolicyDocument") else None,
            }
            for e in _pages(self.ec2, "describe_vpc_endpoints", "VpcEndpoints")
            if e.get("State", "").lower() not in GONE_STATES
        }

    def dhcp_options(self) -> dict[str, Any]:
        out = {}
        for dopt in _pages(self.ec2, "describe_dhcp_options", "DhcpOptions"):
            # Values stay an ordered string: the order of name servers matters.
            config = {
                c["Key"]: ",".join(v["Value"] for v in c.get("Values", []))
                for c in dopt.get("DhcpConfigurations", [])
            }
            out[dopt["DhcpOptionsId"]] = {
                **_user_tags(dopt.get("Tags")),
                "default": _is_default_dhcp(config, self.region),
                "config": dict(sorted(config.items())),
            }
        return out

    def vpc_peering_connections(self) -> dict[str, Any]:
        return {
            p["VpcPeeringConnectionId"]: {
                **_user_tags(p.get("Tags")),
                "default": False,
                "status": p["Status"]["Code"],
                "requester": _peering_side(p.get("RequesterVpcInfo", {})),
                "accepter": _peering_side(p.get("AccepterVpcInfo", {})),
            }
            for p in _pages(self.ec2, "describe_vpc_peering_connections", "VpcPeeringConnections")
            if p["Status"]["Code"] not in GONE_STATES
        }


def _acl_entry(entry: dict[str, Any]) -> dict[str, Any]:
    ports = entry.get("PortRange")
    icmp = entry.get("IcmpTypeCode")
    return {
        "egress": entry["Egress"],
        "rule": entry["RuleNumber"],
        "action": entry["RuleAction"],
        "protocol": PROTOCOL_NAMES.get(entry["Protocol"], entry["Protocol"]),
        "cidr": entry.get("CidrBlock") or entry.get("Ipv6CidrBlock"),
        "ports": [ports["From"], ports["To"]] if ports else None,
        "icmp": [icmp.get("Type"), icmp.get("Code")] if icmp else None,
    }


def _peering_side(info: dict[str, Any]) -> dict[str, Any]:
    return {
        "vpc": info.get("VpcId"),
        "account": info.get("OwnerId"),
        "region": info.get("Region"),
        "cidr": info.get("CidrBlock"),
    }


def read_network(session, region: str) -> Inventory:
    """Everything network-shaped in the session's account and `region`."""
    return _Reader(session, region).read()


# --- comparing --------------------------------------------------------------


def select(inventory: Inventory, keys: Iterable[str]) -> Inventory:
    """The same inventory with only the records whose id is in `keys`."""
    wanted = set(keys)
    return {
        kind: {k: v for k, v in records.items() if k in wanted}
        for kind, records in inventory.items()
    }


def without_defaults(inventory: Inventory) -> Inventory:
    """The same inventory without the records AWS created by itself."""
    return {
        kind: {k: v for k, v in records.items() if not v.get("default")}
        for kind, records in inventory.items()
    }


def default_vpc_family(inventory: Inventory) -> set[str]:
    """Ids of the default VPC and of everything inside or attached to it.

    Default VPCs differ between regions (one default subnet per zone), so a
    cross-region comparison leaves them out.
    """
    vpc = _default_vpc(inventory)
    if vpc is None:
        return set()
    family = {vpc}
    for records in inventory.values():
        for key, record in records.items():
            if record.get("vpc") == vpc or vpc in record.get("vpcs", []):
                family.add(key)
    return family


def ids(inventory: Inventory) -> set[str]:
    """Every record id in an inventory."""
    return {key for records in inventory.values() for key in records}


# --- translating ------------------------------------------------------------

# AWS ids (prefix-8 or 17 hex digits) and 12-digit account ids, as whole tokens.
_ID_TOKEN = re.compile(r"\b(?:[a-z]+-(?:[0-9a-f]{17}|[0-9a-f]{8})|\d{12})\b")


class TranslatedInventory(dict):
    """A translated inventory; ``unmapped`` holds the ids the mapping lacked.

    It compares equal to a plain dict with the same content, so the flag does
    not get in the way of ``assert translate(src) == dst``.
    """

    unmapped: set[str]


def translate(
    src_inventory: Inventory,
    mapping: dict[str, str],
    src_region: str,
    dst_region: str,
    zone_map: dict[str, str] | None = None,
) -> TranslatedInventory:
    """The source inventory as the destination should read, through `mapping`.

    `mapping` maps source ids to destination ids, and may map the source account
    id to the destination's (peering sides, cross-account group references and
    ARNs carry account ids). Ids it lacks are kept and listed in ``unmapped``.
    Zones map through `zone_map`, else keep their letter in `dst_region`.
    """
    unmapped: set[str] = set()
    region_token = re.compile(r"(?<![a-z0-9-])" + re.escape(src_region) + r"([a-z])?(?![a-z0-9-])")

    def rewrite_id(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in mapping:
            return mapping[token]
        unmapped.add(token)
        return token

    def rewrite_region(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return dst_region
        zone = match.group(0)
        return (zone_map or {}).get(zone) or dst_region + match.group(1)

    def rewrite(text: str) -> str:
        return region_token.sub(rewrite_region, _ID_TOKEN.sub(rewrite_id, text))

    result = TranslatedInventory(_canonical(_walk(src_inventory, rewrite)))
    result.unmapped = unmapped
    return result


def _walk(value: Any, rewrite: Callable[[str], str]) -> Any:
    """Apply `rewrite` to every string in `value`, dict keys included."""
    if isinstance(value, dict):
        return {_walk(k, rewrite): _walk(v, rewrite) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, rewrite) for v in value]
    if isinstance(value, str):
        return rewrite(value)
    return value


# --- pairing what AWS created by itself -------------------------------------


def default_mapping(
    src: Inventory,
    dst: Inventory,
    mapping: dict[str, str],
    src_region: str,
    dst_region: str,
    zone_map: dict[str, str] | None = None,
) -> dict[str, str]:
    """Source -> destination ids for the records AWS created on both sides.

    Pairs the default VPCs, their default subnets (by translated zone) and
    internet gateways, and, for every VPC pair (the default one plus those in
    `mapping`), the main route tables, default ACLs and default groups.
    Returns only the new pairs; merge them into `mapping` to translate.
    """
    pairs: dict[str, str] = {}
    src_vpc, dst_vpc = _default_vpc(src), _default_vpc(dst)
    if src_vpc and dst_vpc:
        pairs[src_vpc] = dst_vpc
        pairs.update(_default_subnets(src, dst, src_vpc, dst_vpc, src_region, dst_region, zone_map))
        pairs.update(_pair_one(src, dst, "internet_gateways", src_vpc, dst_vpc, "vpcs"))
    vpcs = {**{k: v for k, v in mapping.items() if k in src["vpcs"]}, **pairs}
    for s_vpc, d_vpc in vpcs.items():
        if s_vpc not in src["vpcs"]:
            continue
        for kind in ("route_tables", "network_acls", "security_groups"):
            pairs.update(_pair_one(src, dst, kind, s_vpc, d_vpc, "vpc"))
    return pairs


def _default_vpc(inventory: Inventory) -> str | None:
    return next((k for k, v in inventory["vpcs"].items() if v["default"]), None)


def _default_subnets(src, dst, src_vpc, dst_vpc, src_region, dst_region, zone_map):
    def zones(inventory: Inventory, vpc: str) -> dict[str, str]:
        return {
            v["zone"]: k
            for k, v in inventory["subnets"].items()
            if v["vpc"] == vpc and v["default"]
        }

    dst_zones = zones(dst, dst_vpc)
    out = {}
    for zone, subnet in zones(src, src_vpc).items():
        target = (zone_map or {}).get(zone) or dst_region + zone[len(src_region) :]
        if target in dst_zones:
            out[subnet] = dst_zones[target]
    return out


def _pair_one(src, dst, kind: str, src_vpc: str, dst_vpc: str, field: str) -> dict:
    """Pair the single default record of `kind` in two VPCs, if both have one."""

    def find(inventory: Inventory, vpc: str) -> str | None:
        found = [
            k
            for k, v in inventory[kind].items()
            if v["default"] and (vpc in v[field] if field == "vpcs" else v[field] == vpc)
        ]
        return found[0] if len(found) == 1 else None

    s, d = find(src, src_vpc), find(dst, dst_vpc)
    return {s: d} if s and d else {}
