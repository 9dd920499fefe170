"""Self-checks of the harness itself; they need the emulator, not ferry.

They prove that the estate builder builds what the spec asks for, that the
independent reader sees exactly that, that translate() rewrites every id, and
that the emulator keeps accounts and regions apart (the premise of running
every test in its own random accounts on one emulator).
"""

from __future__ import annotations

import json

import estate
import pytest
from inventory import (
    KINDS,
    default_mapping,
    default_vpc_family,
    ids,
    read_network,
    select,
    translate,
    without_defaults,
)

REGION = "us-east-1"


@pytest.fixture
def built(accounts, session):
    """(ids, inventory) of the reference estate in a fresh source account."""
    created = estate.build_network_estate(lambda r: session(accounts.source, r), REGION)
    return created, read_network(session(accounts.source, REGION), REGION)


def rules(inventory, group_id: str, direction: str = "ingress") -> set[tuple]:
    return {
        (r["protocol"], r["from_port"], r["to_port"], r["peer_type"], r["peer"])
        for r in inventory["security_groups"][group_id][direction]
    }


# --- the estate as built ----------------------------------------------------


def test_read_contains_exactly_what_was_built(built):
    created, inv = built
    aws_made = {"rtb_app_main", "rtb_shared_main", "sg_app_default", "pl_s3"}
    assert ids(without_defaults(inv)) == {v for k, v in created.items() if k not in aws_made}
    counts = {kind: len(without_defaults(inv)[kind]) for kind in KINDS}
    assert counts == {
        "vpcs": 2,
        "subnets": 5,
        "internet_gateways": 1,
        "elastic_ips": 1,
        "nat_gateways": 1,
        "route_tables": 2,
        "network_acls": 1,
        "security_groups": 7,
        "vpc_endpoints": 1,
        "dhcp_options": 1,
        "vpc_peering_connections": 1,
    }
    # One default VPC plus main table, default ACL and default group per VPC.
    defaults = {kind: len(inv[kind]) - counts[kind] for kind in KINDS}
    assert defaults["vpcs"] == 1
    assert defaults["route_tables"] == defaults["network_acls"] == 3
    assert defaults["security_groups"] == 3


def test_vpcs_subnets_and_dhcp(built):
    created, inv = built
    app = inv["vpcs"][created["vpc_app"]]
    assert (app["name"], app["tags"], app["cidr"]) == ("app", {"team": "platform"}, "10.0.0.0/16")
    assert app["secondary_cidrs"] == ["10.1.0.0/16"]
    assert app["dns_hostnames"] and app["dns_support"]
    assert app["dhcp_options"] == created["dopt_corp"]
    shared = inv["vpcs"][created["vpc_shared"]]
    assert (shared["name"], shared["tenancy"], shared["dns_hostnames"]) == (
        "shared",
        "default",
        False,
    )
    assert inv["dhcp_options"][created["dopt_corp"]]["config"] == {
        "domain-name": "corp.example",
        "domain-name-servers": "AmazonProvidedDNS",
        "ntp-servers": "10.0.0.123",
    }
    subnets = inv["subnets"]
    for name, zone, public in [
        ("public_a", "a", True),
        ("public_b", "b", True),
        ("private_a", "a", False),
        ("private_b", "b", False),
    ]:
        subnet = subnets[created["subnet_" + name]]
        assert (subnet["vpc"], subnet["zone"]) == (created["vpc_app"], REGION + zone)
        assert subnet["map_public_ip_on_launch"] is public
    assert subnets[created["subnet_private_b"]]["cidr"].startswith("10.1.")  # secondary CIDR
    assert subnets[created["subnet_shared_a"]]["vpc"] == created["vpc_shared"]


def test_gateways_and_routes(built):
    created, inv = built
    assert inv["internet_gateways"][created["igw_app"]]["vpcs"] == [created["vpc_app"]]
    assert inv["elastic_ips"][created["eip_nat_a"]]["domain"] == "vpc"
    nat = inv["nat_gateways"][created["nat_a"]]
    assert (nat["subnet"], nat["allocations"]) == (
        created["subnet_public_a"],
        [created["eip_nat_a"]],
    )

    tables = inv["route_tables"]
    public, private = tables[created["rtb_public"]], tables[created["rtb_private"]]
    assert public["subnets"] == sorted([created["subnet_public_a"], created["subnet_public_b"]])
    assert private["subnets"] == sorted([created["subnet_private_a"], created["subnet_private_b"]])
    routes = lambda t: {(r["destination"], r["target"]) for r in t["routes"]}  # noqa: E731
    assert routes(public) == {("0.0.0.0/0", created["igw_app"])}
    assert routes(private) == {
        ("0.0.0.0/0", created["nat_a"]),
        ("10.20.0.0/16", created["pcx_app_shared"]),
        (f"com.amazonaws.{REGION}.s3", created["vpce_s3"]),  # the endpoint's route
    }
    shared_main = tables[created["rtb_shared_main"]]
    assert shared_main["main"] and shared_main["default"]
    assert routes(shared_main) == {("10.0.0.0/16", created["pcx_app_shared"])}

    endpoint = inv["vpc_endpoints"][created["vpce_s3"]]
    assert (endpoint["service"], endpoint["type"]) == (f"com.amazonaws.{REGION}.s3", "Gateway")
    assert endpoint["route_tables"] == [created["rtb_private"]]

    peering = inv["vpc_peering_connections"][created["pcx_app_shared"]]
    assert peering["status"] == "active"
    assert (peering["requester"]["vpc"], peering["accepter"]["vpc"]) == (
        created["vpc_app"],
        created["vpc_shared"],
    )


def test_network_acl(built):
    created, inv = built
    acl = inv["network_acls"][created["acl_private"]]
    assert (acl["vpc"], acl["subnets"], acl["default"]) == (
        created["vpc_app"],
        [created["subnet_private_a"]],
        False,
    )
    entries = {
        (e["egress"], e["rule"], e["action"], e["protocol"], e["cidr"], tuple(e["ports"] or ()))
        for e in acl["entries"]
    }
    assert entries == {
        (False, 90, "deny", "tcp", "0.0.0.0/0", (22, 22)),
        (False, 100, "allow", "tcp", "0.0.0.0/0", (443, 443)),
        (False, 101, "allow", "tcp", "::/0", (443, 443)),
        (True, 100, "allow", "-1", "0.0.0.0/0", ()),
    }
    default_acl = next(
        a for a in inv["network_acls"].values() if a["vpc"] == created["vpc_app"] and a["default"]
    )
    assert created["subnet_private_a"] not in default_acl["subnets"]
    assert created["subnet_public_a"] in default_acl["subnets"]


def test_security_groups(built):
    created, inv = built
    sg = {k[3:]: v for k, v in created.items() if k.startswith("sg_")}
    assert rules(inv, sg["lb"]) == {
        ("tcp", p, p, t, peer)
        for p in (80, 443)
        for t, peer in (("cidr", "0.0.0.0/0"), ("ipv6", "::/0"))
    }
    assert rules(inv, sg["web"]) == {
        ("tcp", 80, 80, "group", sg["lb"]),
        ("tcp", 22, 22, "group", sg["bastion"]),
    }
    assert rules(inv, sg["db"]) == {
        ("tcp", 5432, 5432, "group", sg["web"]),
        ("tcp", 5432, 5432, "group", sg["db"]),
    }
    assert rules(inv, sg["ping"]) == {("icmp", -1, -1, "group", sg["pong"])}
    assert rules(inv, sg["pong"]) == {("icmp", -1, -1, "group", sg["ping"])}
    bastion = inv["security_groups"][sg["bastion"]]["ingress"]
    assert [r["description"] for r in bastion] == ["office network"]
    assert rules(inv, sg["locked"], "egress") == {
        ("tcp", 443, 443, "cidr", "10.0.0.0/8"),
        ("tcp", 443, 443, "prefix_list", f"com.amazonaws.{REGION}.s3"),
    }
    default = inv["security_groups"][sg["app_default"]]
    assert default["default"] and default["vpc"] == created["vpc_app"]
    assert rules(inv, sg["app_default"]) == {("tcp", 8080, 8080, "cidr", "10.0.0.0/8")}
    everything = ("-1", None, None, "cidr", "0.0.0.0/0")
    assert rules(inv, sg["web"], "egress") == {everything}


# --- isolation between accounts and regions --------------------------------


def test_accounts_and_regions_are_separate(built, accounts, session):
    """Another account, or the same account in another region, sees only defaults."""
    for account, region in [(accounts.destination, REGION), (accounts.source, "eu-west-1")]:
        other = read_network(session(account, region), region)
        assert without_defaults(other) == {kind: {} for kind in KINDS}, (account, region)
        assert len(other["vpcs"]) == 1


def test_session_acts_in_the_requested_account(accounts, session):
    identity = session(accounts.source).client("sts").get_caller_identity()
    assert identity["Account"] == accounts.source
    vpc = session(accounts.source).client("ec2").describe_vpcs()["Vpcs"][0]
    assert vpc["OwnerId"] == accounts.source


# --- translate --------------------------------------------------------------


def test_translate_identity_returns_the_input(built, accounts):
    _, inv = built
    identity = {i: i for i in ids(inv)} | {accounts.source: accounts.source}
    translated = translate(inv, identity, REGION, REGION)
    assert translated == inv
    assert translated.unmapped == set()


def test_translate_flags_ids_missing_from_the_mapping(built):
    created, inv = built
    translated = translate(inv, {}, REGION, REGION)
    assert translated == inv
    assert {created["vpc_app"], created["sg_web"], created["pcx_app_shared"]} <= translated.unmapped


def test_translate_rewrites_every_id_zone_and_region(built, accounts):
    _, inv = built
    fake = {i: f"{i.split('-')[0]}-{n:017x}" for n, i in enumerate(sorted(ids(inv)))}
    fake[accounts.source] = "999999999999"
    zones = {f"{REGION}a": "eu-west-1c"}
    translated = translate(inv, fake, REGION, "eu-west-1", zone_map=zones)
    text = json.dumps(translated)
    assert translated.unmapped == set()
    leftovers = [i for i in fake if i in text]
    assert leftovers == [], "source ids survived translation"
    assert REGION not in text
    assert ids(translated) == set(fake.values()) - {"999999999999"}
    zones_seen = {s["zone"] for s in translated["subnets"].values()}
    assert {"eu-west-1c", "eu-west-1b"} <= zones_seen and "eu-west-1a" not in zones_seen
    assert "com.amazonaws.eu-west-1.s3" in text
    # References move with the ids they point to.
    web = next(g for g in translated["security_groups"].values() if g["name"] == "web")
    lb = next(k for k, g in translated["security_groups"].items() if g["name"] == "lb")
    assert lb in {r["peer"] for r in web["ingress"]}


@pytest.mark.parametrize("dst_region", [REGION, "eu-west-1"])
def test_two_builds_are_equivalent_through_the_mapping(accounts, session, dst_region):
    """The comparison a ferry test makes, with the builder standing in for ferry."""
    src_ids = estate.build_network_estate(lambda r: session(accounts.source, r), REGION)
    dst_ids = estate.build_network_estate(lambda r: session(accounts.destination, r), dst_region)
    src = read_network(session(accounts.source, REGION), REGION)
    dst = read_network(session(accounts.destination, dst_region), dst_region)

    mapping = {src_ids[k]: dst_ids[k] for k in src_ids if k != "pl_s3"}
    mapping[accounts.source] = accounts.destination
    mapping |= default_mapping(src, dst, mapping, REGION, dst_region)
    migrated = set(mapping) - {accounts.source}
    if dst_region != REGION:  # default VPCs differ in their zones
        migrated -= default_vpc_family(src)
    translated = translate(select(src, migrated), mapping, REGION, dst_region)
    assert translated.unmapped == set()
    assert translated == select(dst, [mapping[i] for i in migrated])

    # And the comparison notices a difference: drop one rule in the destination.
    session(accounts.destination, dst_region).client("ec2").revoke_security_group_ingress(
        GroupId=dst_ids["sg_web"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "UserIdGroupPairs": [{"GroupId": dst_ids["sg_bastion"]}],
            }
        ],
    )
    dst = read_network(session(accounts.destination, dst_region), dst_region)
    assert translated != select(dst, [mapping[i] for i in migrated])


# --- the emulator's known gaps ---------------------------------------------


def test_moto_gaps_still_hold(accounts, session):
    """Fails when a moto upgrade fixes a gap: then update MOTO_GAPS and the README."""
    ec2 = session(accounts.source).client("ec2")
    stale = "moto fixed this: update estate.MOTO_GAPS and emulator/README.md"
    assert set(estate.MOTO_GAPS) == {
        "CreateDhcpOptions",
        "DescribeDhcpOptions",
        "CreateNetworkAclEntry",
    }

    dopt = ec2.create_dhcp_options(
        DhcpConfigurations=[{"Key": "domain-name", "Values": ["x.example"]}],
        TagSpecifications=[
            {"ResourceType": "dhcp-options", "Tags": [{"Key": "Name", "Value": "x"}]}
        ],
    )["DhcpOptions"]
    assert not dopt.get("Tags"), stale

    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    assert default_vpc["Vpcs"][0]["DhcpOptionsId"] == "default", stale
    others = ec2.describe_dhcp_options()["DhcpOptions"]
    assert [d["DhcpOptionsId"] for d in others] == [dopt["DhcpOptionsId"]], stale

    vpc = default_vpc["Vpcs"][0]["VpcId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=10,
        Protocol="1",
        RuleAction="allow",
        Egress=False,
        CidrBlock="10.0.0.0/8",
        IcmpTypeCode={"Type": 8, "Code": 0},
    )
    entries = ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]["Entries"]
    assert "IcmpTypeCode" not in next(e for e in entries if e["RuleNumber"] == 10), stale
