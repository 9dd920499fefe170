"""ARCHITECTURE.md's invariants, end to end on the emulator (the pure parts have unit
tests next to the code: graph, planner, translator, rate limiter, state)."""

from __future__ import annotations

import json

import inventory as inv
from conftest import write_config
from migration import live, mapping, prepare

SG_RULE = {"IpProtocol": "tcp", "FromPort": 9000, "ToPort": 9000, "IpRanges": [{"CidrIp": "10.9.0.0/16"}]}


def _default_group(ec2, vpc_id):
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return groups[0]


def _default_vpc(ec2):
    return ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]


def test_1_the_plan_printed_is_the_plan_run(session, accounts, emulator, workdir, ferry):
    write_config(workdir, accounts.source, accounts.destination, "us-east-1", "us-east-1", emulator)
    src = session(accounts.source).client("ec2")
    first = src.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    assert ferry("plan --out plan.json").returncode == 0
    later = src.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]  # after the plan was made
    applied = ferry("apply --yes --plan plan.json")
    assert applied.returncode == 0, applied.stderr
    ids = mapping(ferry)
    assert first in ids and later not in ids
    assert "not migrated" in ferry("verify").stdout
    # A plan made for another configuration is refused.
    (workdir / "ferry.toml").write_text((workdir / "ferry.toml").read_text() + '\n[scope]\nexclude = ["vpc_peering"]\n')
    refused = ferry("apply --yes --plan plan.json")
    assert refused.returncode == 2
    assert "different ferry.toml" in refused.stderr


def test_2_everything_created_is_tagged_with_source_and_run(session, accounts, emulator, workdir, ferry):
    m = prepare(session, accounts, emulator, workdir, "us-east-1")
    assert ferry("apply --yes").returncode == 0
    entries = json.loads(ferry("mapping --output json").stdout)
    created = [e for e in entries if e["origin"] == "created"]
    assert len(created) == 23
    ec2 = m.dst.client("ec2")
    tags = {}
    for t in ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [e["dest_id"] for e in created]}])["Tags"]:
        tags.setdefault(t["ResourceId"], {})[t["Key"]] = t["Value"]
    for e in created:
        kind, source_id = e["source_key"].split("/", 1)
        assert tags[e["dest_id"]]["ferry:run"] == "1", e
        source_tag = tags[e["dest_id"]]["ferry:source"]
        assert source_tag.startswith(f"arn:aws:ec2:us-east-1:{accounts.source}:") and source_tag.endswith("/" + source_id)


def test_5_6_defaults_are_mapped_reconciled_and_restored(session, accounts, emulator, workdir, ferry):
    write_config(workdir, accounts.source, accounts.destination, "us-east-1", "us-east-1", emulator)
    src, dst = session(accounts.source).client("ec2"), session(accounts.destination).client("ec2")
    src_group = _default_group(src, _default_vpc(src))
    src.authorize_security_group_ingress(GroupId=src_group["GroupId"], IpPermissions=[SG_RULE])
    dst_vpc = _default_vpc(dst)
    before = _default_group(dst, dst_vpc)
    vpcs_before = dst.describe_vpcs()["Vpcs"]

    assert ferry("apply --yes").returncode == 0
    assert len(dst.describe_vpcs()["Vpcs"]) == len(vpcs_before), "the default VPC is mapped, not duplicated"
    after = _default_group(dst, dst_vpc)
    assert after["GroupId"] == before["GroupId"]
    assert any(p.get("FromPort") == 9000 for p in after["IpPermissions"]), "default group reconciled"
    assert ferry("verify").returncode == 0

    assert ferry("rollback --yes").returncode == 0
    restored = _default_group(dst, dst_vpc)
    assert restored["IpPermissions"] == before["IpPermissions"], "rollback restored the default group"


def test_7_verify_rereads_and_apply_repairs(session, accounts, emulator, workdir, ferry):
    m = prepare(session, accounts, emulator, workdir, "us-east-1")
    assert ferry("apply --yes").returncode == 0
    web = mapping(ferry)[m.created["sg_web"]]
    ec2 = m.dst.client("ec2")
    group = ec2.describe_security_groups(GroupIds=[web])["SecurityGroups"][0]
    ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=[group["IpPermissions"][0]])

    report = ferry("verify")
    assert report.returncode == 1
    assert f"security_group/{m.created['sg_web']} (web) -> {web}: differs" in report.stdout
    assert "ingress[]" in report.stdout
    as_json = json.loads(ferry("verify --output json").stdout)
    assert as_json["equivalent"] is False and as_json["counts"]["different"] == 1

    plan = json.loads(ferry("plan --output json").stdout)
    updates = [i for i in plan["items"] if i["action"] == "update"]
    assert [i["key"] for i in updates] == [f"security_group/{m.created['sg_web']}"]
    assert ferry("apply --yes").returncode == 0
    assert ferry("verify").returncode == 0
    repaired = live(inv.read_network(m.dst, "us-east-1"))["security_groups"][web]
    assert len(repaired["ingress"]) == 2


def test_a_mapped_resource_deleted_out_of_band_is_created_again(session, accounts, emulator, workdir, ferry):
    m = prepare(session, accounts, emulator, workdir, "us-east-1")
    assert ferry("apply --yes").returncode == 0
    shared_a = m.created["subnet_shared_a"]
    old = mapping(ferry)[shared_a]
    m.dst.client("ec2").delete_subnet(SubnetId=old)

    plan = json.loads(ferry("plan --output json").stdout)
    item = next(i for i in plan["items"] if i["key"] == f"subnet/{shared_a}")
    assert item["action"] == "create" and "no longer exists" in item["reason"]
    assert ferry("apply --yes").returncode == 0
    new = mapping(ferry)[shared_a]
    assert new != old
    assert ferry("verify").returncode == 0


def test_6_rollback_treats_resources_already_gone_as_done(session, accounts, emulator, workdir, ferry):
    m = prepare(session, accounts, emulator, workdir, "us-east-1")
    applied = ferry("apply --yes")
    assert applied.returncode == 0 and "AWS calls" in applied.stdout
    # Someone already removed part of what ferry made.
    ec2 = m.dst.client("ec2")
    ids = mapping(ferry)
    ec2.delete_subnet(SubnetId=ids[m.created["subnet_shared_a"]])
    rolled = ferry("rollback --yes")
    assert rolled.returncode == 0, rolled.stderr
    assert live(inv.read_network(m.dst, "us-east-1")) == m.before
