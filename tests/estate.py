"""Build the reference network estate in a source account, through boto3 only.

`build_network_estate` creates the VPC estate that ferry's network support must
replicate (see ARCHITECTURE.md, "Testing") and returns the ids it created, keyed by a
stable short name (``vpc_app``, ``subnet_public_a``, ``sg_web`` ...), so tests can
refer to resources without looking them up again.

Every call below was checked against moto 5.2.5 in server mode; all of them
succeed. Where moto silently drops part of a request, the estate works around it
and ``MOTO_GAPS`` says so (test_estate_selfcheck.py keeps that list honest).
"""

from __future__ import annotations

from typing import Any, Callable

import boto3

SessionFactory = Callable[[str], boto3.Session]

#: What moto 5.2.5 does differently from AWS for the calls the estate makes.
MOTO_GAPS: dict[str, str] = {
    "CreateDhcpOptions": "TagSpecifications is ignored (the set is created "
    "untagged, no error); the estate tags it with CreateTags instead",
    "DescribeDhcpOptions": "no default DHCP options set exists; VPCs without a "
    "custom set report DhcpOptionsId 'default'",
    "CreateNetworkAclEntry": "IcmpTypeCode is dropped (not stored, not returned); "
    "the estate has no ICMP ACL entry for that reason",
}

APP_CIDR = "10.0.0.0/16"
APP_SECONDARY_CIDR = "10.1.0.0/16"
SHARED_CIDR = "10.20.0.0/16"
TEAM_TAG = {"Key": "team", "Value": "platform"}


def _tags(kind: str, name: str, *extra: dict[str, str]) -> list[dict[str, Any]]:
    """A TagSpecifications list with a Name tag (and any extra tags)."""
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}, *extra]}]


def _name(ec2, resource_id: str, name: str) -> None:
    """Tag a resource whose create call takes no TagSpecifications."""
    ec2.create_tags(Resources=[resource_id], Tags=[{"Key": "Name", "Value": name}])


def _create_vpcs(ec2, ids: dict[str, str]) -> None:
    app = ec2.create_vpc(CidrBlock=APP_CIDR, TagSpecifications=_tags("vpc", "app", TEAM_TAG))[
        "Vpc"
    ]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=app, CidrBlock=APP_SECONDARY_CIDR)
    ec2.modify_vpc_attribute(VpcId=app, EnableDnsHostnames={"Value": True})
    shared = ec2.create_vpc(
        CidrBlock=SHARED_CIDR,
        InstanceTenancy="default",
        TagSpecifications=_tags("vpc", "shared", TEAM_TAG),
    )["Vpc"]["VpcId"]
    ids.update(vpc_app=app, vpc_shared=shared)


def _create_dhcp_options(ec2, ids: dict[str, str]) -> None:
    dopt = ec2.create_dhcp_options(
        DhcpConfigurations=[
            {"Key": "domain-name", "Values": ["corp.example"]},
            {"Key": "domain-name-servers", "Values": ["AmazonProvidedDNS"]},
            {"Key": "ntp-servers", "Values": ["10.0.0.123"]},
        ],
    )["DhcpOptions"]["DhcpOptionsId"]
    _name(ec2, dopt, "corp")  # moto ignores TagSpecifications here
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=ids["vpc_app"])
    ids["dopt_corp"] = dopt


def _create_subnets(ec2, region: str, ids: dict[str, str]) -> None:
    layout = [
        ("public_a", "public-a", "vpc_app", "10.0.0.0/24", "a", True),
        ("public_b", "public-b", "vpc_app", "10.0.1.0/24", "b", True),
        ("private_a", "private-a", "vpc_app", "10.0.10.0/24", "a", False),
        ("private_b", "private-b", "vpc_app", "10.1.10.0/24", "b", False),
        ("shared_a", "shared-a", "vpc_shared", "10.20.0.0/24", "a", False),
    ]
    for key, name, vpc, cidr, zone, public in layout:
        subnet = ec2.create_subnet(
            VpcId=ids[vpc],
            CidrBlock=cidr,
            AvailabilityZone=region + zone,
            TagSpecifications=_tags("subnet", name),
        )["Subnet"]["SubnetId"]
        if public:
            ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        ids["subnet_" + key] = subnet


def _create_gateways(ec2, ids: dict[str, str]) -> None:
    igw = ec2.create_internet_gateway(TagSpecifications=_tags("internet-gateway", "app"))[
        "InternetGateway"
    ]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=ids["vpc_app"])
    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=_tags("elastic-ip", "nat-a"))[
        "AllocationId"
    ]
    nat = ec2.create_nat_gateway(
        SubnetId=ids["subnet_public_a"],
        AllocationId=eip,
        ConnectivityType="public",
        TagSpecifications=_tags("natgateway", "nat-a"),
    )["NatGateway"]["NatGatewayId"]
    ids.update(igw_app=igw, eip_nat_a=eip, nat_a=nat)


def _create_route_tables(ec2, ids: dict[str, str]) -> None:
    public = ec2.create_route_table(
        VpcId=ids["vpc_app"], TagSpecifications=_tags("route-table", "public")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=public, DestinationCidrBlock="0.0.0.0/0", GatewayId=ids["igw_app"]
    )
    private = ec2.create_route_table(
        VpcId=ids["vpc_app"], TagSpecifications=_tags("route-table", "private")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=private, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=ids["nat_a"]
    )
    for subnet in ("subnet_public_a", "subnet_public_b"):
        ec2.associate_route_table(RouteTableId=public, SubnetId=ids[subnet])
    for subnet in ("subnet_private_a", "subnet_private_b"):
        ec2.associate_route_table(RouteTableId=private, SubnetId=ids[subnet])
    ids.update(
        rtb_public=public,
        rtb_private=private,
        rtb_app_main=_main_route_table(ec2, ids["vpc_app"]),
        rtb_shared_main=_main_route_table(ec2, ids["vpc_shared"]),
    )


def _main_route_table(ec2, vpc_id: str) -> str:
    tables = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    assert len(tables) == 1, f"expected one main route table in {vpc_id}: {tables}"
    return tables[0]["RouteTableId"]


def _create_s3_endpoint(ec2, region: str, ids: dict[str, str]) -> None:
    endpoint = ec2.create_vpc_endpoint(
        VpcId=ids["vpc_app"],
        ServiceName=f"com.amazonaws.{region}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[ids["rtb_private"]],
        TagSpecifications=_tags("vpc-endpoint", "s3"),
    )["VpcEndpoint"]["VpcEndpointId"]
    ids["vpce_s3"] = endpoint
    ids["pl_s3"] = s3_prefix_list_id(ec2, region)


def s3_prefix_list_id(ec2, region: str) -> str:
    """The AWS-managed prefix list of S3 in `region` (what the endpoint routes to)."""
    lists = ec2.describe_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{region}.s3"]}]
    )["PrefixLists"]
    assert len(lists) == 1, lists
    return lists[0]["PrefixListId"]


def _create_peering(ec2, ids: dict[str, str]) -> None:
    pcx = ec2.create_vpc_peering_connection(
        VpcId=ids["vpc_app"],
        PeerVpcId=ids["vpc_shared"],
        TagSpecifications=_tags("vpc-peering-connection", "app-shared"),
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    ec2.create_route(
        RouteTableId=ids["rtb_private"],
        DestinationCidrBlock=SHARED_CIDR,
        VpcPeeringConnectionId=pcx,
    )
    ec2.create_route(
        RouteTableId=ids["rtb_shared_main"],
        DestinationCidrBlock=APP_CIDR,
        VpcPeeringConnectionId=pcx,
    )
    ids["pcx_app_shared"] = pcx


def _create_network_acl(ec2, ids: dict[str, str]) -> None:
    acl = ec2.create_network_acl(
        VpcId=ids["vpc_app"], TagSpecifications=_tags("network-acl", "private")
    )["NetworkAcl"]["NetworkAclId"]
    entries = [
        dict(RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
             CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443}),
        dict(RuleNumber=90, Protocol="6", RuleAction="deny", Egress=False,
             CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22}),
        dict(RuleNumber=101, Protocol="6", RuleAction="allow", Egress=False,
             Ipv6CidrBlock="::/0", PortRange={"From": 443, "To": 443}),
        dict(RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=True,
             CidrBlock="0.0.0.0/0"),
    ]  # fmt: skip
    for entry in entries:
        ec2.create_network_acl_entry(NetworkAclId=acl, **entry)
    _associate_acl(ec2, acl, ids["subnet_private_a"])
    ids["acl_private"] = acl


def _associate_acl(ec2, acl_id: str, subnet_id: str) -> None:
    """Move a subnet to another ACL: AWS replaces the subnet's current association."""
    current = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["NetworkAcls"]
    association = next(
        a["NetworkAclAssociationId"]
        for acl in current
        for a in acl["Associations"]
        if a["SubnetId"] == subnet_id
    )
    ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl_id)


def _group(ec2, ids: dict[str, str], name: str, description: str) -> str:
    group = ec2.create_security_group(
        GroupName=name,
        Description=description,
        VpcId=ids["vpc_app"],
        TagSpecifications=_tags("security-group", name),
    )["GroupId"]
    ids["sg_" + name] = group
    return group


def _tcp(port: int, **peer: Any) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **peer}


def _from_group(group_id: str) -> dict[str, Any]:
    return {"UserIdGroupPairs": [{"GroupId": group_id}]}


def _create_security_groups(ec2, ids: dict[str, str]) -> None:
    lb = _group(ec2, ids, "lb", "load balancer")
    bastion = _group(ec2, ids, "bastion", "ssh jump host")
    web = _group(ec2, ids, "web", "web servers")
    db = _group(ec2, ids, "db", "postgres")
    ping = _group(ec2, ids, "ping", "talks to pong")
    pong = _group(ec2, ids, "pong", "talks to ping")
    anywhere = {"IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}
    _ingress(ec2, lb, _tcp(80, **anywhere), _tcp(443, **anywhere))
    _ingress(ec2, web, _tcp(80, **_from_group(lb)), _tcp(22, **_from_group(bastion)))
    _ingress(ec2, db, _tcp(5432, **_from_group(web)), _tcp(5432, **_from_group(db)))
    office = {"CidrIp": "203.0.113.0/24", "Description": "office network"}
    _ingress(ec2, bastion, _tcp(22, IpRanges=[office]))
    icmp = {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1}
    _ingress(ec2, ping, {**icmp, **_from_group(pong)})
    _ingress(ec2, pong, {**icmp, **_from_group(ping)})
    _create_locked_group(ec2, ids)
    default = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [ids["vpc_app"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    _ingress(ec2, default, _tcp(8080, IpRanges=[{"CidrIp": "10.0.0.0/8"}]))
    ids["sg_app_default"] = default


def _ingress(ec2, group_id: str, *permissions: dict[str, Any]) -> None:
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=list(permissions))


def _create_locked_group(ec2, ids: dict[str, str]) -> None:
    """A group whose default allow-all egress is replaced by narrow rules."""
    locked = _group(ec2, ids, "locked", "egress only to https inside")
    ec2.revoke_security_group_egress(
        GroupId=locked,
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.authorize_security_group_egress(
        GroupId=locked,
        IpPermissions=[
            _tcp(443, IpRanges=[{"CidrIp": "10.0.0.0/8"}]),
            _tcp(443, PrefixListIds=[{"PrefixListId": ids["pl_s3"]}]),
        ],
    )


def build_network_estate(session_factory: SessionFactory, region: str) -> dict[str, str]:
    """Create the reference network estate; return ``{short name: id}``.

    `session_factory(region)` must return a boto3 session acting in the source
    account whose clients talk to the emulator (conftest's ``session``).
    """
    ec2 = session_factory(region).client("ec2")
    ids: dict[str, str] = {}
    _create_vpcs(ec2, ids)
    _create_dhcp_options(ec2, ids)
    _create_subnets(ec2, region, ids)
    _create_gateways(ec2, ids)
    _create_route_tables(ec2, ids)
    _create_s3_endpoint(ec2, region, ids)
    _create_peering(ec2, ids)
    _create_network_acl(ec2, ids)
    _create_security_groups(ec2, ids)
    return ids
