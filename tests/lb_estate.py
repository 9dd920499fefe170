"""Build the reference load balancing estate in a source account, through
boto3 only (issue 5).

`build_lb_estate` creates what ferry's load balancing support must replicate
and returns the ids it created keyed by a stable short name (``alb_web``,
``tg_web``, ``listener_https``, ``rule_http_api``, ``elb_legacy`` ...), like
estate.build_network_estate and compute_estate.build_compute_estate:

  web      the web tier, in the network estate of tests/estate.py (the app
           VPC: public and private subnets in two zones, internet gateway,
           the lb and web security groups): an Application load balancer
           "web" in the public subnets (deletion protection on, idle timeout,
           invalid headers dropped), target groups "web" (HTTP, health check
           path and matcher, deregistration delay, lb-cookie stickiness) and
           "web-canary" (IP targets in the private subnets), an HTTP listener
           forwarding 90/10 to both with group stickiness, and rules on each
           condition type (path, host, header, query string, source IP with
           method) with forward, redirect and fixed-response actions; an
           HTTPS listener serving an imported ACM certificate (www.example.com,
           also example.com) with an SNI certificate (api.example.com) and a
           fixed-response rule; a launch template and an auto scaling group of
           two in the private subnets attached to "web" (or, given
           `web_group`, that existing group attached instead)
  nlb      a Network load balancer "edge" in the public subnets with an
           Elastic IP in each (SubnetMappings), cross-zone on; TCP target
           groups "db-tcp" (IP targets) and "ssh-tcp" (an instance, "jump",
           in a public subnet); a TCP listener for each
  classic  the classic pattern, all in the default VPC: a security group for
           SSH (the office) and HTTP (anyone), a custom image made from an
           instance (the builder is terminated), a classic load balancer
           "legacy-web" in two zones with an HTTP listener, a health check,
           cross-zone, connection draining, idle timeout and an lb-cookie
           stickiness policy on the listener, a launch configuration from the
           image and an auto scaling group of two in those zones attached to
           the load balancer

`import_certificates` imports the web tier's certificates (the very same ones)
in any account: the round trips, the hard case and the demo import them in
the destination, as a user would before migrating HTTPS listeners (ferry
never moves private keys).

Every call was checked against moto 5.2.5 in server mode with ferry's shim
(emulator/ferry_shim/elb.py); MOTO_GAPS lists what moto still does otherwise
for what the estate and its reader (lb_inventory.py) use.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any, Callable, Iterable

import boto3
from compute_estate import _tags, default_subnet, public_image, wait_image

SessionFactory = Callable[[str], boto3.Session]

PARTS = ("web", "nlb", "classic")
NEEDS_NETWORK = {"web", "nlb"}

DOMAIN = "www.example.com"
ALTERNATIVE_NAMES = ("example.com",)
SNI_DOMAIN = "api.example.com"
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
OFFICE = "203.0.113.0/24"
CLASSIC_IMAGE = "classic-web"

#: What moto 5.2.5, with ferry's shim, still does differently from AWS for
#: the calls the estate and lb_inventory.py make.
MOTO_GAPS: dict[str, str] = {
    "DescribeLoadBalancers": "DNSName is <name>-1.<region>.elb.amazonaws.com "
    "and CanonicalHostedZoneId the placeholder Z2P70J7EXAMPLE; the reader "
    "leaves both out",
    "DescribeAddresses": "an Elastic IP a Network load balancer holds shows no "
    "association (AWS: the load balancer's network interface); the reader "
    "takes the allocation from the load balancer",
    "CreateLoadBalancer(classic)": "the DNS name always says us-east-1; the "
    "reader leaves it out",
    "CreateTargetGroup": "a name taken is DuplicateTargetGroupName even with "
    "the same settings (AWS: the same settings return the existing group)",
}


# --- certificates -------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def self_signed_certificate(name: str, alternatives: tuple[str, ...] = ()) -> tuple[bytes, bytes]:
    """(certificate, private key), PEM, for `name` and `alternatives`: one
    per name in this process, so the source and the destination import the
    very same certificate, as a user copying it by hand would."""
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
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in (name, *alternatives)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def import_certificate(acm, name: str = DOMAIN, alternatives: Iterable[str] = ALTERNATIVE_NAMES) -> str:
    """Import the self-signed certificate for `name` into ACM; its ARN."""
    cert, key = self_signed_certificate(name, tuple(alternatives))
    return acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]


def import_certificates(acm) -> dict[str, str]:
    """The web tier's certificates, imported: {"www": arn, "api": arn}. What
    a user does in the destination before migrating HTTPS listeners."""
    return {"www": import_certificate(acm), "api": import_certificate(acm, SNI_DOMAIN, ())}


# --- helpers --------------------------------------------------------------------


def _elb_tags(**tags: str) -> list[dict[str, str]]:
    return [{"Key": k.replace("_", "-"), "Value": v} for k, v in tags.items()]


def _attributes(**attributes: str) -> list[dict[str, str]]:
    return [{"Key": k.replace("__", "."), "Value": v} for k, v in attributes.items()]


def _forward(*groups: tuple[str, int], stickiness: int | None = None) -> list[dict[str, Any]]:
    config: dict[str, Any] = {"TargetGroups": [{"TargetGroupArn": g, "Weight": w} for g, w in groups]}
    if stickiness:
        config["TargetGroupStickinessConfig"] = {"Enabled": True, "DurationSeconds": stickiness}
    return [{"Type": "forward", "ForwardConfig": config}]


def _to(group: str) -> list[dict[str, Any]]:
    return [{"Type": "forward", "TargetGroupArn": group}]


def _fixed(status: str, content_type: str, body: str) -> list[dict[str, Any]]:
    return [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": status, "ContentType": content_type, "MessageBody": body}}]


# --- parts --------------------------------------------------------------------------


def build_web(ec2, elbv2, acm, autoscaling, network: dict[str, str], ids: dict[str, str], web_group: str | None = None) -> None:
    vpc, public, private = network["vpc_app"], [network["subnet_public_a"], network["subnet_public_b"]], [network["subnet_private_a"], network["subnet_private_b"]]
    certificates = import_certificates(acm)
    www, api = certificates["www"], certificates["api"]
    acm.add_tags_to_certificate(CertificateArn=www, Tags=[{"Key": "team", "Value": "web"}])
    web = elbv2.create_target_group(
        Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance",
        HealthCheckPath="/health", Matcher={"HttpCode": "200-299"}, HealthCheckIntervalSeconds=15,
        HealthCheckTimeoutSeconds=5, HealthyThresholdCount=3, UnhealthyThresholdCount=2,
        Tags=_elb_tags(tier="web"),
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elbv2.modify_target_group_attributes(
        TargetGroupArn=web,
        Attributes=_attributes(
            deregistration_delay__timeout_seconds="30", stickiness__enabled="true",
            stickiness__type="lb_cookie", stickiness__lb_cookie__duration_seconds="3600",
        ),
    )  # fmt: skip
    canary = elbv2.create_target_group(
        Name="web-canary", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
        HealthCheckPath="/ready", Matcher={"HttpCode": "200"}, Tags=_elb_tags(tier="web", track="canary"),
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elbv2.register_targets(TargetGroupArn=canary, Targets=[{"Id": "10.0.10.50"}, {"Id": "10.1.10.50", "Port": 8081}])
    alb = elbv2.create_load_balancer(
        Name="web", Subnets=public, SecurityGroups=[network["sg_lb"]], Scheme="internet-facing",
        Type="application", IpAddressType="ipv4", Tags=_elb_tags(tier="web", team="platform"),
    )["LoadBalancers"][0]["LoadBalancerArn"]  # fmt: skip
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=alb,
        Attributes=_attributes(
            idle_timeout__timeout_seconds="120", deletion_protection__enabled="true",
            routing__http__drop_invalid_header_fields__enabled="true",
        ),
    )  # fmt: skip
    http = elbv2.create_listener(
        LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=_forward((web, 90), (canary, 10), stickiness=300),
        Tags=_elb_tags(listener="http"),
    )["Listeners"][0]["ListenerArn"]  # fmt: skip
    https = elbv2.create_listener(
        LoadBalancerArn=alb, Protocol="HTTPS", Port=443, SslPolicy=SSL_POLICY, Certificates=[{"CertificateArn": www}],
        DefaultActions=_to(web), Tags=_elb_tags(listener="https"),
    )["Listeners"][0]["ListenerArn"]  # fmt: skip
    elbv2.add_listener_certificates(ListenerArn=https, Certificates=[{"CertificateArn": api}])
    rules = {
        "rule_http_api": (http, 10, [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/v2/*"]}}], _to(canary)),
        "rule_http_old_host": (
            http, 20, [{"Field": "host-header", "Values": ["old.example.com"]}],
            [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Host": DOMAIN, "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}}],
        ),
        "rule_http_canary_header": (http, 30, [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["true", "yes"]}}], _to(canary)),
        "rule_http_maintenance": (
            http, 40, [{"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "maintenance", "Value": "on"}, {"Value": "drain"}]}}],
            _fixed("503", "text/plain", "down for maintenance"),
        ),
        "rule_http_office": (
            http, 50,
            [{"Field": "source-ip", "SourceIpConfig": {"Values": [OFFICE]}}, {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "HEAD"]}}],
            _forward((web, 1), (canary, 1)),
        ),
        "rule_https_healthz": (https, 10, [{"Field": "path-pattern", "Values": ["/healthz"]}], _fixed("200", "application/json", '{"ok": true}')),
    }  # fmt: skip
    for key, (listener, priority, conditions, actions) in rules.items():
        ids[key] = elbv2.create_rule(
            ListenerArn=listener, Priority=priority, Conditions=conditions, Actions=actions,
            Tags=_elb_tags(rule=key.split("_", 2)[2]),
        )["Rules"][0]["RuleArn"]  # fmt: skip
    if web_group:
        autoscaling.attach_load_balancer_target_groups(AutoScalingGroupName=web_group, TargetGroupARNs=[web])
    else:
        template = ec2.create_launch_template(
            LaunchTemplateName="web-lb",
            LaunchTemplateData={"ImageId": public_image(ec2), "InstanceType": "t3.micro", "SecurityGroupIds": [network["sg_web"]]},
            TagSpecifications=_tags("launch-template", "web-lb"),
        )["LaunchTemplate"]["LaunchTemplateId"]
        web_group = "web-lb"
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=web_group, LaunchTemplate={"LaunchTemplateId": template, "Version": "$Default"},
            MinSize=2, MaxSize=4, DesiredCapacity=2, VPCZoneIdentifier=",".join(private), TargetGroupARNs=[web],
            HealthCheckType="ELB", HealthCheckGracePeriod=90, Tags=[{"Key": "tier", "Value": "web", "PropagateAtLaunch": True}],
        )  # fmt: skip
        ids["lt_web"] = template
    ids.update(
        cert_www=www, cert_api=api, tg_web=web, tg_canary=canary, alb_web=alb,
        listener_http=http, listener_https=https, asg_web=web_group,
    )  # fmt: skip


def build_nlb(ec2, elbv2, network: dict[str, str], ids: dict[str, str]) -> None:
    vpc = network["vpc_app"]
    eips = [
        ec2.allocate_address(Domain="vpc", TagSpecifications=_tags("elastic-ip", f"edge-{zone}"))["AllocationId"]
        for zone in ("a", "b")
    ]
    mappings = [{"SubnetId": network[f"subnet_public_{z}"], "AllocationId": e} for z, e in zip("ab", eips)]
    nlb = elbv2.create_load_balancer(
        Name="edge", Type="network", Scheme="internet-facing", SubnetMappings=mappings, Tags=_elb_tags(tier="edge"),
    )["LoadBalancers"][0]["LoadBalancerArn"]  # fmt: skip
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=nlb, Attributes=_attributes(load_balancing__cross_zone__enabled="true"))
    db = elbv2.create_target_group(
        Name="db-tcp", Protocol="TCP", Port=5432, VpcId=vpc, TargetType="ip",
        HealthCheckProtocol="TCP", HealthCheckIntervalSeconds=10, Tags=_elb_tags(tier="db"),
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elbv2.modify_target_group_attributes(TargetGroupArn=db, Attributes=_attributes(deregistration_delay__timeout_seconds="60"))
    elbv2.register_targets(TargetGroupArn=db, Targets=[{"Id": "10.0.10.20"}, {"Id": "10.1.10.20"}])
    jump = ec2.run_instances(
        ImageId=public_image(ec2), MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=network["subnet_public_a"],
        SecurityGroupIds=[network["sg_bastion"]], TagSpecifications=_tags("instance", "jump"),
    )["Instances"][0]["InstanceId"]  # fmt: skip
    ssh = elbv2.create_target_group(
        Name="ssh-tcp", Protocol="TCP", Port=22, VpcId=vpc, TargetType="instance", Tags=_elb_tags(tier="ops"),
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elbv2.register_targets(TargetGroupArn=ssh, Targets=[{"Id": jump}])
    listeners = {}
    for name, port, group in (("db", 5432, db), ("ssh", 22, ssh)):
        listeners[f"listener_{name}"] = elbv2.create_listener(
            LoadBalancerArn=nlb, Protocol="TCP", Port=port, DefaultActions=_to(group), Tags=_elb_tags(listener=name),
        )["Listeners"][0]["ListenerArn"]  # fmt: skip
    ids.update(nlb_edge=nlb, eip_edge_a=eips[0], eip_edge_b=eips[1], tg_db=db, tg_ssh=ssh, instance_jump=jump, **listeners)


def classic_security_group(ec2) -> str:
    """The classic pattern's group in the default VPC: SSH from the office,
    HTTP from anyone."""
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(
        GroupName="web-public", Description="ssh from the office, http from anyone", VpcId=vpc,
        TagSpecifications=_tags("security-group", "web-public"),
    )["GroupId"]  # fmt: skip
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": OFFICE, "Description": "office"}]},
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        ],
    )
    return group


def build_classic(ec2, elb, autoscaling, region: str, ids: dict[str, str]) -> None:
    group = classic_security_group(ec2)
    builder = ec2.run_instances(
        ImageId=public_image(ec2), MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=default_subnet(ec2, region + "a"),
        SecurityGroupIds=[group], TagSpecifications=_tags("instance", "classic-builder"),
    )["Instances"][0]["InstanceId"]  # fmt: skip
    image = ec2.create_image(InstanceId=builder, Name=CLASSIC_IMAGE, Description="web server, baked by hand")["ImageId"]
    wait_image(ec2, image)
    ec2.terminate_instances(InstanceIds=[builder])
    zones = [region + "a", region + "b"]
    elb.create_load_balancer(
        LoadBalancerName="legacy-web", AvailabilityZones=zones, SecurityGroups=[group],
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}],
        Tags=_elb_tags(tier="legacy"),
    )  # fmt: skip
    elb.configure_health_check(
        LoadBalancerName="legacy-web",
        HealthCheck={"Target": "HTTP:80/index.html", "Interval": 30, "Timeout": 5, "HealthyThreshold": 3, "UnhealthyThreshold": 2},
    )
    elb.modify_load_balancer_attributes(
        LoadBalancerName="legacy-web",
        LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": True},
            "ConnectionDraining": {"Enabled": True, "Timeout": 60},
            "ConnectionSettings": {"IdleTimeout": 120},
        },
    )
    elb.create_lb_cookie_stickiness_policy(LoadBalancerName="legacy-web", PolicyName="sticky-web", CookieExpirationPeriod=600)
    elb.set_load_balancer_policies_of_listener(LoadBalancerName="legacy-web", LoadBalancerPort=80, PolicyNames=["sticky-web"])
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="classic-web-v1", ImageId=image, InstanceType="t3.micro", SecurityGroups=[group],
    )  # fmt: skip
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="classic-web", LaunchConfigurationName="classic-web-v1", MinSize=2, MaxSize=2,
        DesiredCapacity=2, AvailabilityZones=zones, LoadBalancerNames=["legacy-web"], HealthCheckType="ELB",
        HealthCheckGracePeriod=120,
    )  # fmt: skip
    ids.update(
        sg_classic=group, image_classic=image, instance_classic_builder=builder, elb_legacy="legacy-web",
        lc_classic="classic-web-v1", asg_classic="classic-web",
    )  # fmt: skip


# --- the whole estate -----------------------------------------------------------------


def build_lb_estate(
    session_factory: SessionFactory,
    region: str,
    network: dict[str, str] | None = None,
    parts: Iterable[str] = PARTS,
    web_group: str | None = None,
) -> dict[str, str]:
    """Create the load balancing estate (or the chosen `parts`); return
    ``{short name: id}``. `network` is what estate.build_network_estate
    returned for the same account and region (the web and nlb parts need
    it); `web_group` names an existing auto scaling group for the web tier
    to attach instead of making its own."""
    chosen = set(parts)
    unknown = chosen - set(PARTS)
    assert not unknown, f"unknown parts {unknown}; expected some of {PARTS}"
    if chosen & NEEDS_NETWORK:
        assert network, f"parts {sorted(chosen & NEEDS_NETWORK)} need the network estate"
    session = session_factory(region)
    ec2, elbv2, autoscaling = session.client("ec2"), session.client("elbv2"), session.client("autoscaling")
    ids: dict[str, str] = {}
    if "web" in chosen:
        build_web(ec2, elbv2, session.client("acm"), autoscaling, network, ids, web_group)
    if "nlb" in chosen:
        build_nlb(ec2, elbv2, network, ids)
    if "classic" in chosen:
        build_classic(ec2, session.client("elb"), autoscaling, region, ids)
    return ids
