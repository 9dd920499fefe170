"""Customer-managed prefix lists, migrated with what routes through them: a
VPC whose route table sends a list's CIDRs to the internet gateway and whose
security group admits the list. Same region and another region: the
destination gets the list with the same entries, the route and the rule name
the destination's list, verify passes, a second plan and apply change
nothing, and rollback deletes the list with the rest.

Everything is built and read with boto3; only the ID mapping comes from ferry.
"""

from __future__ import annotations

import json

import pytest
from conftest import write_config
from migration import mapping

SOURCE_REGION = "us-east-1"
ENTRIES = [
    {"Cidr": "203.0.113.0/24", "Description": "office"},
    {"Cidr": "198.51.100.0/24", "Description": "branch"},
    {"Cidr": "192.0.2.0/28", "Description": "vpn"},
]


def build_estate(ec2) -> dict[str, str]:
    """A VPC, its internet gateway, a prefix list, a route and a rule to it."""
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    pl = ec2.create_managed_prefix_list(
        PrefixListName="partners",
        AddressFamily="IPv4",
        MaxEntries=5,
        Entries=ENTRIES,
        TagSpecifications=[{"ResourceType": "prefix-list", "Tags": [{"Key": "Name", "Value": "partners"}]}],
    )["PrefixList"]["PrefixListId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationPrefixListId=pl, GatewayId=igw)
    sg = ec2.create_security_group(GroupName="partners", Description="partners in", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": pl, "Description": "partners"}],
            }
        ],
    )
    return {"vpc": vpc, "igw": igw, "pl": pl, "rtb": rtb, "sg": sg}


def own_lists(ec2, account: str) -> dict[str, dict]:
    """The account's own live prefix lists with their entries, by ID."""
    lists = ec2.describe_managed_prefix_lists(Filters=[{"Name": "owner-id", "Values": [account]}])["PrefixLists"]
    return {
        p["PrefixListId"]: {
            "name": p.get("PrefixListName"),
            "family": p["AddressFamily"],
            "max_entries": p["MaxEntries"],
            "version": p.get("Version"),
            "tags": {t["Key"]: t["Value"] for t in p.get("Tags", [])},
            "entries": sorted(
                (e["Cidr"], e.get("Description"))
                for e in ec2.get_managed_prefix_list_entries(PrefixListId=p["PrefixListId"])["Entries"]
            ),
        }
        for p in lists
        if not p["State"].startswith("delete")
    }


@pytest.mark.parametrize("dst_region", ["us-east-1", "eu-west-1"])
def test_prefix_list_round_trip(session, accounts, emulator, workdir, ferry, dst_region):
    src = session(accounts.source, SOURCE_REGION).client("ec2")
    dst = session(accounts.destination, dst_region).client("ec2")
    ids = build_estate(src)
    assert own_lists(dst, accounts.destination) == {}
    write_config(workdir, accounts.source, accounts.destination, SOURCE_REGION, dst_region, emulator)

    plan = ferry("plan --output json --strict")
    assert plan.returncode == 0, plan.stderr
    items = {i["key"]: i for i in json.loads(plan.stdout)["items"]}
    assert items[f"prefix_list/{ids['pl']}"]["action"] == "create"
    for key in (f"route_table/{ids['rtb']}", f"security_group/{ids['sg']}"):
        assert items[key]["action"] == "create", items[key]["reason"]

    applied = ferry("apply --yes")
    assert applied.returncode == 0, applied.stderr
    verified = ferry("verify")
    assert verified.returncode == 0, verified.stdout

    # The list, its entries and size, tagged with its source.
    ids_dst = mapping(ferry)
    pl = ids_dst[ids["pl"]]
    lists = own_lists(dst, accounts.destination)
    assert set(lists) == {pl}
    source_list = own_lists(src, accounts.source)[ids["pl"]]
    assert lists[pl]["entries"] == source_list["entries"] == sorted((e["Cidr"], e["Description"]) for e in ENTRIES)
    assert (lists[pl]["name"], lists[pl]["family"], lists[pl]["max_entries"]) == ("partners", "IPv4", 5)
    source_arn = f"arn:aws:ec2:{SOURCE_REGION}:{accounts.source}:prefix-list/{ids['pl']}"
    assert lists[pl]["tags"]["ferry:source"] == source_arn
    assert lists[pl]["tags"]["Name"] == "partners" and "ferry:run" in lists[pl]["tags"]

    # The route and the rule name the destination's list.
    table = dst.describe_route_tables(RouteTableIds=[ids_dst[ids["rtb"]]])["RouteTables"][0]
    routes = [r for r in table["Routes"] if r.get("DestinationPrefixListId")]
    assert [(r["DestinationPrefixListId"], r["GatewayId"]) for r in routes] == [(pl, ids_dst[ids["igw"]])]
    group = dst.describe_security_groups(GroupIds=[ids_dst[ids["sg"]]])["SecurityGroups"][0]
    peers = [p["PrefixListId"] for perm in group["IpPermissions"] for p in perm.get("PrefixListIds", [])]
    assert peers == [pl]

    # Nothing left to do: the plan skips everything, apply changes nothing.
    again = json.loads(ferry("plan --output json").stdout)
    assert {i["action"] for i in again["items"]} == {"skip"}, [i for i in again["items"] if i["action"] != "skip"]
    reapplied = ferry("apply --yes")
    assert reapplied.returncode == 0, reapplied.stderr
    assert "Nothing to do" in reapplied.stdout
    assert own_lists(dst, accounts.destination) == lists, "the list was not modified (same version)"

    # Rollback deletes the list with everything else ferry made.
    rolled = ferry("rollback --yes")
    assert rolled.returncode == 0, rolled.stderr
    assert own_lists(dst, accounts.destination) == {}
    assert mapping(ferry) == {}
    assert own_lists(src, accounts.source)[ids["pl"]] == source_list, "the source is untouched"
