"""A synthetic estate for the scale benchmark (bench/scale.py), built with
boto3 straight against the emulator (not through the proxy).

Per VPC (`vpcs`, default 10):
- the VPC, an internet gateway, `subnets` subnets over two zones;
- `route_tables` route tables, each with a default route to the gateway and
  subnets associated round-robin;
- `groups` security groups referring to each other: group i admits group
  i-1 on 443 and group i+1 on 8080 (a ring, so creation has cycles that
  ferry breaks by creating the groups first and their rules second), and a
  CIDR rule;
- `acls` network ACLs with four entries each, associated round-robin;
- with `compute`: a launch template, an instance launched from it and an
  auto scaling group of one instance over the VPC's subnets.

`build(ec2, autoscaling, shape)` returns how many resources of each ferry kind
it made; the defaults (10 VPCs x 101) make 1,010.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

PUBLIC_IMAGE_NAME = "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"


@dataclass
class Shape:
    vpcs: int = 10
    subnets: int = 8
    route_tables: int = 4
    groups: int = 80
    acls: int = 4
    compute: bool = True

    def per_vpc(self) -> int:
        compute = 3 if self.compute else 0  # launch template, instance, auto scaling group
        return 2 + self.subnets + self.route_tables + self.groups + self.acls + compute

    def total(self) -> int:
        return self.vpcs * self.per_vpc()


def _tags(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}, {"Key": "bench", "Value": "scale"}]}]


def _tcp(port: int, **peer: Any) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **peer}


def public_image(ec2) -> str:
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [PUBLIC_IMAGE_NAME]}])["Images"]
    if len(images) != 1:
        raise SystemExit(f"expected one public image named {PUBLIC_IMAGE_NAME} in the emulator, found {len(images)}")
    return images[0]["ImageId"]


def build_vpc(ec2, autoscaling, region: str, shape: Shape, n: int, image: str) -> dict[str, int]:
    made: dict[str, int] = {}

    def count(kind: str, k: int = 1) -> None:
        made[kind] = made.get(kind, 0) + k

    name = f"scale-{n:02d}"
    vpc = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16", TagSpecifications=_tags("vpc", name))["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway(TagSpecifications=_tags("internet-gateway", name))["InternetGateway"][
        "InternetGatewayId"
    ]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    count("vpc")
    count("internet_gateway")
    subnets = []
    for i in range(shape.subnets):
        zone = region + "ab"[i % 2]
        subnets.append(
            ec2.create_subnet(
                VpcId=vpc,
                CidrBlock=f"10.{n}.{i}.0/24",
                AvailabilityZone=zone,
                TagSpecifications=_tags("subnet", f"{name}-subnet-{i}"),
            )["Subnet"]["SubnetId"]
        )
    count("subnet", len(subnets))
    for i in range(shape.route_tables):
        rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=_tags("route-table", f"{name}-rt-{i}"))[
            "RouteTable"
        ]["RouteTableId"]
        ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        for subnet in subnets[i :: shape.route_tables]:
            ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)
    count("route_table", shape.route_tables)
    groups = [
        ec2.create_security_group(
            GroupName=f"{name}-sg-{i:03d}",
            Description=f"tier {i} of {name}",
            VpcId=vpc,
            TagSpecifications=_tags("security-group", f"{name}-sg-{i:03d}"),
        )["GroupId"]
        for i in range(shape.groups)
    ]
    for i, group in enumerate(groups):
        before, after = groups[i - 1], groups[(i + 1) % len(groups)]
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                _tcp(443, UserIdGroupPairs=[{"GroupId": before}]),
                _tcp(8080, UserIdGroupPairs=[{"GroupId": after}]),
                _tcp(22, IpRanges=[{"CidrIp": f"10.{n}.0.0/16", "Description": "inside"}]),
            ],
        )
    count("security_group", len(groups))
    for i in range(shape.acls):
        acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=_tags("network-acl", f"{name}-acl-{i}"))[
            "NetworkAcl"
        ]["NetworkAclId"]
        entries = [
            dict(RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
                 CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443}),
            dict(RuleNumber=110, Protocol="6", RuleAction="allow", Egress=False,
                 CidrBlock=f"10.{n}.0.0/16", PortRange={"From": 1024, "To": 65535}),
            dict(RuleNumber=90, Protocol="6", RuleAction="deny", Egress=False,
                 CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22}),
            dict(RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=True, CidrBlock="0.0.0.0/0"),
        ]  # fmt: skip
        for entry in entries:
            ec2.create_network_acl_entry(NetworkAclId=acl, **entry)
        for subnet in subnets[i :: shape.acls]:
            current = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])[
                "NetworkAcls"
            ]
            association = next(
                a["NetworkAclAssociationId"] for x in current for a in x["Associations"] if a["SubnetId"] == subnet
            )
            ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
    count("network_acl", shape.acls)
    if shape.compute:
        template = ec2.create_launch_template(
            LaunchTemplateName=f"{name}-app",
            LaunchTemplateData={
                "ImageId": image,
                "InstanceType": "t3.micro",
                "SecurityGroupIds": [groups[0]],
                "UserData": base64.b64encode(f"#!/bin/sh\necho {name}\n".encode()).decode(),
            },
            TagSpecifications=_tags("launch-template", f"{name}-app"),
        )["LaunchTemplate"]["LaunchTemplateId"]
        ec2.run_instances(
            LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
            MinCount=1,
            MaxCount=1,
            SubnetId=subnets[0],
            TagSpecifications=_tags("instance", f"{name}-worker"),
        )
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=f"{name}-app",
            LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
            MinSize=1,
            MaxSize=2,
            DesiredCapacity=1,
            VPCZoneIdentifier=",".join(subnets[:2]),
        )
        count("launch_template")
        count("instance")
        count("autoscaling_group")
    return made


def build(ec2, autoscaling, region: str, shape: Shape) -> dict[str, int]:
    image = public_image(ec2) if shape.compute else ""
    totals: dict[str, int] = {}
    for n in range(shape.vpcs):
        for kind, k in build_vpc(ec2, autoscaling, region, shape, n, image).items():
            totals[kind] = totals.get(kind, 0) + k
    return totals
