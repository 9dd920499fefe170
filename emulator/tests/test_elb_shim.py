"""Tests of the shim's load balancing (emulator/ferry_shim/elb.py), and of the
moto behaviours ferry's load balancing relies on as they are.

Each test acts in a fresh random account on this module's own emulator and
checks one behaviour AWS documents (the README's "Load balancing" section
says where), with the case that must succeed beside the one that must fail.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from shim_fixtures import (  # noqa: F401  (fixtures are found by name in this module)
    OTHER_REGION,
    REGION,
    aws,
    error_code,
    grantee,
    owner,
    shim_emulator,
)

BASE_IMAGE = "ami-03cf127a"  # one of moto's built-in AMIs, in every account-region


# --- helpers ----------------------------------------------------------------------


def vpc_with_subnets(ec2: Any, region: str = REGION) -> tuple[str, str, str]:
    """A VPC and one subnet in each of two zones: (vpc, subnet a, subnet b)."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a, b = (
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
        for i, zone in ((0, "a"), (1, "b"))
    )
    return vpc, a, b


def self_signed(name: str) -> tuple[bytes, bytes]:
    """A self-signed certificate for `name` and its key, PEM (for ACM import)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def import_certificate(acm: Any, name: str) -> str:
    cert, key = self_signed(name)
    return acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]


def alb_with_group(elbv2: Any, ec2: Any) -> tuple[str, str]:
    """An Application load balancer and an HTTP target group: (lb arn, tg arn)."""
    vpc, a, b = vpc_with_subnets(ec2)
    lb = elbv2.create_load_balancer(Name="web", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    return lb, tg


def forward(tg: str) -> list[dict[str, str]]:
    return [{"Type": "forward", "TargetGroupArn": tg}]


def targets(elbv2: Any, tg: str) -> list[dict[str, Any]]:
    return [d["Target"] for d in elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]]


# --- load balancers -----------------------------------------------------------------


def test_load_balancer_arns_name_their_type(aws, owner):
    ec2, elbv2 = aws("ec2", owner), aws("elbv2", owner)
    _, a, b = vpc_with_subnets(ec2)
    alb = elbv2.create_load_balancer(Name="app", Subnets=[a, b], Tags=[{"Key": "k", "Value": "v"}])["LoadBalancers"][0]
    nlb = elbv2.create_load_balancer(Name="net", Type="network", Subnets=[a, b], Tags=[{"Key": "k", "Value": "v"}])["LoadBalancers"][0]
    assert ":loadbalancer/app/app/" in alb["LoadBalancerArn"]
    assert ":loadbalancer/net/net/" in nlb["LoadBalancerArn"]
    assert alb["Scheme"] == nlb["Scheme"] == "internet-facing", "AWS's default scheme"
    listed = {lb["LoadBalancerName"]: lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]}
    assert listed == {"app": alb["LoadBalancerArn"], "net": nlb["LoadBalancerArn"]}
    tags = elbv2.describe_tags(ResourceArns=[nlb["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
    assert tags == [{"Key": "k", "Value": "v"}], "tags given at creation stay with the renamed ARN"
    tg = elbv2.create_target_group(Name="tcp", Protocol="TCP", Port=22, VpcId=nlb["VpcId"])["TargetGroups"][0]["TargetGroupArn"]
    listener = elbv2.create_listener(LoadBalancerArn=nlb["LoadBalancerArn"], Protocol="TCP", Port=22, DefaultActions=forward(tg))
    assert ":listener/net/net/" in listener["Listeners"][0]["ListenerArn"]


def test_network_load_balancer_reports_its_elastic_ips(aws, owner):
    ec2, elbv2 = aws("ec2", owner), aws("elbv2", owner)
    _, a, b = vpc_with_subnets(ec2)
    eips = [ec2.allocate_address(Domain="vpc") for _ in range(2)]
    mappings = [{"SubnetId": s, "AllocationId": e["AllocationId"]} for s, e in zip((a, b), eips)]
    arn = elbv2.create_load_balancer(Name="edge", Type="network", SubnetMappings=mappings)["LoadBalancers"][0]["LoadBalancerArn"]
    zones = elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["AvailabilityZones"]
    assert sorted((z["SubnetId"], z["LoadBalancerAddresses"][0]["AllocationId"], z["LoadBalancerAddresses"][0]["IpAddress"]) for z in zones) == sorted(
        (s, e["AllocationId"], e["PublicIp"]) for s, e in zip((a, b), eips)
    )
    internal = elbv2.create_load_balancer(
        Name="inside", Type="network", Scheme="internal", SubnetMappings=[{"SubnetId": a, "PrivateIPv4Address": "10.0.0.10"}]
    )["LoadBalancers"][0]
    assert internal["AvailabilityZones"][0]["LoadBalancerAddresses"] == [{"PrivateIPv4Address": "10.0.0.10"}]
    plain = elbv2.create_load_balancer(Name="plain", Subnets=[a, b])["LoadBalancers"][0]
    assert all("LoadBalancerAddresses" not in z for z in plain["AvailabilityZones"])


def test_elastic_ip_of_a_load_balancer_must_exist_and_stays_until_it_is_deleted(aws, owner):
    ec2, elbv2 = aws("ec2", owner), aws("elbv2", owner)
    _, a, _ = vpc_with_subnets(ec2)
    missing = [{"SubnetId": a, "AllocationId": "eipalloc-0123456789abcdef0"}]
    assert error_code(elbv2.create_load_balancer, Name="x", Type="network", SubnetMappings=missing) == "AllocationIdNotFound"
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    arn = elbv2.create_load_balancer(Name="x", Type="network", SubnetMappings=[{"SubnetId": a, "AllocationId": eip}])[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    assert error_code(ec2.release_address, AllocationId=eip) == "InvalidIPAddress.InUse"
    elbv2.delete_load_balancer(LoadBalancerArn=arn)
    ec2.release_address(AllocationId=eip)
    assert ec2.describe_addresses()["Addresses"] == []


def test_create_load_balancer_is_idempotent_for_the_same_settings_only(aws, owner):
    ec2, elbv2 = aws("ec2", owner), aws("elbv2", owner)
    _, a, b = vpc_with_subnets(ec2)
    first = elbv2.create_load_balancer(Name="web", Subnets=[a, b])["LoadBalancers"][0]["LoadBalancerArn"]
    again = elbv2.create_load_balancer(Name="web", Subnets=[b, a])["LoadBalancers"][0]["LoadBalancerArn"]
    assert again == first
    assert error_code(elbv2.create_load_balancer, Name="web", Subnets=[a, b], Scheme="internal") == "DuplicateLoadBalancerName"
    assert error_code(elbv2.create_load_balancer, Name="web", Type="network", Subnets=[a, b]) == "DuplicateLoadBalancerName"
    assert [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]] == [first]


def test_deletion_protection_refuses_delete_load_balancer(aws, owner):
    elbv2 = aws("elbv2", owner)
    lb, _ = alb_with_group(elbv2, aws("ec2", owner))
    protect = [{"Key": "deletion_protection.enabled", "Value": "true"}]
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=protect)
    assert error_code(elbv2.delete_load_balancer, LoadBalancerArn=lb) == "OperationNotPermitted"
    assert len(elbv2.describe_load_balancers()["LoadBalancers"]) == 1
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=lb, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}])
    elbv2.delete_load_balancer(LoadBalancerArn=lb)
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    elbv2.delete_load_balancer(LoadBalancerArn=lb)  # AWS: deleting a deleted load balancer succeeds


# --- listeners ----------------------------------------------------------------------


def test_https_listener_needs_a_certificate_of_its_own_account_and_region(aws, owner, grantee):
    elbv2, acm = aws("elbv2", owner), aws("acm", owner)
    lb, tg = alb_with_group(elbv2, aws("ec2", owner))
    https = dict(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=forward(tg))
    assert error_code(elbv2.create_listener, **https) == "InvalidConfigurationRequest"
    elsewhere = [import_certificate(aws("acm", grantee), "www.example.com"), import_certificate(aws("acm", owner, OTHER_REGION), "www.example.com")]
    for cert in elsewhere:  # moto's own check, which ferry's hard case relies on
        assert error_code(elbv2.create_listener, Certificates=[{"CertificateArn": cert}], **https) == "CertificateNotFound"
    own = import_certificate(acm, "www.example.com")
    listener = elbv2.create_listener(Certificates=[{"CertificateArn": own}], **https)["Listeners"][0]
    assert listener["SslPolicy"] == "ELBSecurityPolicy-2016-08", "the default policy of an HTTPS listener"


def test_only_secure_listeners_have_a_security_policy(aws, owner):
    elbv2 = aws("elbv2", owner)
    lb, tg = alb_with_group(elbv2, aws("ec2", owner))
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(tg))
    listener = elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]
    assert "SslPolicy" not in listener and "Certificates" not in listener


def test_describe_listeners_reports_the_default_certificate_only(aws, owner):
    elbv2, acm = aws("elbv2", owner), aws("acm", owner)
    lb, tg = alb_with_group(elbv2, aws("ec2", owner))
    default, extra = import_certificate(acm, "www.example.com"), import_certificate(acm, "api.example.com")
    arn = elbv2.create_listener(
        LoadBalancerArn=lb, Protocol="HTTPS", Port=443, Certificates=[{"CertificateArn": default}], DefaultActions=forward(tg)
    )["Listeners"][0]["ListenerArn"]
    elbv2.add_listener_certificates(ListenerArn=arn, Certificates=[{"CertificateArn": extra}])
    listener = elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]
    assert listener["Certificates"] == [{"CertificateArn": default}]
    listed = elbv2.describe_listener_certificates(ListenerArn=arn)["Certificates"]
    assert sorted((c["CertificateArn"], c["IsDefault"]) for c in listed) == sorted([(default, True), (extra, False)])


# --- target groups ------------------------------------------------------------------


def test_target_group_names_the_load_balancers_routing_to_it_now(aws, owner):
    elbv2 = aws("elbv2", owner)
    lb, tg = alb_with_group(elbv2, aws("ec2", owner))

    def routing() -> list[str]:
        return elbv2.describe_target_groups(TargetGroupArns=[tg])["TargetGroups"][0].get("LoadBalancerArns", [])

    assert routing() == []
    listener = elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward(tg))["Listeners"][0]["ListenerArn"]
    elbv2.create_rule(ListenerArn=listener, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/a"]}], Actions=forward(tg))
    assert routing() == [lb], "once, however many listeners and rules forward to it"
    assert [g["TargetGroupArn"] for g in elbv2.describe_target_groups(LoadBalancerArn=lb)["TargetGroups"]] == [tg]
    assert error_code(elbv2.delete_target_group, TargetGroupArn=tg) == "ResourceInUse"  # moto's own check
    elbv2.delete_listener(ListenerArn=listener)
    assert routing() == []
    elbv2.delete_target_group(TargetGroupArn=tg)


def test_targets_keep_their_availability_zone(aws, owner):
    ec2, elbv2 = aws("ec2", owner), aws("elbv2", owner)
    vpc, _, _ = vpc_with_subnets(ec2)
    tg = elbv2.create_target_group(Name="db", Protocol="TCP", Port=5432, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.20"}, {"Id": "192.168.0.5", "Port": 6432, "AvailabilityZone": "all"}])
    assert sorted(targets(elbv2, tg), key=lambda t: t["Id"]) == [
        {"Id": "10.0.0.20", "Port": 5432},
        {"Id": "192.168.0.5", "Port": 6432, "AvailabilityZone": "all"},
    ]


def test_instances_auto_scaling_terminates_leave_the_target_group(aws, owner):
    ec2, elbv2, autoscaling = aws("ec2", owner), aws("elbv2", owner), aws("autoscaling", owner)
    vpc, a, b = vpc_with_subnets(ec2)
    tg = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    autoscaling.create_launch_configuration(LaunchConfigurationName="web", ImageId=BASE_IMAGE, InstanceType="t3.micro")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web", LaunchConfigurationName="web", MinSize=0, MaxSize=3, DesiredCapacity=3,
        VPCZoneIdentifier=f"{a},{b}", TargetGroupARNs=[tg],
    )  # fmt: skip

    def members() -> set[str]:
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"]
        return {i["InstanceId"] for i in group[0]["Instances"]} if group else set()

    assert {t["Id"] for t in targets(elbv2, tg)} == members() and len(members()) == 3
    autoscaling.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=1)
    assert {t["Id"] for t in targets(elbv2, tg)} == members() and len(members()) == 1
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
    assert targets(elbv2, tg) == []


# --- classic load balancers -----------------------------------------------------------


def classic(aws: Any, owner: str, name: str = "legacy") -> Any:
    elb = aws("elb", owner)
    elb.create_load_balancer(
        LoadBalancerName=name,
        AvailabilityZones=[f"{REGION}a", f"{REGION}b"],
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}],
    )
    return elb


def test_classic_stickiness_policy_names_are_unique_and_used_ones_stay(aws, owner):
    elb = classic(aws, owner)
    elb.create_lb_cookie_stickiness_policy(LoadBalancerName="legacy", PolicyName="sticky", CookieExpirationPeriod=60)
    again = dict(LoadBalancerName="legacy", PolicyName="sticky")
    assert error_code(elb.create_lb_cookie_stickiness_policy, CookieExpirationPeriod=60, **again) == "DuplicatePolicyName"
    assert error_code(elb.create_app_cookie_stickiness_policy, CookieName="session", **again) == "DuplicatePolicyName"
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="legacy", LoadBalancerPort=80, PolicyNames=["sticky"])
    assert error_code(elb.delete_load_balancer_policy, **again) == "InvalidConfigurationRequest"
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="legacy", LoadBalancerPort=80, PolicyNames=[])
    elb.delete_load_balancer_policy(**again)
    assert elb.describe_load_balancer_policies(LoadBalancerName="legacy")["PolicyDescriptions"] == []


def test_classic_registers_an_instance_once(aws, owner):
    elb = classic(aws, owner)
    instance = aws("ec2", owner).run_instances(ImageId=BASE_IMAGE, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    for _ in range(2):
        elb.register_instances_with_load_balancer(LoadBalancerName="legacy", Instances=[{"InstanceId": instance}])
    described = elb.describe_load_balancers(LoadBalancerNames=["legacy"])["LoadBalancerDescriptions"][0]
    assert described["Instances"] == [{"InstanceId": instance}]


def test_classic_additional_attributes_list_each_key_once(aws, owner):
    elb = classic(aws, owner)
    for seconds in (30, 90):
        elb.modify_load_balancer_attributes(
            LoadBalancerName="legacy", LoadBalancerAttributes={"ConnectionSettings": {"IdleTimeout": seconds}}
        )
    attributes = elb.describe_load_balancer_attributes(LoadBalancerName="legacy")["LoadBalancerAttributes"]
    assert attributes["ConnectionSettings"] == {"IdleTimeout": 90}
    keys = [a["Key"] for a in attributes.get("AdditionalAttributes", [])]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    "call, params",
    [
        ("describe_load_balancer_attributes", {}),
        ("modify_load_balancer_attributes", {"LoadBalancerAttributes": {"CrossZoneLoadBalancing": {"Enabled": True}}}),
        ("register_instances_with_load_balancer", {"Instances": [{"InstanceId": "i-0123456789abcdef0"}]}),
        ("create_lb_cookie_stickiness_policy", {"PolicyName": "p"}),
    ],
)
def test_classic_calls_on_a_missing_load_balancer_are_not_found(aws, owner, call, params):
    elb = classic(aws, owner)
    assert error_code(getattr(elb, call), LoadBalancerName="missing", **params) == "LoadBalancerNotFound"


def test_classic_load_balancer_in_subnets_lists_their_zones(aws, owner):
    ec2, elb = aws("ec2", owner), aws("elb", owner)
    _, a, b = vpc_with_subnets(ec2)
    listeners = [{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}]
    elb.create_load_balancer(LoadBalancerName="inside", Subnets=[a], Listeners=listeners)

    def zones() -> list[str]:
        return elb.describe_load_balancers(LoadBalancerNames=["inside"])["LoadBalancerDescriptions"][0]["AvailabilityZones"]

    assert zones() == [f"{REGION}a"]
    elb.attach_load_balancer_to_subnets(LoadBalancerName="inside", Subnets=[b])
    assert zones() == [f"{REGION}a", f"{REGION}b"]
    elb.detach_load_balancer_from_subnets(LoadBalancerName="inside", Subnets=[a])
    assert zones() == [f"{REGION}b"]
