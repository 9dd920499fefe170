"""An independent reader of an account-region's compute estate, and a
translator, in the manner of tests/inventory.py (which reads the network).

    read_compute(session, region) -> {kind: {key: record}}

Kinds are ``KINDS``; records are keyed by what identifies them in AWS (key
id, key pair name, image id, snapshot id, volume id, instance id, launch
template id, launch configuration name, group name, policy ARN, alarm name).
Only what an account owns and is alive is read: customer-managed KMS keys not
pending deletion, images in the account's name, standalone snapshots (not
behind one of the account's images), unattached volumes, instances not
terminated.

Normalised so that two equivalent estates read the same:
  - a KMS key is named by its key id, or ``aws/ebs`` for the account-region's
    AWS-managed EBS key (each account has its own; "the default key" in one
    is "the default key" in the other);
  - an image something runs is its id when the account owns it, else
    ``public:<name>`` (ferry finds public images again by owner and name;
    their ids differ between regions in AWS);
  - tags without ``aws:`` and ``ferry:`` keys; user data decoded;
  - left out: creation times, ARNs that embed random ids (except policy ARNs,
    which alarms refer to), fingerprints (AWS computes them differently for
    imported and generated keys), snapshot ids behind images (a copy has new
    ones), addresses AWS picks (private IPs unless asked for), and what moto
    reports falsely (compute_estate.MOTO_GAPS).

    translate(src_inventory, mapping, src_account, dst_account, src_region, dst_region)

rewrites a source inventory into the destination's terms through ferry's
mapping (`full_mapping`: "kind/source id" -> destination id): ids, key ids,
policy ARNs, the account and the region. An instance's image becomes the
image ferry made of it (mapping key ``image/<instance id>``).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Callable, Iterable

from inventory import _ID_TOKEN, TranslatedInventory, _canonical, _walk

KINDS = (
    "kms_keys",
    "key_pairs",
    "images",
    "snapshots",
    "volumes",
    "instances",
    "launch_templates",
    "launch_configurations",
    "autoscaling_groups",
    "scaling_policies",
    "metric_alarms",
)

GONE_INSTANCE_STATES = {"terminated", "shutting-down"}
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")

Inventory = dict[str, dict[str, dict[str, Any]]]


def _tags(items: list[dict[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return dict(
        sorted(
            (t[key], t[value])
            for t in items or []
            if not t[key].startswith(("aws:", "ferry:"))
        )
    )


def _decode(data: str | None) -> str | None:
    return base64.b64decode(data).decode() if data else None


def _pages(client, operation: str, key: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(client, operation)(**kwargs).get(key, [])


def _profile_name(name_or_arn: str | None) -> str | None:
    """Templates and configurations take an instance profile by name or by
    ARN, and report it as given; names are unique in an account."""
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn else None


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


class _Reader:
    def __init__(self, session, region: str) -> None:
        self.region = region
        self.ec2 = session.client("ec2", region_name=region)
        self.kms = session.client("kms", region_name=region)
        self.autoscaling = session.client("autoscaling", region_name=region)
        self.cloudwatch = session.client("cloudwatch", region_name=region)
        self.account = session.client("sts", region_name=region).get_caller_identity()["Account"]
        aliases = list(_pages(self.kms, "list_aliases", "Aliases"))
        self.aliases = aliases
        self.ebs_default = next((a.get("TargetKeyId") for a in aliases if a["AliasName"] == "alias/aws/ebs"), None)
        self.owned_images = list(_pages(self.ec2, "describe_images", "Images", Owners=["self"]))
        self._image_cache: dict[str, str] = {}

    # --- references -------------------------------------------------------

    def key(self, key: str | None) -> str | None:
        """A KMS key id, ARN or alias as ``<key id>`` or ``aws/ebs``."""
        if not key:
            return None
        if key.startswith("alias/") or ":alias/" in key:
            name = key.split(":", 5)[-1] if key.startswith("arn:") else key
            key = next((a["TargetKeyId"] for a in self.aliases if a["AliasName"] == name), key)
        key_id = key.rsplit("key/", 1)[-1]
        return "aws/ebs" if key_id == self.ebs_default else key_id

    def image(self, image_id: str | None) -> str | None:
        """An owned image by id, any other by ``public:<name>``."""
        if not image_id:
            return None
        if image_id not in self._image_cache:
            if any(i["ImageId"] == image_id for i in self.owned_images):
                self._image_cache[image_id] = image_id
            else:
                found = self.ec2.describe_images(ImageIds=[image_id])["Images"]
                owned = found and found[0]["OwnerId"] == self.account
                self._image_cache[image_id] = image_id if owned or not found else f"public:{found[0]['Name']}"
        return self._image_cache[image_id]

    def block_devices(self, mappings: list[dict[str, Any]] | None, keys: dict[str, Any] | None = None) -> list[dict]:
        """Block device mappings; `keys` gives snapshot id -> (encrypted, key)
        for images, whose mappings do not name the key."""
        out = []
        for b in mappings or []:
            ebs = b.get("Ebs") or {}
            snapshot = ebs.get("SnapshotId")
            encrypted, key = (keys or {}).get(snapshot, (ebs.get("Encrypted"), ebs.get("KmsKeyId")))
            out.append(
                _drop_none(
                    {
                        "device": b["DeviceName"],
                        "virtual_name": b.get("VirtualName"),
                        "no_device": b.get("NoDevice") or None,
                        "size": ebs.get("VolumeSize"),
                        "type": ebs.get("VolumeType"),
                        "iops": ebs.get("Iops"),
                        "throughput": ebs.get("Throughput"),
                        "delete_on_termination": ebs.get("DeleteOnTermination"),
                        "encrypted": encrypted,
                        "kms_key": self.key(key),
                        # Images carry their own snapshots (a copy has new ones);
                        # templates may start a device from an estate snapshot.
                        "snapshot": None if keys is not None else snapshot,
                    }
                )
            )
        return out

    # --- kinds ------------------------------------------------------------

    def read(self) -> Inventory:
        return {kind: _canonical(getattr(self, kind)()) for kind in KINDS}

    def kms_keys(self) -> dict[str, Any]:
        out = {}
        for k in _pages(self.kms, "list_keys", "Keys"):
            meta = self.kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
            if meta.get("KeyManager") != "CUSTOMER" or meta["KeyState"] in ("PendingDeletion", "PendingReplicaDeletion"):
                continue
            key_id = meta["KeyId"]
            policy = self.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
            out[key_id] = {
                "description": meta.get("Description"),
                "state": meta["KeyState"],
                "usage": meta.get("KeyUsage"),
                "spec": meta.get("KeySpec"),
                "origin": meta.get("Origin"),
                "policy": json.loads(policy),
                "rotation": self.kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"],
                "aliases": [a["AliasName"] for a in self.aliases if a.get("TargetKeyId") == key_id],
                "tags": _tags(self.kms.list_resource_tags(KeyId=key_id).get("Tags"), "TagKey", "TagValue"),
            }
        return out

    def key_pairs(self) -> dict[str, Any]:
        return {
            k["KeyName"]: {
                # The comment after the key is free text; the key is type + body.
                "public_key": " ".join((k.get("PublicKey") or "").split()[:2]) or None,
                "tags": _tags(k.get("Tags")),
            }
            for k in self.ec2.describe_key_pairs(IncludePublicKey=True)["KeyPairs"]
        }

    def _snapshot_keys(self, snapshot_ids: list[str]) -> dict[str, tuple[bool, str | None]]:
        if not snapshot_ids:
            return {}
        found = self.ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]
        return {s["SnapshotId"]: (s.get("Encrypted", False), s.get("KmsKeyId")) for s in found}

    def images(self) -> dict[str, Any]:
        out = {}
        for i in self.owned_images:
            if i["State"] in ("deregistered", "failed", "disabled"):
                continue
            snapshots = [b["Ebs"]["SnapshotId"] for b in i.get("BlockDeviceMappings", []) if b.get("Ebs", {}).get("SnapshotId")]
            out[i["ImageId"]] = {
                "name": i.get("Name"),
                "description": i.get("Description") or None,
                "architecture": i.get("Architecture"),
                "virtualization": i.get("VirtualizationType"),
                "root_device": i.get("RootDeviceName"),
                "block_devices": self.block_devices(i.get("BlockDeviceMappings"), self._snapshot_keys(snapshots)),
                "tags": _tags(i.get("Tags")),
            }
        return out

    def image_snapshots(self) -> set[str]:
        return {
            b["Ebs"]["SnapshotId"]
            for i in self.owned_images
            for b in i.get("BlockDeviceMappings", [])
            if b.get("Ebs", {}).get("SnapshotId")
        }

    def snapshots(self) -> dict[str, Any]:
        behind_images = self.image_snapshots()
        return {
            s["SnapshotId"]: {
                "description": s.get("Description") or None,
                "size": s["VolumeSize"],
                "encrypted": s.get("Encrypted", False),
                "kms_key": self.key(s.get("KmsKeyId")),
                "tags": _tags(s.get("Tags")),
            }
            for s in _pages(self.ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"])
            if s["SnapshotId"] not in behind_images and s.get("State") != "error"
        }

    def volumes(self) -> dict[str, Any]:
        return {
            v["VolumeId"]: {
                "zone": v["AvailabilityZone"],
                "size": v["Size"],
                "type": v["VolumeType"],
                "iops": v.get("Iops") if v["VolumeType"] in ("gp3", "io1", "io2") else None,
                "throughput": v.get("Throughput") if v["VolumeType"] == "gp3" else None,
                "encrypted": v.get("Encrypted", False),
                "kms_key": self.key(v.get("KmsKeyId")),
                "multi_attach": v.get("MultiAttachEnabled", False),
                "tags": _tags(v.get("Tags")),
            }
            for v in _pages(self.ec2, "describe_volumes", "Volumes")
            if not v.get("Attachments") and v["State"] in ("available", "creating")
        }

    def instances(self) -> dict[str, Any]:
        out = {}
        for reservation in _pages(self.ec2, "describe_instances", "Reservations"):
            for i in reservation["Instances"]:
                if i["State"]["Name"] in GONE_INSTANCE_STATES:
                    continue
                iid = i["InstanceId"]
                data = self.ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData").get("UserData", {})
                meta = i.get("MetadataOptions", {})
                tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                out[iid] = {
                    "subnet": i.get("SubnetId"),
                    "zone": i["Placement"]["AvailabilityZone"],
                    "type": i["InstanceType"],
                    "image": self.image(i.get("ImageId")),
                    "groups": sorted(g["GroupId"] for g in i.get("SecurityGroups", [])),
                    "key": i.get("KeyName"),
                    "profile": i.get("IamInstanceProfile", {}).get("Arn"),
                    "user_data": _decode(data.get("Value")),
                    "ebs_optimized": i.get("EbsOptimized", False),
                    "monitoring": i.get("Monitoring", {}).get("State") == "enabled",
                    "metadata": {
                        "http_tokens": meta.get("HttpTokens"),
                        "http_endpoint": meta.get("HttpEndpoint"),
                        "hop_limit": meta.get("HttpPutResponseHopLimit"),
                        "instance_tags": meta.get("InstanceMetadataTags"),
                    },
                    "source_dest_check": i.get("SourceDestCheck"),
                    "private_ip": i.get("PrivateIpAddress"),
                    "group": tags.get("aws:autoscaling:groupName"),
                    "state": i["State"]["Name"],
                    "tags": _tags(i.get("Tags")),
                }
        return out

    def _template_data(self, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        if "ImageId" in data:
            data["ImageId"] = self.image(data["ImageId"])
        if "UserData" in data:
            data["UserData"] = _decode(data["UserData"])
        if "BlockDeviceMappings" in data:
            data["BlockDeviceMappings"] = self.block_devices(data["BlockDeviceMappings"])
        if "IamInstanceProfile" in data:
            given = data["IamInstanceProfile"]
            data["IamInstanceProfile"] = _profile_name(given.get("Arn") or given.get("Name"))
        specs = [
            {"ResourceType": s["ResourceType"], "Tags": _tags(s.get("Tags"))}
            for s in data.get("TagSpecifications", [])
            # moto copies the template's own tags here (MOTO_GAPS).
            if s["ResourceType"] != "launch-template"
        ]
        if specs or "TagSpecifications" in data:
            data["TagSpecifications"] = specs
        if not data.get("TagSpecifications"):
            data.pop("TagSpecifications", None)
        return data

    def launch_templates(self) -> dict[str, Any]:
        out = {}
        for t in _pages(self.ec2, "describe_launch_templates", "LaunchTemplates"):
            versions = _pages(
                self.ec2, "describe_launch_template_versions", "LaunchTemplateVersions", LaunchTemplateId=t["LaunchTemplateId"]
            )
            out[t["LaunchTemplateId"]] = {
                "name": t["LaunchTemplateName"],
                "default_version": t["DefaultVersionNumber"],
                "latest_version": t["LatestVersionNumber"],
                "tags": _tags(t.get("Tags")),
                "versions": {
                    str(v["VersionNumber"]): {
                        "description": v.get("VersionDescription"),
                        "data": self._template_data(v.get("LaunchTemplateData", {})),
                    }
                    for v in versions
                },
            }
        return out

    def launch_configurations(self) -> dict[str, Any]:
        out = {}
        for c in _pages(self.autoscaling, "describe_launch_configurations", "LaunchConfigurations"):
            out[c["LaunchConfigurationName"]] = _drop_none(
                {
                    "image": self.image(c["ImageId"]),
                    "type": c["InstanceType"],
                    "groups": sorted(c.get("SecurityGroups", [])),
                    "key": c.get("KeyName") or None,
                    "profile": _profile_name(c.get("IamInstanceProfile")),
                    "user_data": _decode(c.get("UserData")),
                    "monitoring": c.get("InstanceMonitoring", {}).get("Enabled"),
                    "ebs_optimized": c.get("EbsOptimized"),
                    "public_ip": c.get("AssociatePublicIpAddress"),
                    "metadata": c.get("MetadataOptions"),
                    "spot_price": c.get("SpotPrice"),
                    "tenancy": c.get("PlacementTenancy"),
                    "block_devices": self.block_devices(c.get("BlockDeviceMappings")),
                }
            )
        return out

    def autoscaling_groups(self) -> dict[str, Any]:
        out = {}
        for g in _pages(self.autoscaling, "describe_auto_scaling_groups", "AutoScalingGroups"):
            name = g["AutoScalingGroupName"]
            template = g.get("LaunchTemplate")
            hooks = self.autoscaling.describe_lifecycle_hooks(AutoScalingGroupName=name)["LifecycleHooks"]
            scheduled = _pages(self.autoscaling, "describe_scheduled_actions", "ScheduledUpdateGroupActions", AutoScalingGroupName=name)
            out[name] = {
                "min": g["MinSize"],
                "max": g["MaxSize"],
                "desired": g["DesiredCapacity"],
                "instances": len(g.get("Instances", [])),
                "subnets": sorted(s for s in (g.get("VPCZoneIdentifier") or "").split(",") if s),
                "zones": sorted(g.get("AvailabilityZones", [])),
                "launch_configuration": g.get("LaunchConfigurationName"),
                "launch_template": {"id": template["LaunchTemplateId"], "version": template.get("Version")} if template else None,
                "health_check": g["HealthCheckType"],
                "grace": g.get("HealthCheckGracePeriod"),
                "cooldown": g.get("DefaultCooldown"),
                # Order matters (AWS applies them in turn), and every list
                # here is sorted as a set: one string keeps the order.
                "termination_policies": " > ".join(g.get("TerminationPolicies", [])),
                "load_balancers": sorted(g.get("LoadBalancerNames", [])),
                "target_groups": sorted(g.get("TargetGroupARNs", [])),
                "protect_new_instances": g.get("NewInstancesProtectedFromScaleIn"),
                "tags": {
                    t["Key"]: {"value": t["Value"], "propagate": t["PropagateAtLaunch"]}
                    for t in g.get("Tags", [])
                    if not t["Key"].startswith(("aws:", "ferry:"))
                },
                # Not NotificationTargetARN / RoleARN: moto reports placeholders.
                "lifecycle_hooks": {
                    h["LifecycleHookName"]: {
                        "transition": h["LifecycleTransition"],
                        "heartbeat": h.get("HeartbeatTimeout"),
                        "default_result": h.get("DefaultResult"),
                    }
                    for h in hooks
                },
                "scheduled_actions": {
                    a["ScheduledActionName"]: _drop_none(
                        {
                            "recurrence": a.get("Recurrence"),
                            "min": a.get("MinSize"),
                            "max": a.get("MaxSize"),
                            "desired": a.get("DesiredCapacity"),
                            "time_zone": a.get("TimeZone"),
                        }
                    )
                    for a in scheduled
                },
            }
        return out

    def scaling_policies(self) -> dict[str, Any]:
        out = {}
        for p in _pages(self.autoscaling, "describe_policies", "ScalingPolicies"):
            out[p["PolicyARN"]] = _drop_none(
                {
                    "group": p["AutoScalingGroupName"],
                    "name": p["PolicyName"],
                    "type": p.get("PolicyType"),
                    "adjustment_type": p.get("AdjustmentType"),
                    "adjustment": p.get("ScalingAdjustment"),
                    "min_adjustment_magnitude": p.get("MinAdjustmentMagnitude"),
                    "cooldown": p.get("Cooldown"),
                    "metric_aggregation": p.get("MetricAggregationType"),
                    "warmup": p.get("EstimatedInstanceWarmup"),
                    "steps": p.get("StepAdjustments") or None,
                    "target_tracking": p.get("TargetTrackingConfiguration"),
                    "enabled": p.get("Enabled"),
                }
            )
        return out

    def metric_alarms(self) -> dict[str, Any]:
        out = {}
        for a in _pages(self.cloudwatch, "describe_alarms", "MetricAlarms"):
            tags = self.cloudwatch.list_tags_for_resource(ResourceARN=a["AlarmArn"]).get("Tags")
            out[a["AlarmName"]] = _drop_none(
                {
                    "description": a.get("AlarmDescription"),
                    "namespace": a.get("Namespace"),
                    "metric": a.get("MetricName"),
                    "statistic": a.get("Statistic"),
                    "extended_statistic": a.get("ExtendedStatistic"),
                    "period": a.get("Period"),
                    "evaluation_periods": a.get("EvaluationPeriods"),
                    "datapoints_to_alarm": a.get("DatapointsToAlarm"),
                    "threshold": a.get("Threshold"),
                    "comparison": a.get("ComparisonOperator"),
                    "treat_missing_data": a.get("TreatMissingData"),
                    "unit": a.get("Unit"),
                    "dimensions": {d["Name"]: d["Value"] for d in a.get("Dimensions", [])},
                    "actions_enabled": a.get("ActionsEnabled"),
                    "alarm_actions": sorted(a.get("AlarmActions", [])),
                    "ok_actions": sorted(a.get("OKActions", [])),
                    "insufficient_data_actions": sorted(a.get("InsufficientDataActions", [])),
                    "tags": _tags(tags),
                }
            )
        return out


def read_compute(session, region: str) -> Inventory:
    """Everything compute in one account-region, normalised (module doc)."""
    return _Reader(session, region).read()


def image_snapshots(session, region: str) -> set[str]:
    """The snapshot ids behind the images the account owns."""
    return _Reader(session, region).image_snapshots()


# --- the mapping and translation -------------------------------------------


def full_mapping(ferry: Callable) -> dict[str, str]:
    """``ferry mapping --output json`` as {"kind/source id": destination id}.

    Kinds are kept: the image ferry makes of an instance is keyed
    ``image/<instance id>`` beside ``instance/<instance id>``.
    """
    result = ferry("mapping --output json")
    assert result.returncode == 0, result.stderr
    return {m["source_key"]: m["dest_id"] for m in json.loads(result.stdout)}


def flat(mapping: dict[str, str]) -> dict[str, str]:
    """Source id -> destination id, without the images made of instances."""
    return {
        key.split("/", 1)[1]: dest
        for key, dest in mapping.items()
        if not (key.startswith("image/") and key.split("/", 1)[1].startswith("i-"))
    }


def select(inventory: Inventory, keys: Iterable[str]) -> Inventory:
    wanted = set(keys)
    return {kind: {k: v for k, v in records.items() if k in wanted} for kind, records in inventory.items()}


def translate(
    src_inventory: Inventory,
    mapping: dict[str, str],
    src_account: str,
    dst_account: str,
    src_region: str,
    dst_region: str,
) -> TranslatedInventory:
    """The source inventory as the destination should read, through ferry's
    `mapping` ("kind/id" keys, as full_mapping returns). Ids, key ids and
    policy ARNs the mapping lacks are kept and listed in ``unmapped``.
    Zones keep their letter."""
    ids = flat(mapping)
    ids[src_account] = dst_account
    unmapped: set[str] = set()

    def token(match: re.Match[str]) -> str:
        found = match.group(0)
        if found in ids:
            return ids[found]
        unmapped.add(found)
        return found

    def rewrite(text: str) -> str:
        if text in ids:
            return ids[text]
        if text.startswith("arn:aws:autoscaling:") and ":scalingPolicy:" in text:
            unmapped.add(text)  # a policy must be mapped as a whole
            return text
        text = UUID.sub(token, _ID_TOKEN.sub(token, text))
        return text.replace(src_region, dst_region)

    # An instance runs, in the destination, the image ferry made of it.
    made = {}
    source = {kind: dict(records) for kind, records in src_inventory.items()}
    for iid, record in source.get("instances", {}).items():
        source["instances"][iid] = {k: v for k, v in record.items() if k != "image"}
        made[ids.get(iid, iid)] = mapping.get(f"image/{iid}")
        if made[ids.get(iid, iid)] is None:
            unmapped.add(f"image/{iid}")
    translated = _walk(source, rewrite)
    for iid, record in translated.get("instances", {}).items():
        record["image"] = made.get(iid)
    result = TranslatedInventory(_canonical(translated))
    result.unmapped = unmapped
    return result


def compare(expected: Inventory, actual: Inventory) -> list[str]:
    """Per-record differences, readable in a failed assertion."""
    out = []
    for kind in sorted(set(expected) | set(actual)):
        e, a = expected.get(kind, {}), actual.get(kind, {})
        for key in sorted(set(e) | set(a)):
            if e.get(key) != a.get(key):
                out.append(f"{kind}/{key}:\n  expected {json.dumps(e.get(key), sort_keys=True)}\n  actual   {json.dumps(a.get(key), sort_keys=True)}")
    return out


# --- what ferry may leave behind in the source ------------------------------


def shares(session, region: str, account: str) -> list[str]:
    """Launch permissions, create-volume permissions and KMS grants that the
    source still gives `account` (ferry's temporaries must all be gone)."""
    ec2 = session.client("ec2", region_name=region)
    kms = session.client("kms", region_name=region)
    out = []
    for image in ec2.describe_images(Owners=["self"])["Images"]:
        permissions = ec2.describe_image_attribute(ImageId=image["ImageId"], Attribute="launchPermission")["LaunchPermissions"]
        out += [f"launch permission on {image['ImageId']}: {p}" for p in permissions if p.get("UserId") == account or p.get("Group") == "all"]
    for snapshot in _pages(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"]):
        permissions = ec2.describe_snapshot_attribute(SnapshotId=snapshot["SnapshotId"], Attribute="createVolumePermission")[
            "CreateVolumePermissions"
        ]
        out += [
            f"create-volume permission on {snapshot['SnapshotId']}: {p}"
            for p in permissions
            if p.get("UserId") == account or p.get("Group") == "all"
        ]
    for key in _pages(kms, "list_keys", "Keys"):
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta.get("KeyManager") != "CUSTOMER" or meta["KeyState"] == "PendingDeletion":
            continue
        for grant in kms.list_grants(KeyId=key["KeyId"]).get("Grants", []):
            if account in json.dumps(grant, default=str):
                out.append(f"KMS grant on {key['KeyId']}: {grant.get('GranteePrincipal')}")
    return out


def ferry_made(session, region: str) -> dict[str, list[str]]:
    """The ferry:source tag values of live compute resources that carry tags
    in the account (what rollback must remove), by kind."""
    ec2 = session.client("ec2", region_name=region)
    autoscaling = session.client("autoscaling", region_name=region)
    kms = session.client("kms", region_name=region)
    cloudwatch = session.client("cloudwatch", region_name=region)

    def source(tags, key="Key", value="Value") -> list[str]:
        return [t[value] for t in tags or [] if t[key] == "ferry:source"]

    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for i in ec2.describe_images(Owners=["self"])["Images"]:
        out["images"] += source(i.get("Tags"))
    for s in _pages(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"]):
        out["snapshots"] += source(s.get("Tags"))
    for v in _pages(ec2, "describe_volumes", "Volumes"):
        if v["State"] not in ("deleted", "deleting"):
            out["volumes"] += source(v.get("Tags"))
    for r in _pages(ec2, "describe_instances", "Reservations"):
        for i in r["Instances"]:
            if i["State"]["Name"] not in GONE_INSTANCE_STATES:
                out["instances"] += source(i.get("Tags"))
    for k in ec2.describe_key_pairs()["KeyPairs"]:
        out["key_pairs"] += source(k.get("Tags"))
    for t in _pages(ec2, "describe_launch_templates", "LaunchTemplates"):
        out["launch_templates"] += source(t.get("Tags"))
    for g in _pages(autoscaling, "describe_auto_scaling_groups", "AutoScalingGroups"):
        out["autoscaling_groups"] += source(g.get("Tags"))
    for k in _pages(kms, "list_keys", "Keys"):
        meta = kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
        if meta.get("KeyManager") == "CUSTOMER" and meta["KeyState"] != "PendingDeletion":
            out["kms_keys"] += source(kms.list_resource_tags(KeyId=k["KeyId"]).get("Tags"), "TagKey", "TagValue")
    for a in _pages(cloudwatch, "describe_alarms", "MetricAlarms"):
        out["metric_alarms"] += source(cloudwatch.list_tags_for_resource(ResourceARN=a["AlarmArn"]).get("Tags"))
    return {k: sorted(v) for k, v in out.items() if v}
