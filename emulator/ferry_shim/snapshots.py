"""EBS snapshots: sharing across accounts, and encryption of copies.

Patches moto.ec2.models.elastic_block_store.EBSBackend and the ElasticBlockStore
responses. Every patch follows one documented AWS behaviour, quoted below.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.exceptions import (
    InvalidParameterDependency,
    InvalidSnapshotIdError,
    OperationNotPermitted,
)
from moto.ec2.models import ec2_backends
from moto.ec2.models.elastic_block_store import EBSBackend, Snapshot
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
from moto.ec2.utils import generic_filter, random_snapshot_id

from .common import (
    GranteeView,
    copy_encryption,
    encrypted_with_aws_managed_key,
    key_arn,
    remember_share,
    shared_snapshots,
)


def shared_snapshot(backend: Any, snapshot_id: str, region: str | None = None) -> Any:
    """The snapshot `snapshot_id` of another account in `region` (default: the
    backend's) that the backend's account may restore, else None."""
    region = region or backend.region_name
    return next(shared_snapshots(backend.account_id, region, snapshot_id), None)


def apply() -> None:
    _create_snapshot()
    _describe_snapshots()
    _create_volume()
    _copy_snapshot()
    _modify_snapshot_attribute()


def _create_snapshot() -> None:
    # AWS ("Amazon EBS encryption"): snapshots of an encrypted volume are
    # encrypted under the volume's KMS key. moto keeps the flag, drops the key.
    original = EBSBackend.create_snapshot

    def create_snapshot(self: Any, volume_id: str, description: str, *args: Any, **kwargs: Any) -> Snapshot:
        snapshot = original(self, volume_id, description, *args, **kwargs)
        if snapshot.encrypted and not snapshot.kms_key_id:
            snapshot.kms_key_id = snapshot.volume.kms_key_id
        return snapshot

    EBSBackend.create_snapshot = create_snapshot  # type: ignore[method-assign]


def _describe_snapshots() -> None:
    # AWS (DescribeSnapshots): lists the snapshots available to you: yours and
    # those shared with you (createVolumePermission for your account or for
    # all). OwnerIds keeps those of the given owners ("self" = you);
    # RestorableByUserIds keeps those the given accounts may restore ("self":
    # yours and those shared with you explicitly; "all": public; an account id:
    # yours that it may restore). SnapshotIds finds a shared snapshot too.
    # moto lists only the caller's own account-region and ignores OwnerIds and
    # RestorableByUserIds.
    def describe_snapshots(
        self: Any,
        snapshot_ids: list[str] | None = None,
        filters: Any = None,
        owner_ids: list[str] | None = None,
        restorable_by: list[str] | None = None,
    ) -> list[Any]:
        caller = self.account_id
        if snapshot_ids:
            found: dict[str, Any] = {}
            for snapshot_id in snapshot_ids:
                if snapshot_id in self.snapshots:
                    found[snapshot_id] = self.snapshots[snapshot_id]
                elif (shared := shared_snapshot(self, snapshot_id)) is not None:
                    found[snapshot_id] = GranteeView(shared, self)
            if len(set(snapshot_ids)) > len(found):
                raise InvalidSnapshotIdError()
            matches = list(found.values())
        else:
            matches = list(self.snapshots.values()) + [
                GranteeView(s, self)
                for s in shared_snapshots(caller, self.region_name)
                if s.id not in self.snapshots
            ]
        if owner_ids:
            owners = {caller if o == "self" else o for o in owner_ids}
            matches = [s for s in matches if s.owner_id in owners]
        if restorable_by:
            users = set(restorable_by)

            def restorable(s: Any) -> bool:
                if "self" in users and (
                    s.owner_id == caller or caller in s.create_volume_permission_userids
                ):
                    return True
                if "all" in users and "all" in s.create_volume_permission_groups:
                    return True
                return s.owner_id == caller and bool(users & s.create_volume_permission_userids)

            matches = [s for s in matches if restorable(s)]
        if filters:
            matches = generic_filter(filters, matches)
        return matches

    EBSBackend.describe_snapshots = describe_snapshots  # type: ignore[method-assign]

    def describe_snapshots_response(self: ElasticBlockStore) -> ActionResult:
        snapshots = self.ec2_backend.describe_snapshots(
            snapshot_ids=self._get_param("SnapshotIds", []),
            filters=self._filters_from_querystring(),
            owner_ids=self._get_param("OwnerIds", []),
            restorable_by=self._get_param("RestorableByUserIds", []),
        )
        return ActionResult({"Snapshots": snapshots})

    ElasticBlockStore.describe_snapshots = describe_snapshots_response  # type: ignore[method-assign]


def _create_volume() -> None:
    # AWS (CreateVolume, "Encryption outcomes"): you may create a volume from a
    # snapshot shared with you; from an encrypted snapshot shared with you the
    # volume is encrypted under your default KMS key for EBS, from an encrypted
    # snapshot you own under the same key, unless KmsKeyId names another
    # (KmsKeyId needs Encrypted=true). DescribeVolumes reports the key by ARN.
    # moto only finds its own snapshots, leaves a volume from an encrypted
    # snapshot without a key and keeps KmsKeyId as given (an alias, say).
    original = EBSBackend.create_volume

    def create_volume(
        self: Any,
        size: int,
        zone_name: str,
        snapshot_id: str | None = None,
        encrypted: bool = False,
        kms_key_id: str | None = None,
        **options: Any,
    ) -> Any:
        if snapshot_id and snapshot_id not in self.snapshots:
            shared = shared_snapshot(self, snapshot_id)
            if shared is not None:
                if kms_key_id and not encrypted:
                    raise InvalidParameterDependency("KmsKeyId", "Encrypted")
                volume = original(
                    self,
                    size=shared.volume_size if size is None else size,
                    zone_name=zone_name,
                    snapshot_id=None,
                    encrypted=encrypted or shared.encrypted,
                    kms_key_id=kms_key_id,
                    **options,
                )
                volume.snapshot_id = snapshot_id
                return _key_by_arn(self, volume)
        volume = original(self, size, zone_name, snapshot_id, encrypted, kms_key_id, **options)
        own = self.snapshots.get(snapshot_id) if snapshot_id else None
        if own is not None and own.encrypted and own.kms_key_id and not kms_key_id:
            volume.kms_key_id = own.kms_key_id
        return _key_by_arn(self, volume)

    def _key_by_arn(backend: Any, volume: Any) -> Any:
        if volume.kms_key_id:
            volume.kms_key_id = (
                key_arn(backend.account_id, backend.region_name, volume.kms_key_id)
                or volume.kms_key_id
            )
        return volume

    EBSBackend.create_volume = create_volume  # type: ignore[method-assign]


def _copy_snapshot() -> None:
    # AWS (CopySnapshot): copies a snapshot you own or one shared with you
    # (createVolumePermission), from SourceRegion into the caller's Region; the
    # copy is yours. Without a permission: InvalidSnapshot.NotFound. Encrypted
    # and KmsKeyId decide the copy's encryption (common.copy_encryption); a key
    # AWS cannot use fails the copy after the request (status "error").
    # moto looks in the caller's own account only and ignores Encrypted.
    def copy_snapshot(
        self: Any,
        source_snapshot_id: str,
        source_region: str,
        description: str,
        kms_key_id: str | None,
        encrypted: bool = False,
    ) -> Snapshot:
        source = ec2_backends[self.account_id][source_region].snapshots.get(source_snapshot_id)
        own = source is not None
        if source is None:
            source = shared_snapshot(self, source_snapshot_id, source_region)
        if source is None:
            raise InvalidSnapshotIdError()
        is_encrypted, key, usable = copy_encryption(
            self, source, own and source_region == self.region_name, encrypted, kms_key_id
        )
        snapshot = Snapshot(
            self,
            random_snapshot_id(),
            volume=source.volume,
            description=description,
            encrypted=is_encrypted,
            kms_key_id=key,
        )
        if not usable:
            snapshot.status = "error"
            snapshot.state_message = f"The KMS key '{kms_key_id}' is not usable in {self.region_name}"
        self.snapshots[snapshot.id] = snapshot
        return snapshot

    EBSBackend.copy_snapshot = copy_snapshot  # type: ignore[method-assign]

    def copy_snapshot_response(self: ElasticBlockStore) -> ActionResult:
        tags = self._parse_tag_specification()
        self.error_on_dryrun()
        snapshot = self.ec2_backend.copy_snapshot(
            source_snapshot_id=self._get_param("SourceSnapshotId"),
            source_region=self._get_param("SourceRegion"),
            description=self._get_param("Description"),
            kms_key_id=self._get_param("KmsKeyId"),
            encrypted=self._get_bool_param("Encrypted", False),
        )
        snapshot.add_tags(tags.get("snapshot", {}))
        return ActionResult({"SnapshotId": snapshot.id, "Tags": snapshot.tag_set})

    ElasticBlockStore.copy_snapshot = copy_snapshot_response  # type: ignore[method-assign]


def _modify_snapshot_attribute() -> None:
    # AWS (ModifySnapshotAttribute): permissions come as OperationType with
    # UserIds/GroupNames, or as CreateVolumePermission {Add, Remove}; moto reads
    # only the first form. AWS ("Share an Amazon EBS snapshot"): "You can't
    # share snapshots that are encrypted with the default AWS managed key";
    # the API answers OperationNotPermitted, "Encrypted snapshots with EBS
    # default key cannot be shared".
    original_add = EBSBackend.add_create_volume_permission

    def add_create_volume_permission(
        self: Any, snapshot_id: str, user_ids: list[str], groups: list[str]
    ) -> None:
        snapshot = self.get_snapshot(snapshot_id)
        if (user_ids or groups) and encrypted_with_aws_managed_key(snapshot):
            raise OperationNotPermitted("Encrypted snapshots with EBS default key cannot be shared")
        original_add(self, snapshot_id, user_ids=user_ids, groups=groups)
        if user_ids or groups:
            remember_share("snapshot", self.account_id, self.region_name, snapshot_id)

    EBSBackend.add_create_volume_permission = add_create_volume_permission  # type: ignore[method-assign]

    def modify_snapshot_attribute(self: ElasticBlockStore) -> EmptyResult:
        snapshot_id = self._get_param("SnapshotId")
        operation = self._get_param("OperationType")
        changes = self._get_param("CreateVolumePermission", {}) or {}
        add = {"users": [], "groups": []}
        remove = {"users": [], "groups": []}
        for target, permissions in ((add, changes.get("Add", [])), (remove, changes.get("Remove", []))):
            for permission in permissions:
                if permission.get("UserId"):
                    target["users"].append(permission["UserId"])
                if permission.get("Group"):
                    target["groups"].append(permission["Group"])
        if operation in ("add", "remove"):
            target = add if operation == "add" else remove
            target["users"] += self._get_param("UserIds", [])
            target["groups"] += self._get_param("GroupNames", [])

        self.error_on_dryrun()

        self.ec2_backend.get_snapshot(snapshot_id)  # InvalidSnapshot.NotFound first
        if add["users"] or add["groups"]:
            self.ec2_backend.add_create_volume_permission(
                snapshot_id, user_ids=add["users"], groups=add["groups"]
            )
        if remove["users"] or remove["groups"]:
            self.ec2_backend.remove_create_volume_permission(
                snapshot_id, user_ids=remove["users"], groups=remove["groups"]
            )
        return EmptyResult()

    ElasticBlockStore.modify_snapshot_attribute = modify_snapshot_attribute  # type: ignore[method-assign]
