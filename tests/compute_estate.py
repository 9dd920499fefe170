"""Build the reference compute estate (the web tier) in a source account,
through boto3 only.

`build_compute_estate` creates what ferry's compute support must replicate
(issue 4) on top of the network estate of tests/estate.py and returns the ids
it created, keyed by a stable short name (``key_app``, ``image_golden``,
``instance_bastion``, ``asg_web`` ...), like estate.build_network_estate:

  kms         a customer-managed key (policy naming the account root,
              rotation on, alias alias/app-data, a tag)
  key_pair    "ops", imported from a public key made here (the private key
              is never written anywhere), and "deploy", made by CreateKeyPair
  iam         roles and instance profiles for the bastion and web servers
  images      "golden-web": an image of a builder instance launched from an
              Amazon image, copied with Encrypted + KmsKeyId = the CMK (the
              builder is terminated, the unencrypted original deregistered);
              "legacy-db": the same original copied with Encrypted and no key,
              i.e. under the account's AWS-managed aws/ebs key
  storage     a standalone snapshot encrypted with the CMK (its volume is
              deleted) and an unattached gp3 volume with IOPS and throughput
  bastion     an instance in a public subnet: key pair, SSH group, instance
              profile, user data, IMDSv2 required, EBS-optimised, detailed
              monitoring, tags; and a status-check alarm on its instance ID
  web         launch configuration (golden image) and auto scaling group of
              two in two private subnets, scale-up/down simple policies, a
              target-tracking policy, CPU high/low alarms acting on the
              simple policies
  db          launch template of three versions (default 2; version 3 runs
              the default-key image), an auto scaling group of one using its
              default version, a lifecycle hook, a scheduled action, a step
              scaling policy and the CPU alarm acting on it

`parts` selects a subset (see PARTS) so tests of one kind build only what they
need. Every call was checked against moto 5.2.5 in server mode with ferry's
shim (emulator/ferry_shim/); where moto differs from AWS, MOTO_GAPS says how
and the estate or the reader (compute_inventory.py) works around it.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable, Iterable

import boto3

SessionFactory = Callable[[str], boto3.Session]

#: Amazon's image the builder and the bastion start from. moto has it, with
#: the same ID, in every region; ferry finds public images again by owner
#: and name, so the ID never matters.
PUBLIC_IMAGE_NAME = "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"
#: A public Amazon image in moto's catalogue that carries marketplace product
#: codes (code123, code456), as a Marketplace AMI does.
MARKETPLACE_IMAGE_NAME = "product_codes_test"

KEY_ALIAS = "alias/app-data"
GOLDEN_IMAGE = "golden-web"
LEGACY_IMAGE = "legacy-db"

#: Every part the estate can be built from; some need others (DEPENDS).
PARTS = ("kms", "key_pair", "iam", "images", "storage", "bastion", "web", "db")
DEPENDS = {
    "images": {"kms"},
    "storage": {"kms"},
    "bastion": {"key_pair", "iam"},
    "web": {"key_pair", "iam", "images"},
    "db": {"key_pair", "images", "kms"},
}
NEEDS_NETWORK = {"bastion", "web", "db"}

#: What moto 5.2.5 (with ferry's shim) does differently from AWS for the calls
#: the compute estate and its reader make.
MOTO_GAPS: dict[str, str] = {
    "PutScalingPolicy": "the response has no PolicyARN (AWS returns it); the "
    "estate reads the ARN back with DescribePolicies",
    "PutLifecycleHook": "NotificationTargetARN, RoleARN and NotificationMetadata "
    "are ignored; DescribeLifecycleHooks reports fixed placeholder ARNs "
    "(arn:aws:sqs:us-east-1:123456789012:my-queue ...) for every hook; the "
    "reader leaves those fields out",
    "CreateLaunchTemplate": "tags given as TagSpecifications are also stored in "
    "version 1's LaunchTemplateData.TagSpecifications as a 'launch-template' "
    "entry (AWS does not allow that resource type there); the reader drops "
    "such entries",
    "CreateTags": "tags added to a launch template afterwards are not reported "
    "by DescribeLaunchTemplates; the estate tags templates at creation",
    "CreateLaunchTemplateVersion": "SourceVersion is ignored (the new version "
    "holds only the data given); the estate gives every version its full data. "
    "UserData of a version made by this call is stored undecoded, and an auto "
    "scaling group (or RunInstances) launching from that version fails with "
    "HTTP 500 (AssertionError in moto); the version the db group launches has "
    "no user data",
    "DescribeImages": "ProductCodes is always empty; DescribeImageAttribute "
    "productCodes and the product-code filter do report an image's codes",
    "CreateImage": "an image made of an instance launched from a Marketplace "
    "image does not inherit its product codes (AWS copies them); no call sets "
    "product codes on an owned image, so an owned Marketplace image cannot be "
    "made: the hard case launches an instance from one instead",
    "RunInstances": "an instance launched from an image with product codes "
    "reports none (AWS: DescribeInstances ProductCodes lists the image's)",
    "CreateKey": "without KeyUsage the key has none (DescribeKey omits it; AWS "
    "defaults to ENCRYPT_DECRYPT); the estate passes it",
    "PutScalingPolicy(TargetTrackingScaling)": "no CloudWatch alarms are made "
    "for the policy (AWS makes two, which ferry must leave to the policy)",
}


# --- helpers ----------------------------------------------------------------


def _tags(kind: str, name: str | None = None, **extra: str) -> list[dict[str, Any]]:
    tags = ([{"Key": "Name", "Value": name}] if name else []) + [
        {"Key": k.replace("_", "-"), "Value": v} for k, v in extra.items()
    ]
    return [{"ResourceType": kind, "Tags": tags}]


def public_image(ec2, name: str = PUBLIC_IMAGE_NAME) -> str:
    """The ID of Amazon's public image `name` in the client's region."""
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [name]}])["Images"]
    assert len(images) == 1, f"expected one public image named {name}: {images}"
    return images[0]["ImageId"]


def openssh_public_key(comment: str) -> str:
    """A fresh ed25519 public key in OpenSSH format. The private half only
    ever lives in this process's memory: the estate needs the public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PrivateKey.generate().public_key()
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{line.decode()} {comment}"


def user_data(text: str) -> str:
    """Base64 user data, as launch templates take it (run_instances and
    launch configurations encode it themselves)."""
    return base64.b64encode(text.encode()).decode()


def default_subnet(ec2, zone: str) -> str:
    subnets = ec2.describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}, {"Name": "availability-zone", "Values": [zone]}]
    )["Subnets"]
    return subnets[0]["SubnetId"]


def policy_arn(autoscaling, group: str, name: str) -> str:
    """moto's PutScalingPolicy answers without PolicyARN: read it back."""
    policies = autoscaling.describe_policies(AutoScalingGroupName=group, PolicyNames=[name])["ScalingPolicies"]
    return policies[0]["PolicyARN"]


def wait_image(ec2, image_id: str) -> None:
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig={"Delay": 1, "MaxAttempts": 60})


# --- parts ------------------------------------------------------------------


def key_policy(account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Id": "app-data",
        "Statement": [
            {
                "Sid": "Enable IAM policies",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Let EC2 in this account use the key",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": account}},
            },
        ],
    }


def build_kms(kms, account: str, ids: dict[str, str]) -> None:
    key = kms.create_key(
        Description="application data at rest",
        KeyUsage="ENCRYPT_DECRYPT",  # AWS's default; moto leaves it unset (MOTO_GAPS)
        KeySpec="SYMMETRIC_DEFAULT",
        Policy=json.dumps(key_policy(account)),
        Tags=[{"TagKey": "team", "TagValue": "platform"}],
    )["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key["KeyId"])
    ids.update(key_app=key["KeyId"], key_app_arn=key["Arn"])


def build_key_pairs(ec2, ids: dict[str, str]) -> None:
    public = openssh_public_key("ops@example")
    ec2.import_key_pair(
        KeyName="ops", PublicKeyMaterial=public.encode(), TagSpecifications=_tags("key-pair", team="ops")
    )
    # Made by AWS: DescribeKeyPairs IncludePublicKey returns its public key too.
    ec2.create_key_pair(KeyName="deploy", KeyType="rsa")
    ids.update(key_pair_ops="ops", key_pair_ops_public=public, key_pair_deploy="deploy")


def _ec2_trust() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
    )


def build_instance_profiles(iam, account: str, ids: dict[str, str]) -> None:
    for name, path in (("bastion", "/ops/"), ("web-server", "/app/")):
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=_ec2_trust(), Tags=[{"Key": "tier", "Value": name}])
        iam.put_role_policy(
            RoleName=name,
            PolicyName="logs",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": f"arn:aws:logs:us-east-1:{account}:log-group:{name}:*"}
                    ],
                }
            ),
        )
        iam.create_instance_profile(InstanceProfileName=name, Path=path)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    ids.update(profile_bastion="bastion", profile_web="web-server")


def build_images(ec2, region: str, ids: dict[str, str]) -> None:
    """golden-web (CMK) and legacy-db (aws/ebs), both copies of an image of a
    builder instance; the builder is terminated and the unencrypted original
    deregistered with its snapshot, as an image pipeline leaves things."""
    builder = ec2.run_instances(
        ImageId=public_image(ec2),
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=default_subnet(ec2, region + "a"),
        TagSpecifications=_tags("instance", "image-builder"),
    )["Instances"][0]["InstanceId"]
    base = ec2.create_image(InstanceId=builder, Name="web-base", Description="web base, unencrypted")["ImageId"]
    wait_image(ec2, base)
    golden = ec2.copy_image(
        SourceImageId=base,
        SourceRegion=region,
        Name=GOLDEN_IMAGE,
        Description="web servers, encrypted with app-data",
        Encrypted=True,
        KmsKeyId=ids["key_app_arn"],
    )["ImageId"]
    legacy = ec2.copy_image(
        SourceImageId=base,
        SourceRegion=region,
        Name=LEGACY_IMAGE,
        Description="database servers, encrypted with the default key",
        Encrypted=True,
    )["ImageId"]
    for image in (golden, legacy):
        wait_image(ec2, image)
    ec2.create_tags(Resources=[golden], Tags=[{"Key": "Name", "Value": GOLDEN_IMAGE}, {"Key": "tier", "Value": "web"}])
    ec2.create_tags(Resources=[legacy], Tags=[{"Key": "Name", "Value": LEGACY_IMAGE}, {"Key": "tier", "Value": "db"}])
    base_snapshot = ec2.describe_images(ImageIds=[base])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    ec2.deregister_image(ImageId=base)
    ec2.delete_snapshot(SnapshotId=base_snapshot)
    ec2.terminate_instances(InstanceIds=[builder])
    ids.update(image_golden=golden, image_legacy=legacy, instance_builder=builder)


def build_storage(ec2, region: str, ids: dict[str, str]) -> None:
    """A standalone snapshot under the CMK (its volume is gone) and an
    unattached gp3 volume with provisioned IOPS and throughput."""
    scratch = ec2.create_volume(
        AvailabilityZone=region + "a", Size=8, VolumeType="gp2", Encrypted=True, KmsKeyId=ids["key_app_arn"]
    )["VolumeId"]
    snapshot = ec2.create_snapshot(
        VolumeId=scratch, Description="db backup 2024-06-01", TagSpecifications=_tags("snapshot", "db-backup", team="data")
    )["SnapshotId"]
    ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ec2.delete_volume(VolumeId=scratch)
    volume = ec2.create_volume(
        AvailabilityZone=region + "b",
        Size=30,
        VolumeType="gp3",
        Iops=4000,
        Throughput=250,
        Encrypted=True,
        KmsKeyId=ids["key_app_arn"],
        TagSpecifications=_tags("volume", "scratch", team="data"),
    )["VolumeId"]
    ids.update(snapshot_backup=snapshot, volume_scratch=volume)


BASTION_USER_DATA = "#!/bin/sh\nyum install -y fail2ban\n"
WEB_USER_DATA = "#!/bin/sh\nsystemctl start nginx\n"


def launch_bastion(ec2, network: dict[str, str], key_name: str = "ops", name: str = "bastion", image: str | None = None) -> str:
    return ec2.run_instances(
        ImageId=image or public_image(ec2),
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=network["subnet_public_a"],
        SecurityGroupIds=[network["sg_bastion"]],
        KeyName=key_name,
        IamInstanceProfile={"Name": "bastion"},
        UserData=BASTION_USER_DATA,
        EbsOptimized=True,
        Monitoring={"Enabled": True},
        MetadataOptions={"HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"},
        TagSpecifications=_tags("instance", name, role="bastion", team="ops"),
    )["Instances"][0]["InstanceId"]


def build_bastion(ec2, cloudwatch, network: dict[str, str], ids: dict[str, str]) -> None:
    bastion = launch_bastion(ec2, network)
    cloudwatch.put_metric_alarm(
        AlarmName="bastion-status-check",
        AlarmDescription="the bastion failed its status checks",
        Namespace="AWS/EC2",
        MetricName="StatusCheckFailed",
        Dimensions=[{"Name": "InstanceId", "Value": bastion}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=2,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="breaching",
        Tags=[{"Key": "team", "Value": "ops"}],
    )
    ids.update(instance_bastion=bastion, alarm_bastion="bastion-status-check")


def _cpu_alarm(cloudwatch, name: str, group: str, operator: str, threshold: float, action: str) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        AlarmDescription=f"{group} CPU {'high' if 'Greater' in operator else 'low'}",
        Namespace="AWS/EC2",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "AutoScalingGroupName", "Value": group}],
        Statistic="Average",
        Period=300,
        EvaluationPeriods=2,
        Threshold=threshold,
        ComparisonOperator=operator,
        Unit="Percent",
        AlarmActions=[action],
        Tags=[{"Key": "tier", "Value": group}],
    )


def build_web(ec2, autoscaling, cloudwatch, network: dict[str, str], ids: dict[str, str]) -> None:
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="web-v1",
        ImageId=ids["image_golden"],
        InstanceType="t3.micro",
        SecurityGroups=[network["sg_web"]],
        KeyName="ops",
        IamInstanceProfile="web-server",
        UserData=WEB_USER_DATA,
        InstanceMonitoring={"Enabled": False},
        EbsOptimized=False,
        MetadataOptions={"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
        BlockDeviceMappings=[
            {"DeviceName": "/dev/xvdb", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "DeleteOnTermination": True, "Encrypted": True}}
        ],
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchConfigurationName="web-v1",
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=f"{network['subnet_private_a']},{network['subnet_private_b']}",
        HealthCheckType="EC2",
        HealthCheckGracePeriod=120,
        DefaultCooldown=200,
        TerminationPolicies=["OldestInstance", "Default"],
        Tags=[
            {"Key": "tier", "Value": "web", "PropagateAtLaunch": True},
            {"Key": "cost-center", "Value": "4200", "PropagateAtLaunch": False},
        ],
    )
    for name, adjustment in (("web-scale-up", 1), ("web-scale-down", -1)):
        autoscaling.put_scaling_policy(
            AutoScalingGroupName="web",
            PolicyName=name,
            PolicyType="SimpleScaling",
            AdjustmentType="ChangeInCapacity",
            ScalingAdjustment=adjustment,
            Cooldown=300,
        )
    autoscaling.put_scaling_policy(
        AutoScalingGroupName="web",
        PolicyName="web-cpu-50",
        PolicyType="TargetTrackingScaling",
        EstimatedInstanceWarmup=90,
        TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": 50.0,
            "DisableScaleIn": False,
        },
    )
    up, down = (policy_arn(autoscaling, "web", n) for n in ("web-scale-up", "web-scale-down"))
    _cpu_alarm(cloudwatch, "web-cpu-high", "web", "GreaterThanThreshold", 70, up)
    _cpu_alarm(cloudwatch, "web-cpu-low", "web", "LessThanThreshold", 20, down)
    ids.update(
        lc_web="web-v1",
        asg_web="web",
        policy_web_up=up,
        policy_web_down=down,
        policy_web_target=policy_arn(autoscaling, "web", "web-cpu-50"),
        alarm_web_high="web-cpu-high",
        alarm_web_low="web-cpu-low",
    )


def _db_version(image: str, instance_type: str, network: dict[str, str], key_arn: str, script: bool = True) -> dict[str, Any]:
    data = {
        "ImageId": image,
        "InstanceType": instance_type,
        "KeyName": "ops",
        "SecurityGroupIds": [network["sg_db"]],
        "EbsOptimized": True,
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
        "BlockDeviceMappings": [
            {
                "DeviceName": "/dev/xvdb",
                "Ebs": {
                    "VolumeSize": 50,
                    "VolumeType": "gp3",
                    "Iops": 4000,
                    "Throughput": 250,
                    "Encrypted": True,
                    "KmsKeyId": key_arn,
                    "DeleteOnTermination": True,
                },
            }
        ],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "tier", "Value": "db"}]}],
    }
    if script:
        data["UserData"] = user_data(f"#!/bin/sh\necho {instance_type} > /etc/db-size\n")
    return data


def build_db(ec2, autoscaling, cloudwatch, network: dict[str, str], ids: dict[str, str]) -> None:
    key = ids["key_app_arn"]
    template = ec2.create_launch_template(
        LaunchTemplateName="db",
        VersionDescription="first cut",
        LaunchTemplateData=_db_version(ids["image_golden"], "t3.small", network, key),
        TagSpecifications=_tags("launch-template", "db", team="data"),
    )["LaunchTemplate"]["LaunchTemplateId"]
    # Every version carries its full data (moto ignores SourceVersion). The
    # default version, which the group launches, has no user data: moto fails
    # to launch from a later version that has some (MOTO_GAPS).
    ec2.create_launch_template_version(
        LaunchTemplateId=template,
        VersionDescription="bigger",
        LaunchTemplateData=_db_version(ids["image_golden"], "t3.medium", network, key, script=False),
    )
    ec2.create_launch_template_version(
        LaunchTemplateId=template,
        VersionDescription="legacy image, on trial",
        LaunchTemplateData=_db_version(ids["image_legacy"], "t3.large", network, key),
    )
    ec2.modify_launch_template(LaunchTemplateId=template, DefaultVersion="2")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="db",
        LaunchTemplate={"LaunchTemplateId": template, "Version": "$Default"},
        MinSize=1,
        MaxSize=2,
        DesiredCapacity=1,
        VPCZoneIdentifier=network["subnet_private_a"],
        HealthCheckType="EC2",
        HealthCheckGracePeriod=300,
        Tags=[{"Key": "tier", "Value": "db", "PropagateAtLaunch": True}],
    )
    autoscaling.put_lifecycle_hook(
        LifecycleHookName="drain-connections",
        AutoScalingGroupName="db",
        LifecycleTransition="autoscaling:EC2_INSTANCE_TERMINATING",
        HeartbeatTimeout=600,
        DefaultResult="CONTINUE",
    )
    autoscaling.put_scheduled_update_group_action(
        AutoScalingGroupName="db",
        ScheduledActionName="weekday-mornings",
        Recurrence="0 7 * * 1-5",
        MinSize=1,
        MaxSize=2,
        DesiredCapacity=2,
    )
    autoscaling.put_scaling_policy(
        AutoScalingGroupName="db",
        PolicyName="db-step",
        PolicyType="StepScaling",
        AdjustmentType="PercentChangeInCapacity",
        MinAdjustmentMagnitude=1,
        MetricAggregationType="Average",
        EstimatedInstanceWarmup=120,
        StepAdjustments=[
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20, "ScalingAdjustment": 50},
            {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 100},
        ],
    )
    step = policy_arn(autoscaling, "db", "db-step")
    _cpu_alarm(cloudwatch, "db-cpu-high", "db", "GreaterThanOrEqualToThreshold", 80, step)
    ids.update(lt_db=template, asg_db="db", policy_db_step=step, alarm_db_high="db-cpu-high")


# --- the whole estate ---------------------------------------------------------


def closure(parts: Iterable[str]) -> set[str]:
    """`parts` and everything they need."""
    out = set(parts)
    unknown = out - set(PARTS)
    assert not unknown, f"unknown parts {unknown}; expected some of {PARTS}"
    while True:
        more = set().union(*(DEPENDS.get(p, set()) for p in out)) - out
        if not more:
            return out
        out |= more


def build_compute_estate(
    session_factory: SessionFactory,
    region: str,
    account: str,
    network: dict[str, str] | None = None,
    parts: Iterable[str] = PARTS,
) -> dict[str, str]:
    """Create the compute estate (or the chosen `parts` of it, with what they
    need); return ``{short name: id}``.

    `network` is what estate.build_network_estate returned for the same
    account and region; the bastion, web and db parts need it.
    """
    chosen = closure(parts)
    if chosen & NEEDS_NETWORK:
        assert network, f"parts {sorted(chosen & NEEDS_NETWORK)} need the network estate"
    session = session_factory(region)
    ec2, kms = session.client("ec2"), session.client("kms")
    autoscaling, cloudwatch = session.client("autoscaling"), session.client("cloudwatch")
    ids: dict[str, str] = {}
    if "kms" in chosen:
        build_kms(kms, account, ids)
    if "key_pair" in chosen:
        build_key_pairs(ec2, ids)
    if "iam" in chosen:
        build_instance_profiles(session.client("iam"), account, ids)
    if "images" in chosen:
        build_images(ec2, region, ids)
    if "storage" in chosen:
        build_storage(ec2, region, ids)
    if "bastion" in chosen:
        build_bastion(ec2, cloudwatch, network, ids)
    if "web" in chosen:
        build_web(ec2, autoscaling, cloudwatch, network, ids)
    if "db" in chosen:
        build_db(ec2, autoscaling, cloudwatch, network, ids)
    return ids
