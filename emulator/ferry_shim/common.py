"""Shared pieces of the shim: the share registry, the grantee's view of a shared
resource, and KMS key helpers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from moto.ec2.exceptions import InvalidParameterDependency
from moto.ec2.models import ec2_backends
from moto.ec2.models.core import TaggedEC2Resource
from moto.kms.models import kms_backends

# --- where shared resources live ----------------------------------------------
#
# moto keeps ec2_backends[account][region] apart. Scanning every account for a
# shared image would walk ~1300 built-in AMIs (and their snapshots) per
# account-region, so the shim remembers what was ever shared instead:
# (kind, owner account, region, resource id), recorded when a permission is
# added. Lookups re-check the live permission on the live resource, so a
# withdrawn share, a deleted resource or a moto reset leaves only harmless
# stale entries.

_shared: set[tuple[str, str, str, str]] = set()
_lock = threading.Lock()


def remember_share(kind: str, owner: str, region: str, resource_id: str) -> None:
    with _lock:
        _shared.add((kind, owner, region, resource_id))


def _candidates(kind: str, region: str, resource_id: str | None) -> list[tuple[str, str]]:
    with _lock:
        entries = list(_shared)
    return [
        (owner, rid)
        for k, owner, r, rid in entries
        if k == kind and r == region and (resource_id is None or rid == resource_id)
    ]


def existing(backends: Any, account: str, region: str) -> Any:
    """backends[account][region] if it exists, without creating it (moto's
    BackendDict creates on access)."""
    per_account = dict.get(backends, account)
    return None if per_account is None else dict.get(per_account, region)


def can_launch(ami: Any, account: str) -> bool:
    """`account` holds a launch permission: its own id, or the group all."""
    return any(
        lp.get("Group") == "all" or lp.get("UserId") == account for lp in ami.launch_permissions
    )


def can_restore(snapshot: Any, account: str) -> bool:
    """`account` holds createVolumePermission: its own id, or the group all."""
    return (
        account in snapshot.create_volume_permission_userids
        or "all" in snapshot.create_volume_permission_groups
    )


def shared_images(caller: str, region: str, image_id: str | None = None) -> Iterator[Any]:
    """Images of other accounts in `region` that `caller` may launch."""
    for owner, rid in _candidates("image", region, image_id):
        backend = existing(ec2_backends, owner, region) if owner != caller else None
        ami = backend.amis.get(rid) if backend is not None else None
        if ami is not None and can_launch(ami, caller):
            yield ami


def shared_snapshots(caller: str, region: str, snapshot_id: str | None = None) -> Iterator[Any]:
    """Snapshots of other accounts in `region` that `caller` may restore."""
    for owner, rid in _candidates("snapshot", region, snapshot_id):
        backend = existing(ec2_backends, owner, region) if owner != caller else None
        snapshot = backend.snapshots.get(rid) if backend is not None else None
        if snapshot is not None and can_restore(snapshot, caller):
            yield snapshot


class GranteeView:
    """A shared image or snapshot as the account it is shared with sees it.

    AWS: "You can't share user-defined tags" (Share an AMI with specific AWS
    accounts); a grantee sees only the tags it added itself. Everything else is
    read from the owner's resource.
    """

    def __init__(self, resource: Any, viewer_backend: Any) -> None:
        self.__dict__["_resource"] = resource
        self.__dict__["_viewer"] = viewer_backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_resource"], name)

    def get_tags(self) -> list[dict[str, str]]:
        return self._viewer.describe_tags(filters={"resource-id": [self._resource.id]})

    @property
    def tag_set(self) -> list[dict[str, str]]:
        return self.get_tags()

    @property
    def tag_list(self) -> list[dict[str, str]]:
        return self.get_tags()

    def get_filter_value(self, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name.startswith("tag"):
            return TaggedEC2Resource.get_filter_value(self, filter_name, method_name)  # type: ignore[arg-type]
        return self._resource.get_filter_value(filter_name, method_name)


# --- KMS keys ------------------------------------------------------------------


def key_arn(account: str, region: str, key_id: str) -> str | None:
    """The ARN of the KMS key `key_id` (key id, key ARN, alias name or alias ARN)
    that `account` names for an EBS copy into `region`; None when there is no
    such key there. A key of another account is named by ARN.

    AWS (CopyImage, CopySnapshot): "The specified KMS key must exist in the
    destination Region"; DescribeSnapshots reports the key by its ARN.
    """
    key_account, key_region = account, region
    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        if len(parts) < 6:
            return None
        key_region, key_account = parts[3], parts[4]
    if key_region != region:
        return None
    kms = (
        kms_backends[account][region]
        if key_account == account
        else existing(kms_backends, key_account, region)
    )
    try:
        return kms.describe_key(key_id).arn  # type: ignore[union-attr]
    except Exception:  # moto raises KeyError, AttributeError... for unknown ids
        return None


def default_ebs_key(backend: Any) -> str:
    """The ARN of the account-region's default KMS key for EBS encryption (the
    AWS managed alias/aws/ebs key unless ModifyEbsDefaultKmsKeyId changed it)."""
    return backend.default_kms_key_id or backend._create_default_encryption_key()


def is_aws_managed_key(arn: str | None) -> bool:
    if not arn or not arn.startswith("arn:") or ":key/" not in arn:
        return False
    parts = arn.split(":")
    kms = existing(kms_backends, parts[4], parts[3])
    key = kms.keys.get(arn.split(":key/", 1)[1]) if kms is not None else None
    return key is not None and key.key_manager == "AWS"


def encrypted_with_aws_managed_key(snapshot: Any) -> bool:
    """Encrypted under an AWS managed key. An encrypted snapshot without a key
    comes from a moto path that dropped it; in AWS that is the default key."""
    return bool(snapshot.encrypted) and (
        not snapshot.kms_key_id or is_aws_managed_key(snapshot.kms_key_id)
    )


def copy_encryption(
    destination: Any,
    source_snapshot: Any,
    same_owner_and_region: bool,
    encrypted: bool,
    kms_key_id: str | None,
) -> tuple[bool, str | None, bool]:
    """(encrypted, key ARN, key usable) of a copy of `source_snapshot` made by
    `destination` (the caller's EC2 backend in the destination Region).

    AWS (CopyImage and CopySnapshot API reference; "Use encryption with
    EBS-backed AMIs"; "Amazon EBS encryption"): KmsKeyId needs Encrypted=true;
    copies of encrypted snapshots are encrypted even without Encrypted; with
    KmsKeyId the copy is encrypted under that key, otherwise under the account's
    default KMS key for EBS, except that an encrypted snapshot you own keeps its
    key within its Region. AWS "parses KmsKeyId asynchronously": the request
    succeeds with a key it cannot use and the copy fails later, hence the third
    value (False: the caller marks the copy failed).
    """
    if kms_key_id and not encrypted:
        raise InvalidParameterDependency("KmsKeyId", "Encrypted")
    if kms_key_id:
        arn = key_arn(destination.account_id, destination.region_name, kms_key_id)
        return True, arn, arn is not None
    if not (encrypted or source_snapshot.encrypted):
        return False, None, True
    if source_snapshot.encrypted and same_owner_and_region and source_snapshot.kms_key_id:
        return True, source_snapshot.kms_key_id, True
    return True, default_ebs_key(destination), True
