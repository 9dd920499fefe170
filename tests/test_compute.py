"""The compute layer (issue 4): KMS keys, key pairs, images, snapshots,
volumes, instances, launch templates and configurations, auto scaling groups
with their policies, CloudWatch alarms, and the whole web tier, migrated into
another account, in the same region and into another one.

Every check reads both accounts with boto3 (compute_inventory.py, and
inventory.py for the network); only the ID mapping comes from ferry.

The first tests (named ``*estate*``) check the harness itself: that
compute_estate.py builds what it says, that the reader sees it, that the
translator rewrites every id, and that moto's gaps listed in
compute_estate.MOTO_GAPS still hold. They need the emulator, not ferry.
"""

from __future__ import annotations

import json
import signal

import compute_estate as ce
import compute_inventory as ci
import estate
import inventory as inv
import pytest
from conftest import write_config
from migration import assert_equivalent, ferry_sources, live, mapping

REGION = "us-east-1"


# --- shared steps -------------------------------------------------------------


def build(session, accounts, parts=ce.PARTS):
    """(network ids or None, compute ids) built in the source account; the
    network estate only when a chosen part needs it."""
    factory = lambda r: session(accounts.source, r)  # noqa: E731
    net = estate.build_network_estate(factory, REGION) if ce.closure(parts) & ce.NEEDS_NETWORK else None
    return net, ce.build_compute_estate(factory, REGION, accounts.source, net, parts)


def configure(workdir, accounts, emulator, dst_region: str = REGION, include=None, extra: str = "") -> None:
    toml = f"[scope]\ninclude = {json.dumps(include)}\n" if include else ""
    write_config(workdir, accounts.source, accounts.destination, REGION, dst_region, emulator, toml + extra)


def plan_items(ferry, *flags: str) -> tuple[int, dict[str, dict]]:
    result = ferry(["plan", "--output", "json", *flags])
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, {i["key"]: i for i in json.loads(result.stdout)["items"]}


def text_of(item: dict) -> str:
    return " ".join([item.get("reason", ""), *item.get("notes", [])]).lower()


def apply_ok(ferry, *flags: str) -> None:
    applied = ferry(["apply", "--yes", *flags], timeout=300)
    assert applied.returncode == 0, applied.stderr
    assert "succeeded" in applied.stdout


def verify_ok(ferry) -> None:
    verified = ferry("verify", timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def assert_same(
    accounts, src, dst, dst_region: str, ids: dict[str, str], kinds=ci.KINDS, private_ips: bool = False
) -> tuple[dict, dict]:
    """Source and destination compute, read independently, agree through
    ferry's mapping for every mapped record of `kinds`, and the destination
    holds nothing else of those kinds but what auto scaling groups launched
    and the images ferry made of instances. Private IPs are compared only
    with `private_ips` ([compute] keep_private_ips). Returns both reads."""
    source = ci.read_compute(src, REGION)
    dest = ci.read_compute(dst, dst_region)
    if not private_ips:
        for read in (source, dest):
            for record in read["instances"].values():
                record.pop("private_ip")
    flat = ci.flat(ids)
    expected = ci.translate(
        {k: v for k, v in ci.select(source, flat).items() if k in kinds},
        ids,
        accounts.source,
        accounts.destination,
        REGION,
        dst_region,
    )
    assert not expected.unmapped, f"ids without a destination: {sorted(expected.unmapped)}"
    actual = {k: v for k, v in ci.select(dest, flat.values()).items() if k in kinds}
    differences = ci.compare(expected, actual)
    assert not differences, "\n".join(differences)
    of_instances = {d for k, d in ids.items() if k.startswith("image/i-")}
    extra = {
        f"{kind}/{key}"
        for kind in kinds
        for key, record in dest[kind].items()
        if key not in set(flat.values()) | of_instances and not (kind == "instances" and record["group"])
    }
    assert not extra, f"unexpected in the destination: {sorted(extra)}"
    return source, dest


def assert_no_create(ferry) -> None:
    again = ferry("apply --yes", timeout=300)
    assert again.returncode == 0, again.stderr
    assert "Nothing to do" in again.stdout
    _, items = plan_items(ferry)
    creates = sorted(k for k, i in items.items() if i["action"] == "create")
    assert creates == [], f"a plan after apply still creates {creates}"


def assert_no_shares(accounts, src) -> None:
    left = ci.shares(src, REGION, accounts.destination)
    assert left == [], "temporary shares or grants left in the source:\n" + "\n".join(left)


def images_made(dst, region: str) -> list[str]:
    """ferry:source tags of the images the destination owns."""
    return ci.ferry_made(dst, region).get("images", [])


# --- the harness itself -----------------------------------------------------


@pytest.fixture
def built(session, accounts):
    net, ids = build(session, accounts)
    return net, ids, ci.read_compute(session(accounts.source), REGION)


def test_compute_estate_reads_back_as_built(built):
    net, ids, read = built
    counts = {kind: len(read[kind]) for kind in ci.KINDS}
    assert counts == {
        "kms_keys": 1,
        "key_pairs": 2,
        "images": 2,
        "snapshots": 1,
        "volumes": 1,
        "instances": 4,  # the bastion, two web servers, one database server
        "launch_templates": 1,
        "launch_configurations": 1,
        "autoscaling_groups": 2,
        "scaling_policies": 4,
        "metric_alarms": 4,
    }

    key = read["kms_keys"][ids["key_app"]]
    assert (key["rotation"], key["aliases"], key["tags"]) == (True, [ce.KEY_ALIAS], {"team": "platform"})
    principals = [s["Principal"] for s in key["policy"]["Statement"]]
    assert {"AWS": f"arn:aws:iam::{ids['key_app_arn'].split(':')[4]}:root"} in principals
    assert read["key_pairs"]["ops"]["public_key"] == " ".join(ids["key_pair_ops_public"].split()[:2])
    assert read["key_pairs"]["deploy"]["public_key"].startswith("ssh-rsa ")

    golden, legacy = read["images"][ids["image_golden"]], read["images"][ids["image_legacy"]]
    assert golden["name"] == ce.GOLDEN_IMAGE and legacy["name"] == ce.LEGACY_IMAGE
    assert [(b["encrypted"], b["kms_key"]) for b in golden["block_devices"]] == [(True, ids["key_app"])]
    assert [(b["encrypted"], b["kms_key"]) for b in legacy["block_devices"]] == [(True, "aws/ebs")]
    assert ids["instance_builder"] not in read["instances"], "the builder is terminated"

    snapshot = read["snapshots"][ids["snapshot_backup"]]
    assert (snapshot["encrypted"], snapshot["kms_key"], snapshot["size"]) == (True, ids["key_app"], 8)
    volume = read["volumes"][ids["volume_scratch"]]
    assert (volume["type"], volume["iops"], volume["throughput"], volume["zone"]) == ("gp3", 4000, 250, REGION + "b")
    assert volume["kms_key"] == ids["key_app"]

    bastion = read["instances"][ids["instance_bastion"]]
    assert bastion["subnet"] == net["subnet_public_a"] and bastion["groups"] == [net["sg_bastion"]]
    assert (bastion["key"], bastion["image"], bastion["user_data"]) == ("ops", f"public:{ce.PUBLIC_IMAGE_NAME}", ce.BASTION_USER_DATA)
    assert bastion["profile"].endswith(":instance-profile/ops/bastion")
    assert bastion["metadata"]["http_tokens"] == "required" and bastion["metadata"]["hop_limit"] == 2
    assert bastion["ebs_optimized"] and bastion["monitoring"] and bastion["group"] is None
    assert bastion["tags"] == {"Name": "bastion", "role": "bastion", "team": "ops"}
    in_groups = sorted(i["group"] for i in read["instances"].values() if i["group"])
    assert in_groups == ["db", "web", "web"]

    template = read["launch_templates"][ids["lt_db"]]
    assert (template["name"], template["default_version"], template["latest_version"]) == ("db", 2, 3)
    assert template["tags"] == {"Name": "db", "team": "data"}
    v1, v3 = template["versions"]["1"]["data"], template["versions"]["3"]["data"]
    assert (v1["ImageId"], v3["ImageId"]) == (ids["image_golden"], ids["image_legacy"])
    assert v1["SecurityGroupIds"] == [net["sg_db"]]
    assert v1["BlockDeviceMappings"][0]["kms_key"] == ids["key_app"]
    assert v1["TagSpecifications"] == [{"ResourceType": "instance", "Tags": {"tier": "db"}}]

    lc = read["launch_configurations"]["web-v1"]
    assert (lc["image"], lc["groups"], lc["key"], lc["profile"]) == (ids["image_golden"], [net["sg_web"]], "ops", "web-server")
    web, db = read["autoscaling_groups"]["web"], read["autoscaling_groups"]["db"]
    assert (web["min"], web["max"], web["desired"], web["instances"]) == (2, 4, 2, 2)
    assert web["subnets"] == sorted([net["subnet_private_a"], net["subnet_private_b"]])
    assert web["tags"] == {"tier": {"value": "web", "propagate": True}, "cost-center": {"value": "4200", "propagate": False}}
    assert (web["health_check"], web["grace"], web["cooldown"]) == ("EC2", 120, 200)
    assert web["termination_policies"] == "OldestInstance > Default"
    assert db["launch_template"] == {"id": ids["lt_db"], "version": "$Default"}
    assert list(db["lifecycle_hooks"]) == ["drain-connections"] and list(db["scheduled_actions"]) == ["weekday-mornings"]

    policies = read["scaling_policies"]
    assert {p["type"] for p in policies.values()} == {"SimpleScaling", "StepScaling", "TargetTrackingScaling"}
    alarms = read["metric_alarms"]
    assert alarms["web-cpu-high"]["alarm_actions"] == [ids["policy_web_up"]]
    assert alarms["web-cpu-low"]["alarm_actions"] == [ids["policy_web_down"]]
    assert alarms["db-cpu-high"]["alarm_actions"] == [ids["policy_db_step"]]
    assert alarms["bastion-status-check"]["dimensions"] == {"InstanceId": ids["instance_bastion"]}


def _pairing(src_ids, dst_ids, src_net, dst_net) -> dict[str, str]:
    """The mapping ferry would report, from two builds of the same estate."""
    out = {f"network/{src_net[k]}": dst_net[k] for k in src_net if k != "pl_s3"}
    skip = {"key_app_arn", "key_pair_ops_public", "instance_builder"}
    out |= {f"x/{src_ids[k]}": dst_ids[k] for k in src_ids if k not in skip}
    # Two builds run the same public image; ferry's would run an image of it.
    out[f"image/{src_ids['instance_bastion']}"] = f"public:{ce.PUBLIC_IMAGE_NAME}"
    return out


@pytest.mark.parametrize("dst_region", [REGION, "eu-west-1"])
def test_compute_estate_two_builds_agree_through_a_mapping(session, accounts, dst_region):
    """The comparison a ferry test makes, with the builder standing in for ferry."""
    src_net, src_ids = build(session, accounts)
    dst_factory = lambda r: session(accounts.destination, r)  # noqa: E731
    dst_net = estate.build_network_estate(dst_factory, dst_region)
    dst_ids = ce.build_compute_estate(dst_factory, dst_region, accounts.destination, dst_net)
    src, dst = session(accounts.source), session(accounts.destination, dst_region)
    # Key pairs are random: give the destination the source's public keys.
    for key in src.client("ec2").describe_key_pairs(IncludePublicKey=True)["KeyPairs"]:
        dst.client("ec2").delete_key_pair(KeyName=key["KeyName"])
        dst.client("ec2").import_key_pair(
            KeyName=key["KeyName"], PublicKeyMaterial=key["PublicKey"].encode(),
            **({"TagSpecifications": [{"ResourceType": "key-pair", "Tags": key["Tags"]}]} if key.get("Tags") else {}),
        )  # fmt: skip
    src_read, dst_read = ci.read_compute(src, REGION), ci.read_compute(dst, dst_region)
    ids = _pairing(src_ids, dst_ids, src_net, dst_net)

    flat = ci.flat(ids)
    expected = ci.translate(ci.select(src_read, flat), ids, accounts.source, accounts.destination, REGION, dst_region)
    assert expected.unmapped == set()
    actual = ci.select(dst_read, flat.values())
    assert ci.compare(expected, actual) == []
    text = json.dumps(expected)
    assert accounts.source not in text and (dst_region == REGION or REGION not in text)

    # And the comparison notices a difference: a wrong alarm action.
    dst.client("cloudwatch").put_metric_alarm(
        AlarmName="web-cpu-high", Namespace="AWS/EC2", MetricName="CPUUtilization", Statistic="Average",
        Period=300, EvaluationPeriods=2, Threshold=70, ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "AutoScalingGroupName", "Value": "web"}], AlarmActions=[dst_ids["policy_web_down"]],
        AlarmDescription="web CPU high", Unit="Percent",
    )  # fmt: skip
    actual = ci.select(ci.read_compute(dst, dst_region), flat.values())
    assert [d.split(":")[0] for d in ci.compare(expected, actual)] == ["metric_alarms/web-cpu-high"]


def test_compute_estate_moto_gaps_still_hold(session, accounts):
    """Fails when a moto upgrade (or the shim) fixes a gap: then update
    compute_estate.MOTO_GAPS, the reader and emulator/README.md."""
    stale = "moto fixed this: update compute_estate.MOTO_GAPS"
    assert set(ce.MOTO_GAPS) == {
        "PutScalingPolicy",
        "PutLifecycleHook",
        "CreateLaunchTemplate",
        "CreateTags",
        "CreateLaunchTemplateVersion",
        "DescribeImages",
        "CreateImage",
        "PutScalingPolicy(TargetTrackingScaling)",
        "CreateKey",
        "RunInstances",
    }
    s = session(accounts.source)
    ec2, autoscaling, cloudwatch = s.client("ec2"), s.client("autoscaling"), s.client("cloudwatch")
    bare = s.client("kms").create_key()["KeyMetadata"]["KeyId"]
    assert "KeyUsage" not in s.client("kms").describe_key(KeyId=bare)["KeyMetadata"], stale
    image = ce.public_image(ec2)
    autoscaling.create_launch_configuration(LaunchConfigurationName="gap", ImageId=image, InstanceType="t3.micro")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="gap", LaunchConfigurationName="gap", MinSize=0, MaxSize=1,
        AvailabilityZones=[REGION + "a"],
    )  # fmt: skip
    answer = autoscaling.put_scaling_policy(
        AutoScalingGroupName="gap", PolicyName="p", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={"PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 50.0},
    )  # fmt: skip
    assert "PolicyARN" not in answer, stale
    assert cloudwatch.describe_alarms()["MetricAlarms"] == [], stale
    autoscaling.put_lifecycle_hook(
        LifecycleHookName="h", AutoScalingGroupName="gap", LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING",
        NotificationTargetARN=f"arn:aws:sqs:{REGION}:{accounts.source}:hooks", RoleARN=f"arn:aws:iam::{accounts.source}:role/hooks",
    )  # fmt: skip
    hook = autoscaling.describe_lifecycle_hooks(AutoScalingGroupName="gap")["LifecycleHooks"][0]
    assert accounts.source not in hook["NotificationTargetARN"] + hook["RoleARN"], stale

    template = ec2.create_launch_template(
        LaunchTemplateName="gap", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "k", "Value": "v"}]}],
    )["LaunchTemplate"]["LaunchTemplateId"]  # fmt: skip
    v1 = ec2.describe_launch_template_versions(LaunchTemplateId=template)["LaunchTemplateVersions"][0]
    assert "launch-template" in [t["ResourceType"] for t in v1["LaunchTemplateData"].get("TagSpecifications", [])], stale
    ec2.create_tags(Resources=[template], Tags=[{"Key": "later", "Value": "x"}])
    tags = ec2.describe_launch_templates(LaunchTemplateIds=[template])["LaunchTemplates"][0].get("Tags", [])
    assert "later" not in [t["Key"] for t in tags], stale
    v2 = ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1", LaunchTemplateData={"InstanceType": "t3.large"})
    assert "ImageId" not in v2["LaunchTemplateVersion"]["LaunchTemplateData"], stale

    marketplace = ce.public_image(ec2, ce.MARKETPLACE_IMAGE_NAME)
    assert ec2.describe_images(ImageIds=[marketplace])["Images"][0]["ProductCodes"] == [], stale
    codes = ec2.describe_image_attribute(ImageId=marketplace, Attribute="productCodes")["ProductCodes"]
    assert {c["ProductCodeId"] for c in codes} == {"code123", "code456"}, "moto's catalogue changed"
    instance = ec2.run_instances(ImageId=marketplace, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]
    assert instance["RootDeviceName"] == "/dev/xvda", "moto's catalogue changed"
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert described["ProductCodes"] == [], stale
    made = ec2.create_image(InstanceId=instance["InstanceId"], Name="of-marketplace")["ImageId"]
    assert ec2.describe_image_attribute(ImageId=made, Attribute="productCodes")["ProductCodes"] == [], stale


def test_compute_estate_parts_build_alone(session, accounts):
    """Per-kind tests build only part of the estate: parts pull in what they need."""
    _, ids = build(session, accounts, parts=["images"])
    assert set(ids) == {"key_app", "key_app_arn", "image_golden", "image_legacy", "instance_builder"}
    read = ci.read_compute(session(accounts.source), REGION)
    assert set(read["images"]) == {ids["image_golden"], ids["image_legacy"]}
    assert read["snapshots"] == {} and read["instances"] == {}, "the builder leaves nothing behind"


# --- ferry, kind by kind ------------------------------------------------------


def raw_image(session, region: str, image_id: str) -> dict:
    """Owner and, per snapshot, owner / encryption / key ARN of an image."""
    ec2 = session.client("ec2", region_name=region)
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    snapshots = [b["Ebs"]["SnapshotId"] for b in image["BlockDeviceMappings"] if "Ebs" in b]
    found = ec2.describe_snapshots(SnapshotIds=snapshots)["Snapshots"]
    return {
        "owner": image["OwnerId"],
        "snapshots": {s["SnapshotId"]: (s["OwnerId"], s.get("Encrypted"), s.get("KmsKeyId")) for s in found},
    }


def default_ebs_key_arn(session, region: str) -> str:
    return session.client("kms", region_name=region).describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]


def owned_snapshots(session, region: str) -> set[str]:
    ec2 = session.client("ec2", region_name=region)
    return {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}


def owned_images(session, region: str) -> set[str]:
    return {i["ImageId"] for i in session.client("ec2", region_name=region).describe_images(Owners=["self"])["Images"]}


def live_aliases(session, region: str) -> list[str]:
    kms = session.client("kms", region_name=region)
    return sorted(a["AliasName"] for a in kms.list_aliases()["Aliases"] if not a["AliasName"].startswith("alias/aws/"))


def rollback_ok(ferry) -> None:
    rolled = ferry("rollback --yes", timeout=300)
    assert rolled.returncode == 0, rolled.stderr
    runs = json.loads(ferry("runs --output json").stdout)
    assert runs[0]["state"] == "rolled_back"


def test_kms_keys_and_key_pairs(session, accounts, emulator, workdir, ferry):
    _, ids = build(session, accounts, parts=["kms", "key_pair"])
    src, dst = session(accounts.source), session(accounts.destination)
    configure(workdir, accounts, emulator, include=["kms", "key_pair"])

    code, items = plan_items(ferry, "--strict")
    assert code == 0
    key = items[f"kms_key/{ids['key_app']}"]
    assert key["action"] == "create"
    assert "key material" in text_of(key), "the plan says key material cannot move"
    assert items["key_pair/ops"]["action"] == items["key_pair/deploy"]["action"] == "create"

    apply_ok(ferry)
    verify_ok(ferry)
    m = ci.full_mapping(ferry)
    assert (m["key_pair/ops"], m["key_pair/deploy"]) == ("ops", "deploy")
    _, dest = assert_same(accounts, src, dst, REGION, m, kinds=("kms_keys", "key_pairs"))
    new_key = dest["kms_keys"][m[f"kms_key/{ids['key_app']}"]]
    assert new_key["aliases"] == [ce.KEY_ALIAS] and new_key["rotation"] is True
    assert accounts.source not in json.dumps(new_key["policy"]), "the key policy names the destination"
    assert {"AWS": f"arn:aws:iam::{accounts.destination}:root"} in [s["Principal"] for s in new_key["policy"]["Statement"]]
    assert set(ci.ferry_made(dst, REGION)) == {"kms_keys", "key_pairs"}
    assert_no_create(ferry)

    rollback_ok(ferry)
    after = ci.read_compute(dst, REGION)
    assert after["kms_keys"] == {} and after["key_pairs"] == {}, "keys are deleted (KMS: scheduled)"
    assert live_aliases(dst, REGION) == []


def test_images_copied_under_destination_keys_default_key_included(session, accounts, emulator, workdir, ferry):
    """The CMK image is copied under the mapped key; the image under the
    source's aws/ebs key (which cannot be shared) ends up under the
    destination's aws/ebs key. The destination owns both copies and their
    snapshots; nothing stays shared or granted; rollback removes the copies
    and their snapshots."""
    _, ids = build(session, accounts, parts=["images"])
    src, dst = session(accounts.source), session(accounts.destination)
    source_before = ci.read_compute(src, REGION)
    snapshots_before = owned_snapshots(src, REGION)
    configure(workdir, accounts, emulator, include=["kms", "image"])

    code, items = plan_items(ferry, "--strict")
    assert code == 0
    assert items[f"image/{ids['image_golden']}"]["action"] == "create"
    assert items[f"image/{ids['image_legacy']}"]["action"] == "create"

    apply_ok(ferry)
    verify_ok(ferry)
    m = ci.full_mapping(ferry)
    assert_same(accounts, src, dst, REGION, m, kinds=("kms_keys", "images"))
    golden = raw_image(dst, REGION, m[f"image/{ids['image_golden']}"])
    legacy = raw_image(dst, REGION, m[f"image/{ids['image_legacy']}"])
    key_arn = f"arn:aws:kms:{REGION}:{accounts.destination}:key/{m['kms_key/' + ids['key_app']]}"
    assert golden["owner"] == legacy["owner"] == accounts.destination
    assert list(golden["snapshots"].values()) == [(accounts.destination, True, key_arn)]
    assert list(legacy["snapshots"].values()) == [(accounts.destination, True, default_ebs_key_arn(dst, REGION))]
    made = images_made(dst, REGION)
    assert len(made) == len(set(made)) == 2

    assert_no_shares(accounts, src)
    assert ci.read_compute(src, REGION) == source_before, "no scratch image or key left in the source"
    assert owned_snapshots(src, REGION) == snapshots_before
    assert_no_create(ferry)

    copies = set(golden["snapshots"]) | set(legacy["snapshots"])
    rollback_ok(ferry)
    assert owned_images(dst, REGION) == set()
    assert owned_snapshots(dst, REGION) & copies == set(), "rollback deletes the copies' snapshots"
    assert ci.read_compute(dst, REGION)["kms_keys"] == {}
    assert_no_shares(accounts, src)


def test_snapshots_and_volumes(session, accounts, emulator, workdir, ferry):
    _, ids = build(session, accounts, parts=["storage"])
    src, dst = session(accounts.source), session(accounts.destination)
    source_before = ci.read_compute(src, REGION)
    configure(workdir, accounts, emulator, include=["kms", "snapshot", "volume"])

    code, items = plan_items(ferry, "--strict")
    assert code == 0
    assert items[f"snapshot/{ids['snapshot_backup']}"]["action"] == "create"
    assert items[f"volume/{ids['volume_scratch']}"]["action"] == "create"

    apply_ok(ferry)
    verify_ok(ferry)
    m = ci.full_mapping(ferry)
    _, dest = assert_same(accounts, src, dst, REGION, m, kinds=("kms_keys", "snapshots", "volumes"))
    volume = dest["volumes"][m[f"volume/{ids['volume_scratch']}"]]
    assert (volume["zone"], volume["type"], volume["iops"], volume["throughput"]) == (REGION + "b", "gp3", 4000, 250)
    assert volume["kms_key"] == m[f"kms_key/{ids['key_app']}"]
    assert_no_shares(accounts, src)
    assert ci.read_compute(src, REGION) == source_before, "the volume's temporary snapshot is gone"
    assert_no_create(ferry)

    rollback_ok(ferry)
    after = ci.read_compute(dst, REGION)
    assert (after["snapshots"], after["volumes"], after["kms_keys"]) == ({}, {}, {})


def test_standalone_instance(session, accounts, emulator, workdir, ferry):
    """Launched from an image made of it, in the mapped subnet, with its type,
    groups, key, profile, user data, EBS optimisation, monitoring, metadata
    options, tags and (asked for here) its private IP."""
    net, ids = build(session, accounts, parts=["bastion"])
    src, dst = session(accounts.source), session(accounts.destination)
    bastion = ids["instance_bastion"]
    configure(
        workdir, accounts, emulator,
        include=["vpc", "iam", "key_pair", "image", "instance"],
        extra="[compute]\nno_reboot = true\nkeep_private_ips = true\n",
    )  # fmt: skip

    code, items = plan_items(ferry, "--strict")
    assert code == 0
    assert items[f"instance/{bastion}"]["action"] == "create"
    assert items[f"image/{bastion}"]["action"] == "create"
    assert "reboot" in text_of(items[f"image/{bastion}"]), "the plan says whether the instance is rebooted"

    apply_ok(ferry)
    verify_ok(ferry)
    m = ci.full_mapping(ferry)
    source, dest = assert_same(accounts, src, dst, REGION, m, kinds=("key_pairs", "instances"), private_ips=True)
    twin = dest["instances"][m[f"instance/{bastion}"]]
    assert twin["private_ip"] == source["instances"][bastion]["private_ip"]
    assert twin["subnet"] == m[f"subnet/{net['subnet_public_a']}"]
    assert twin["groups"] == [m[f"security_group/{net['sg_bastion']}"]]
    assert twin["profile"] == f"arn:aws:iam::{accounts.destination}:instance-profile/ops/bastion"
    assert twin["image"] == m[f"image/{bastion}"]
    assert raw_image(dst, REGION, twin["image"])["owner"] == accounts.destination
    assert owned_images(src, REGION) == set(), "the image made in the source is gone"
    assert_no_shares(accounts, src)
    assert_no_create(ferry)

    made_snapshots = set(raw_image(dst, REGION, twin["image"])["snapshots"])
    rollback_ok(ferry)
    after = ci.read_compute(dst, REGION)
    assert after["instances"] == {} and owned_images(dst, REGION) == set()
    assert owned_snapshots(dst, REGION) & made_snapshots == set()


def test_launch_templates_and_configurations(session, accounts, emulator, workdir, ferry):
    net, ids = build(session, accounts, parts=["web", "db"])
    src, dst = session(accounts.source), session(accounts.destination)
    kinds = ["vpc", "iam", "kms", "key_pair", "image", "launch_template", "launch_configuration"]
    configure(workdir, accounts, emulator, include=kinds)

    code, items = plan_items(ferry, "--strict")
    assert code == 0
    assert items[f"launch_template/{ids['lt_db']}"]["action"] == "create"
    assert items["launch_configuration/web-v1"]["action"] == "create"
    assert not any(k.startswith(("autoscaling_group/", "scaling_policy/", "metric_alarm/")) and i["action"] != "skip" for k, i in items.items())

    apply_ok(ferry)
    verify_ok(ferry)
    m = ci.full_mapping(ferry)
    _, dest = assert_same(
        accounts, src, dst, REGION, m,
        kinds=("kms_keys", "key_pairs", "images", "launch_templates", "launch_configurations"),
    )  # fmt: skip
    template = dest["launch_templates"][m[f"launch_template/{ids['lt_db']}"]]
    assert (template["name"], template["default_version"], template["latest_version"]) == ("db", 2, 3)
    versions = template["versions"]
    assert versions["1"]["data"]["ImageId"] == versions["2"]["data"]["ImageId"] == m[f"image/{ids['image_golden']}"]
    assert versions["3"]["data"]["ImageId"] == m[f"image/{ids['image_legacy']}"]
    assert versions["1"]["data"]["SecurityGroupIds"] == [m[f"security_group/{net['sg_db']}"]]
    assert versions["1"]["data"]["BlockDeviceMappings"][0]["kms_key"] == m[f"kms_key/{ids['key_app']}"]
    lc = dest["launch_configurations"][m["launch_configuration/web-v1"]]
    assert (lc["image"], lc["groups"]) == (m[f"image/{ids['image_golden']}"], [m[f"security_group/{net['sg_web']}"]])
    assert ci.read_compute(dst, REGION)["autoscaling_groups"] == {}, "groups were out of scope"
    assert_no_shares(accounts, src)
    assert_no_create(ferry)

    rollback_ok(ferry)
    after = ci.read_compute(dst, REGION)
    assert (after["launch_templates"], after["launch_configurations"], after["images"]) == ({}, {}, {})


def test_autoscaling_groups_policies_and_alarms(session, accounts, emulator, workdir, ferry):
    net, ids = build(session, accounts, parts=["web", "db"])
    src, dst = session(accounts.source), session(accounts.destination)
    configure(workdir, accounts, emulator)

    code, items = plan_items(ferry, "--strict")
    assert code == 0
    for group in ("web", "db"):
        assert items[f"autoscaling_group/{group}"]["action"] == "create"
    in_groups = [i for i, record in ci.read_compute(src, REGION)["instances"].items() if record["group"]]
    assert len(in_groups) == 3
    for instance in in_groups:
        item = items.get(f"instance/{instance}")
        assert item is None or item["action"] == "skip", "instances of a group are the group's to launch"

    apply_ok(ferry)
    verify_ok(ferry)
    m = ci.full_mapping(ferry)
    assert not any(f"instance/{i}" in m for i in in_groups)
    _, dest = assert_same(accounts, src, dst, REGION, m)
    web = dest["autoscaling_groups"]["web"]
    assert web["subnets"] == sorted(m[f"subnet/{net[s]}"] for s in ("subnet_private_a", "subnet_private_b"))
    assert web["instances"] == 2 and dest["autoscaling_groups"]["db"]["instances"] == 1
    assert dest["autoscaling_groups"]["db"]["launch_template"]["id"] == m[f"launch_template/{ids['lt_db']}"]
    for alarm, policy in (("web-cpu-high", "policy_web_up"), ("web-cpu-low", "policy_web_down"), ("db-cpu-high", "policy_db_step")):
        actions = dest["metric_alarms"][alarm]["alarm_actions"]
        assert actions == [m[f"scaling_policy/{ids[policy]}"]]
        assert f":{accounts.destination}:" in actions[0] and actions[0] in dest["scaling_policies"]
    assert {p["type"] for p in dest["scaling_policies"].values()} == {"SimpleScaling", "StepScaling", "TargetTrackingScaling"}
    assert_no_shares(accounts, src)
    assert_no_create(ferry)

    rollback_ok(ferry)
    after = ci.read_compute(dst, REGION)
    assert {k: v for k, v in after.items() if v} == {}, "rollback leaves no compute behind"


# --- the whole web tier ---------------------------------------------------------


@pytest.mark.parametrize("dst_region", [REGION, "eu-west-1"])
def test_web_tier_round_trip(session, accounts, emulator, workdir, ferry, dst_region):
    """Network, bastion, images, groups, policies and alarms migrated into
    another account: verify passes, an independent read of both accounts
    agrees through the mapping, a second apply creates nothing, and rollback
    removes everything ferry made, copied images and snapshots included,
    leaving no share in the source."""
    from migration import Migration

    net, ids = build(session, accounts)
    src, dst = session(accounts.source), session(accounts.destination, dst_region)
    m = Migration(
        src=src, dst=dst, src_region=REGION, dst_region=dst_region, src_account=accounts.source,
        dst_account=accounts.destination, created=net, before=inv.read_network(dst, dst_region), workdir=workdir,
    )  # fmt: skip
    source_before = ci.read_compute(src, REGION)
    dest_before = ci.read_compute(dst, dst_region)
    configure(workdir, accounts, emulator, dst_region)

    code, items = plan_items(ferry, "--strict")
    assert code == 0, [k for k, i in items.items() if i["action"] == "conflict"]
    assert "reboot" in text_of(items[f"image/{ids['instance_bastion']}"])

    apply_ok(ferry)
    verify_ok(ferry)
    ids_map = ci.full_mapping(ferry)
    assert_equivalent(m, mapping(ferry))
    _, dest = assert_same(accounts, src, dst, dst_region, ids_map)
    made = images_made(dst, dst_region)
    assert len(made) == len(set(made)) == 3, "golden, legacy and the bastion's image, once each"
    bastion = dest["instances"][ids_map[f"instance/{ids['instance_bastion']}"]]
    assert bastion["zone"] == dst_region + "a" and bastion["subnet"] == ids_map[f"subnet/{net['subnet_public_a']}"]
    assert dest["metric_alarms"]["bastion-status-check"]["dimensions"] == {"InstanceId": ids_map[f"instance/{ids['instance_bastion']}"]}
    assert_no_shares(accounts, src)
    assert ci.read_compute(src, REGION) == source_before, "the source is as it was"
    assert_no_create(ferry)

    copies = set().union(*(raw_image(dst, dst_region, i)["snapshots"] for i in owned_images(dst, dst_region)))
    rollback_ok(ferry)
    assert ci.read_compute(dst, dst_region) == dest_before
    assert owned_images(dst, dst_region) == set() and owned_snapshots(dst, dst_region) & copies == set()
    assert ci.ferry_made(dst, dst_region) == {}
    assert live(inv.read_network(dst, dst_region)) == m.before
    assert ferry_sources(dst, dst_region) == []
    assert live_aliases(dst, dst_region) == []
    assert_no_shares(accounts, src)


# --- hard cases -------------------------------------------------------------------


def test_instance_from_a_marketplace_image_needs_a_rebuild(session, accounts, emulator, workdir, ferry):
    """An image of an instance launched from a Marketplace image carries its
    product codes, and such an image cannot be copied to another account.
    moto cannot make an owned image with product codes (MOTO_GAPS: CreateImage,
    DescribeImages), so the instance stands for it: the public image it was
    launched from has codes, as DescribeImageAttribute productCodes reports."""
    ec2 = session(accounts.source).client("ec2")
    instance = ec2.run_instances(
        ImageId=ce.public_image(ec2, ce.MARKETPLACE_IMAGE_NAME), MinCount=1, MaxCount=1, InstanceType="t3.micro",
        SubnetId=ce.default_subnet(ec2, REGION + "a"), TagSpecifications=ce._tags("instance", "vendor-appliance"),
    )["Instances"][0]["InstanceId"]  # fmt: skip
    configure(workdir, accounts, emulator, include=["vpc", "image", "instance"])

    code, items = plan_items(ferry, "--strict")
    assert code == 1
    conflicts = {k: text_of(i) for k, i in items.items() if i["action"] == "conflict"}
    assert {f"image/{instance}", f"instance/{instance}"} & set(conflicts), conflicts
    assert any("rebuild" in t and ("product code" in t or "marketplace" in t) for t in conflicts.values()), conflicts
    refused = ferry("apply --yes")
    assert refused.returncode == 1
    assert ci.read_compute(session(accounts.destination), REGION)["instances"] == {}


def test_instance_whose_key_pair_has_no_public_key(session, accounts, emulator, workdir, ferry):
    """The instance's key pair was deleted after launch (so no public key is
    available; moto gives one for every existing key pair, made or imported):
    a conflict naming the key; --skip-conflicts migrates the rest."""
    net, ids = build(session, accounts, parts=["bastion"])
    ec2 = session(accounts.source).client("ec2")
    ec2.create_key_pair(KeyName="retired")
    orphan = ce.launch_bastion(ec2, net, key_name="retired", name="old-jump")
    ec2.delete_key_pair(KeyName="retired")
    configure(workdir, accounts, emulator, include=["vpc", "iam", "key_pair", "image", "instance"])

    code, items = plan_items(ferry, "--strict")
    assert code == 1
    conflicts = {k: text_of(i) for k, i in items.items() if i["action"] == "conflict"}
    assert set(conflicts) & {f"instance/{orphan}", "key_pair/retired"}, conflicts
    assert any("retired" in t and "public key" in t for t in conflicts.values()), conflicts
    assert items[f"instance/{ids['instance_bastion']}"]["action"] == "create"

    apply_ok(ferry, "--skip-conflicts")
    m = ci.full_mapping(ferry)
    assert f"instance/{ids['instance_bastion']}" in m and f"instance/{orphan}" not in m
    dest = ci.read_compute(session(accounts.destination), REGION)
    assert [i["key"] for i in dest["instances"].values()] == ["ops"]
    assert "retired" not in dest["key_pairs"]
    assert_no_shares(accounts, session(accounts.source))


def test_alarms_on_resources_outside_the_estate(session, accounts, emulator, workdir, ferry):
    """An alarm that notifies an SNS topic (not migrated) and one on an
    instance that does not exist are conflicts, never half-copied;
    --skip-conflicts migrates the alarm that stands on its own."""
    cloudwatch = session(accounts.source).client("cloudwatch")
    common = dict(Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.put_metric_alarm(
        AlarmName="checkout-errors", Namespace="Shop", MetricName="Errors",
        Dimensions=[{"Name": "Service", "Value": "checkout"}], AlarmDescription="checkout is failing", **common,
    )  # fmt: skip
    topic = f"arn:aws:sns:{REGION}:{accounts.source}:ops-pager"
    cloudwatch.put_metric_alarm(
        AlarmName="page-ops", Namespace="Shop", MetricName="Errors",
        Dimensions=[{"Name": "Service", "Value": "payments"}], AlarmActions=[topic], **common,
    )  # fmt: skip
    ghost = "i-0123456789abcdef0"
    cloudwatch.put_metric_alarm(
        AlarmName="ghost-cpu", Namespace="AWS/EC2", MetricName="CPUUtilization",
        Dimensions=[{"Name": "InstanceId", "Value": ghost}], **common,
    )  # fmt: skip
    configure(workdir, accounts, emulator, include=["cloudwatch"])

    code, items = plan_items(ferry, "--strict")
    assert code == 1
    assert items["metric_alarm/checkout-errors"]["action"] == "create"
    assert items["metric_alarm/page-ops"]["action"] == "conflict"
    assert "ops-pager" in text_of(items["metric_alarm/page-ops"]) or "sns" in text_of(items["metric_alarm/page-ops"])
    assert items["metric_alarm/ghost-cpu"]["action"] == "conflict"
    assert ghost in text_of(items["metric_alarm/ghost-cpu"])

    refused = ferry("apply --yes")
    assert refused.returncode == 1 and "conflict" in refused.stderr
    dst = session(accounts.destination)
    assert ci.read_compute(dst, REGION)["metric_alarms"] == {}

    apply_ok(ferry, "--skip-conflicts")
    source, dest = ci.read_compute(session(accounts.source), REGION), ci.read_compute(dst, REGION)
    assert dest["metric_alarms"] == {"checkout-errors": source["metric_alarms"]["checkout-errors"]}


# --- crash safety -------------------------------------------------------------------


@pytest.mark.parametrize("nth", [1, 2], ids=["first-copy", "second-copy"])
def test_killed_during_image_copy_resumes_without_a_second_copy(session, accounts, emulator, workdir, ferry, nth):
    """Killed right after CopyImage was issued in the destination (before
    ferry waited for the copy or recorded it): the next apply finds that
    copy instead of making another."""
    _, ids = build(session, accounts, parts=["images"])
    src, dst = session(accounts.source), session(accounts.destination)
    configure(workdir, accounts, emulator, include=["kms", "image"])

    killed = ferry("apply --yes", env={"FERRY_FAILPOINT": f"image-copy-started:{nth}"}, timeout=300)
    assert killed.returncode == -signal.SIGKILL, "the failpoint must have killed apply"
    resumed = ferry("apply --yes", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run 1" in resumed.stderr

    verify_ok(ferry)
    made = images_made(dst, REGION)
    assert len(made) == len(set(made)) == 2, "one copy per source image"
    assert len(owned_images(dst, REGION)) == 2, "and no untagged copy beside them"
    assert_same(accounts, src, dst, REGION, ci.full_mapping(ferry), kinds=("kms_keys", "images"))
    assert_no_shares(accounts, src)

    rollback_ok(ferry)
    assert owned_images(dst, REGION) == set()
    assert_no_shares(accounts, src)
