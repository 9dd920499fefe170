"""Load balancing (issue 5): Application and Network load balancers with their
target groups, listeners and rules, classic load balancers, certificates and
the attachments of auto scaling groups, migrated into another account, in
the same region and into another one.

Every check reads both accounts with boto3 (lb_inventory.py, and
inventory.py for the network); only the ID mapping comes from ferry. One
migration per pattern serves every assertion about it: plan, apply, verify,
an independent read of both sides, a second apply that creates nothing, and
rollback.

The first tests (named ``*estate*``) check the harness itself: that
lb_estate.py builds what it says, that the reader sees it, that the
translator rewrites every ARN, and that the moto gaps lb_estate.MOTO_GAPS
lists still hold. They need the emulator, not ferry.
"""

from __future__ import annotations

import json

import compute_inventory as ci
import estate
import inventory as inv
import lb_estate as le
import lb_inventory as li
import pytest
from conftest import write_config
from migration import Migration, assert_equivalent, live, mapping
from test_compute import apply_ok, assert_no_create, plan_items, rollback_ok, text_of, verify_ok

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"

#: The patterns the round trips migrate, as lb_estate parts. The Network load
#: balancer lives in the web tier's network, so the two migrate together.
PATTERNS = {"alb+nlb": ("web", "nlb"), "classic": ("classic",)}


# --- shared steps -------------------------------------------------------------


def build(session, accounts, parts, region: str = REGION, account: str | None = None) -> tuple[dict | None, dict]:
    """(network ids or None, load balancing ids) built in `account` (the
    source by default); the network estate only when a part needs it."""
    factory = lambda r: session(account or accounts.source, r)  # noqa: E731
    net = estate.build_network_estate(factory, region) if set(parts) & le.NEEDS_NETWORK else None
    return net, le.build_lb_estate(factory, region, net, parts)


def configure(workdir, accounts, emulator, dst_region: str = REGION) -> None:
    write_config(workdir, accounts.source, accounts.destination, REGION, dst_region, emulator)


def assert_same(accounts, src, dst, dst_region: str, ids: dict[str, str], before: dict) -> tuple[dict, dict]:
    """Source and destination load balancing, read independently, agree
    through ferry's mapping record for record, and the destination holds
    nothing else but what it held before. Returns both reads."""
    source, dest = li.read_lb(src, REGION), li.read_lb(dst, dst_region)
    flat = ci.flat(ids)
    expected = li.translate(li.select(source, flat), ids, accounts.source, accounts.destination, REGION, dst_region)
    assert not expected.unmapped, f"ids without a destination: {sorted(expected.unmapped)}"
    missing = {f"{kind}/{key}" for kind, records in source.items() if kind != "attachments" for key in records if key not in flat}
    assert not missing, f"not migrated: {sorted(missing)}"
    differences = li.compare(expected, li.select(dest, flat.values()))
    assert not differences, "\n".join(differences)
    extra = {
        f"{kind}/{key}"
        for kind, records in dest.items()
        for key in records
        if key not in set(flat.values()) and key not in before[kind]
    }
    assert not extra, f"unexpected in the destination: {sorted(extra)}"
    return source, dest


def verify_report(ferry) -> tuple[int, list[dict]]:
    """verify's exit code and its entries that are not equivalent."""
    result = ferry("verify --output json", timeout=300)
    assert result.returncode in (0, 1), result.stderr
    entries = json.loads(result.stdout)["report"]["entries"]
    return result.returncode, [e for e in entries if e["status"] != "equivalent"]


def empty(read: dict) -> dict:
    """A read without the kinds that hold nothing."""
    return {kind: records for kind, records in read.items() if records}


# --- the harness itself -----------------------------------------------------


def test_lb_estate_reads_back_as_built(session, accounts):
    net, ids = build(session, accounts, le.PARTS)
    read = li.read_lb(session(accounts.source), REGION)
    assert {kind: len(read[kind]) for kind in li.KINDS} == {
        "load_balancers": 2,
        "target_groups": 4,
        "listeners": 4,
        "rules": 6,
        "classic_load_balancers": 1,
        "attachments": 2,
    }

    alb, nlb = read["load_balancers"][ids["alb_web"]], read["load_balancers"][ids["nlb_edge"]]
    assert (alb["type"], alb["scheme"], alb["security_groups"]) == ("application", "internet-facing", [net["sg_lb"]])
    assert alb["subnets"] == sorted([net["subnet_public_a"], net["subnet_public_b"]])
    assert alb["attributes"]["deletion_protection.enabled"] == "true" and alb["attributes"]["idle_timeout.timeout_seconds"] == "120"
    assert ":loadbalancer/net/edge/" in ids["nlb_edge"]
    assert nlb["addresses"] == {net["subnet_public_a"]: ids["eip_edge_a"], net["subnet_public_b"]: ids["eip_edge_b"]}

    web = read["target_groups"][ids["tg_web"]]
    assert (web["health_check"]["path"], web["health_check"]["matcher"]) == ("/health", {"HttpCode": "200-299"})
    assert web["attributes"]["stickiness.lb_cookie.duration_seconds"] == "3600"
    assert web["attributes"]["deregistration_delay.timeout_seconds"] == "30"
    assert web["targets"] == [], "the group's instances are the group's"
    assert web["load_balancers"] == [ids["alb_web"]]
    assert read["target_groups"][ids["tg_canary"]]["targets"] == [{"id": "10.0.10.50", "port": 8080}, {"id": "10.1.10.50", "port": 8081}]
    assert read["target_groups"][ids["tg_ssh"]]["targets"] == [{"id": ids["instance_jump"], "port": 22}]

    http, https = read["listeners"][ids["listener_http"]], read["listeners"][ids["listener_https"]]
    weighted = http["default_actions"][0]["forward"]
    assert weighted["stickiness"] == 300
    assert {g["target_group"]: g["weight"] for g in weighted["target_groups"]} == {ids["tg_web"]: 90, ids["tg_canary"]: 10}
    assert "ssl_policy" not in http
    assert (https["ssl_policy"], https["certificate"], https["extra_certificates"]) == (le.SSL_POLICY, ids["cert_www"], [ids["cert_api"]])

    rules = read["rules"]
    fields = sorted(c["field"] for key in ids if key.startswith("rule_") for c in rules[ids[key]]["conditions"])
    assert fields == sorted(["path-pattern", "host-header", "http-header", "query-string", "source-ip", "http-request-method", "path-pattern"])
    assert rules[ids["rule_http_maintenance"]]["conditions"][0]["values"] == ["=drain", "maintenance=on"]
    assert rules[ids["rule_http_canary_header"]]["conditions"][0]["header"] == "X-Canary"
    assert rules[ids["rule_http_old_host"]]["actions"][0]["redirect"]["status_code"] == "HTTP_301"
    assert rules[ids["rule_https_healthz"]]["actions"][0]["fixed_response"]["content_type"] == "application/json"

    legacy = read["classic_load_balancers"]["legacy-web"]
    assert legacy["security_groups"] == [ids["sg_classic"]] and legacy["zones"] == [REGION + "a", REGION + "b"]
    assert legacy["listeners"] == [{"protocol": "HTTP", "port": 80, "instance_protocol": "HTTP", "instance_port": 80, "policies": ["sticky-web"]}]
    assert legacy["health_check"]["Target"] == "HTTP:80/index.html"
    assert legacy["attributes"] == {"cross_zone": True, "draining": 60, "idle_timeout": 120, "access_log": None}
    assert legacy["policies"] == [{"name": "sticky-web", "cookie": "lb", "expiration": 600}]
    assert legacy["instances"] == [], "the group's instances are the group's"

    assert read["attachments"] == {
        "web-lb": {"instances": 2, "target_groups": {ids["tg_web"]: True}, "load_balancers": {}, "health_check": "ELB"},
        "classic-web": {"instances": 2, "target_groups": {}, "load_balancers": {"legacy-web": True}, "health_check": "ELB"},
    }


def _pairing(src_ids, dst_ids, src_net, dst_net, src_read, dst_read) -> dict[str, str]:
    """The mapping ferry would report, from two builds of the same estate."""
    out = {f"network/{src_net[k]}": dst_net[k] for k in src_net if k != "pl_s3"}
    out |= {f"x/{src_ids[k]}": dst_ids[k] for k in src_ids}
    # The classic load balancer stands in the default subnets of its zones.
    src_lb, dst_lb = src_read["classic_load_balancers"]["legacy-web"], dst_read["classic_load_balancers"]["legacy-web"]
    out |= {f"subnet/{s}": d for s, d in zip(src_lb["subnets"], dst_lb["subnets"])}
    out[f"vpc/{src_lb['vpc']}"] = dst_lb["vpc"]
    return out


@pytest.mark.parametrize("dst_region", [REGION, OTHER_REGION])
def test_lb_estate_two_builds_agree_through_a_mapping(session, accounts, dst_region):
    """The comparison a ferry test makes, with the builder standing in for ferry."""
    src_net, src_ids = build(session, accounts, le.PARTS)
    dst_net, dst_ids = build(session, accounts, le.PARTS, dst_region, account=accounts.destination)
    src, dst = session(accounts.source), session(accounts.destination, dst_region)
    src_read, dst_read = li.read_lb(src, REGION), li.read_lb(dst, dst_region)
    # Default subnets pair by zone: sort both sides' by zone first.
    for read, client in ((src_read, src.client("ec2", region_name=REGION)), (dst_read, dst.client("ec2", region_name=dst_region))):
        lb = read["classic_load_balancers"]["legacy-web"]
        zone_of = {s["SubnetId"]: s["AvailabilityZone"] for s in client.describe_subnets(SubnetIds=lb["subnets"])["Subnets"]}
        lb["subnets"] = sorted(lb["subnets"], key=zone_of.get)
    ids = _pairing(src_ids, dst_ids, src_net, dst_net, src_read, dst_read)
    src_read, dst_read = li.read_lb(src, REGION), li.read_lb(dst, dst_region)

    flat = ci.flat(ids)
    expected = li.translate(li.select(src_read, flat), ids, accounts.source, accounts.destination, REGION, dst_region)
    assert expected.unmapped == set()
    assert li.compare(expected, li.select(dst_read, flat.values())) == []
    text = json.dumps(expected)
    assert accounts.source not in text and (dst_region == REGION or REGION not in text)

    # And the comparison notices a difference: a rule that moved.
    elbv2 = dst.client("elbv2", region_name=dst_region)
    elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": dst_ids["rule_http_office"], "Priority": 55}])
    actual = li.select(li.read_lb(dst, dst_region), flat.values())
    assert [d.split(":\n")[0] for d in li.compare(expected, actual)] == [f"rules/{dst_ids['rule_http_office']}"]


def test_lb_estate_moto_gaps_still_hold(session, accounts):
    """Fails when a moto upgrade (or the shim) fixes a gap: then update
    lb_estate.MOTO_GAPS, the reader and emulator/README.md."""
    stale = "moto fixed this: update lb_estate.MOTO_GAPS"
    assert set(le.MOTO_GAPS) == {"DescribeLoadBalancers", "DescribeAddresses", "CreateLoadBalancer(classic)", "CreateTargetGroup"}
    net, ids = build(session, accounts, ["nlb"])
    s = session(accounts.source, OTHER_REGION)
    nlb = session(accounts.source).client("elbv2").describe_load_balancers(Names=["edge"])["LoadBalancers"][0]
    assert nlb["DNSName"] == f"edge-1.{REGION}.elb.amazonaws.com" and nlb["CanonicalHostedZoneId"] == "Z2P70J7EXAMPLE", stale
    address = session(accounts.source).client("ec2").describe_addresses(AllocationIds=[ids["eip_edge_a"]])["Addresses"][0]
    assert "AssociationId" not in address and not address.get("NetworkInterfaceId"), stale
    dns = s.client("elb").create_load_balancer(
        LoadBalancerName="gap", AvailabilityZones=[OTHER_REGION + "a"],
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
    )["DNSName"]  # fmt: skip
    assert dns == f"gap.{REGION}.elb.amazonaws.com", stale
    elbv2 = session(accounts.source).client("elbv2")
    settings = dict(Name="db-tcp", Protocol="TCP", Port=5432, VpcId=net["vpc_app"], TargetType="ip", HealthCheckProtocol="TCP", HealthCheckIntervalSeconds=10)
    with pytest.raises(elbv2.exceptions.DuplicateTargetGroupNameException):
        elbv2.create_target_group(**settings)
        pytest.fail(stale)


# --- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("dst_region", [REGION, OTHER_REGION])
@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_round_trip(session, accounts, emulator, workdir, ferry, pattern, dst_region):
    """A pattern migrated into another account: the plan maps certificates
    the destination holds and creates the rest, verify passes, an
    independent read of both accounts agrees on every load balancer,
    listener, rule, target group and attachment, a second apply creates
    nothing, and rollback removes everything ferry made in an order AWS
    accepts (listeners and rules before the groups they forward to,
    deletion protection off, the load balancer before its Elastic IPs)."""
    parts = PATTERNS[pattern]
    net, ids = build(session, accounts, parts)
    src, dst = session(accounts.source), session(accounts.destination, dst_region)
    certificates = le.import_certificates(dst.client("acm", region_name=dst_region)) if "web" in parts else {}
    before, network_before = li.read_lb(dst, dst_region), inv.read_network(dst, dst_region)
    source_before = li.read_lb(src, REGION)
    configure(workdir, accounts, emulator, dst_region)

    code, items = plan_items(ferry, "--strict")
    assert code == 0, {k: text_of(i) for k, i in items.items() if i["action"] == "conflict"}
    lb_keys = [k for k in items if k.split("/", 1)[0] in ("load_balancer", "target_group", "listener", "listener_rule", "classic_load_balancer")]
    assert lb_keys and all(items[k]["action"] == "create" for k in lb_keys), {k: items[k]["action"] for k in lb_keys}
    for name, cert in (("www", ids.get("cert_www")), ("api", ids.get("cert_api"))):
        if cert:
            item = items[f"certificate/{cert}"]
            assert (item["action"], item.get("dest_id")) == ("adopt", certificates[name]), item

    apply_ok(ferry)
    verify_ok(ferry)
    m = ci.full_mapping(ferry)
    _, dest = assert_same(accounts, src, dst, dst_region, m, before)
    if "web" in parts:
        https = dest["listeners"][m[f"listener/{ids['listener_https']}"]]
        assert (https["certificate"], https["extra_certificates"]) == (certificates["www"], [certificates["api"]])
        nlb = dest["load_balancers"][m[f"load_balancer/{ids['nlb_edge']}"]]
        assert sorted(nlb["addresses"].values()) == sorted(m[f"elastic_ip/{ids[k]}"] for k in ("eip_edge_a", "eip_edge_b"))
        assert ":loadbalancer/net/edge/" in m[f"load_balancer/{ids['nlb_edge']}"]
        assert dest["attachments"]["web-lb"]["target_groups"] == {m[f"target_group/{ids['tg_web']}"]: True}
        assert_equivalent(
            Migration(src, dst, REGION, dst_region, accounts.source, accounts.destination, net, network_before, workdir),
            mapping(ferry),
        )
    else:
        legacy = dest["classic_load_balancers"]["legacy-web"]
        assert legacy["zones"] == [dst_region + "a", dst_region + "b"]
        assert legacy["security_groups"] == [m[f"security_group/{ids['sg_classic']}"]]
        assert dest["attachments"]["classic-web"] == {
            "instances": 2, "target_groups": {}, "load_balancers": {"legacy-web": True}, "health_check": "ELB",
        }  # fmt: skip
    assert li.read_lb(src, REGION) == source_before, "the source is as it was"
    assert_no_create(ferry)

    rollback_ok(ferry)
    assert li.read_lb(dst, dst_region) == before
    assert li.ferry_sources(dst, dst_region) == []
    if net:
        assert live(inv.read_network(dst, dst_region)) == network_before


# --- hard cases -------------------------------------------------------------------------


def test_names_taken_in_the_destination_are_conflicts(session, accounts, emulator, workdir, ferry):
    """Load balancer and target group names are unique per account and
    region, and so are classic load balancer names: one taken in the
    destination is a conflict naming what holds it, and apply changes
    nothing."""
    _, ids = build(session, accounts, ["web", "classic"])
    dst = session(accounts.destination)
    ec2, elbv2 = dst.client("ec2"), dst.client("elbv2")
    # The destination's own network, apart from the estate's CIDRs.
    vpc = ec2.create_vpc(CidrBlock="172.16.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"172.16.{i}.0/24", AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    theirs_tg = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    theirs_lb = elbv2.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    dst.client("elb").create_load_balancer(
        LoadBalancerName="legacy-web", AvailabilityZones=[REGION + "a"],
        Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 22, "InstancePort": 22}],
    )  # fmt: skip
    le.import_certificates(dst.client("acm"))
    before = li.read_lb(dst, REGION)
    configure(workdir, accounts, emulator)

    code, items = plan_items(ferry, "--strict")
    assert code == 1
    tg, lb = items[f"target_group/{ids['tg_web']}"], items[f"load_balancer/{ids['alb_web']}"]
    assert tg["action"] == "conflict" and "already taken" in text_of(tg) and theirs_tg.lower() in text_of(tg), tg
    assert lb["action"] == "conflict" and "already taken" in text_of(lb) and theirs_lb.lower() in text_of(lb), lb
    classic = items["classic_load_balancer/legacy-web"]
    assert classic["action"] == "conflict" and "already taken" in text_of(classic), classic
    assert items[f"target_group/{ids['tg_canary']}"]["action"] == "create", "a free name is no conflict"

    refused = ferry("apply --yes")
    assert refused.returncode == 1 and "conflict" in refused.stderr
    assert li.read_lb(dst, REGION) == before


def test_https_listener_whose_certificate_is_missing_in_the_destination(session, accounts, emulator, workdir, ferry):
    """The destination has no certificate for www.example.com: a conflict
    that says so, and the HTTPS listener with it. apply --skip-conflicts
    migrates the rest (the load balancer, the target groups, the HTTP
    listener and its rules), and verify reports exactly what was left out.
    Once the user imports the certificate, the plan maps it, and the HTTPS
    listener serves the destination's certificate. Drift in the destination
    afterwards (an attribute, a rule's priority) is what verify reports, and
    what the next apply puts back."""
    parts = ["web"]
    _, ids = build(session, accounts, parts)
    src, dst = session(accounts.source), session(accounts.destination)
    configure(workdir, accounts, emulator)

    code, items = plan_items(ferry, "--strict")
    assert code == 1
    conflicts = {k for k, i in items.items() if i["action"] == "conflict"}
    https_parts = {f"listener/{ids['listener_https']}", f"listener_rule/{ids['rule_https_healthz']}"}
    certificates = {f"certificate/{ids['cert_www']}", f"certificate/{ids['cert_api']}"}
    assert {f"certificate/{ids['cert_www']}", f"listener/{ids['listener_https']}"} <= conflicts <= certificates | https_parts, conflicts
    reason = text_of(items[f"certificate/{ids['cert_www']}"])
    assert "has no certificate for www.example.com" in reason and accounts.destination in reason, reason
    assert items[f"load_balancer/{ids['alb_web']}"]["action"] == "create"
    assert items[f"listener/{ids['listener_http']}"]["action"] == "create"

    refused = ferry("apply --yes")
    assert refused.returncode == 1 and "conflict" in refused.stderr
    assert empty(li.read_lb(dst, REGION)) == {}

    apply_ok(ferry, "--skip-conflicts")
    m = ci.full_mapping(ferry)
    assert not https_parts & set(m), "nothing of the HTTPS listener was made"
    code, report = verify_report(ferry)
    assert code == 1, "verify reports what the skipped conflicts left out"
    findings = {e["key"]: e["status"] for e in report if e["status"] != "skipped"}
    assert findings == {k: "not_migrated" for k in https_parts}, report
    assert {e["key"] for e in report if e["status"] == "skipped"} <= certificates
    source, dest = li.read_lb(src, REGION), li.read_lb(dst, REGION)
    made = set(m.values())
    assert [l["port"] for k, l in dest["listeners"].items() if k in made] == [80]
    assert len([r for k, r in dest["rules"].items() if k in made]) == 5
    flat = ci.flat(m)
    migrated = {kind: {k: v for k, v in records.items() if k in flat} for kind, records in source.items()}
    expected = li.translate(migrated, m, accounts.source, accounts.destination, REGION, REGION)
    assert not expected.unmapped and li.compare(expected, li.select(dest, flat.values())) == []

    # The user imports the certificates: now they map and the listener follows.
    mine = le.import_certificates(dst.client("acm"))
    code, items = plan_items(ferry, "--strict")
    assert code == 0, {k: text_of(i) for k, i in items.items() if i["action"] == "conflict"}
    www = items[f"certificate/{ids['cert_www']}"]
    assert (www["action"], www.get("dest_id")) == ("adopt", mine["www"]), www
    assert items[f"listener/{ids['listener_https']}"]["action"] == "create"
    apply_ok(ferry)
    verify_ok(ferry)
    m = ci.full_mapping(ferry)
    https = li.read_lb(dst, REGION)["listeners"][m[f"listener/{ids['listener_https']}"]]
    assert (https["certificate"], https["extra_certificates"]) == (mine["www"], [mine["api"]])
    assert f":{accounts.destination}:" in https["certificate"]
    assert_same(accounts, src, dst, REGION, m, {kind: {} for kind in li.KINDS})

    # Drift in the destination: verify names it, and apply puts it back.
    elbv2 = dst.client("elbv2")
    drifted = {f"load_balancer/{ids['alb_web']}", f"target_group/{ids['tg_web']}", f"listener_rule/{ids['rule_http_office']}"}
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=m[f"load_balancer/{ids['alb_web']}"], Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "30"}])
    elbv2.modify_target_group_attributes(TargetGroupArn=m[f"target_group/{ids['tg_web']}"], Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "99"}])
    elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": m[f"listener_rule/{ids['rule_http_office']}"], "Priority": 55}])
    code, report = verify_report(ferry)
    assert code == 1 and {e["key"]: e["status"] for e in report if e["status"] != "skipped"} == dict.fromkeys(drifted, "different"), report
    _, items = plan_items(ferry)
    assert {k for k, i in items.items() if i["action"] != "skip"} == drifted
    apply_ok(ferry)
    verify_ok(ferry)
