"""AMIs: sharing across accounts, CopyImage by the grantee, encryption of copies.

Patches moto.ec2.models.amis (Ami, AmiBackend) and the CopyImage response. Every
patch follows one documented AWS behaviour, quoted below.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError, InvalidAMIIdError
from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import Ami, AmiBackend
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.utils import generic_filter, random_ami_id

from .common import (
    GranteeView,
    can_restore,
    copy_encryption,
    default_ebs_key,
    encrypted_with_aws_managed_key,
    remember_share,
    shared_images,
)


def apply() -> None:
    _block_device_mappings()
    _describe_images()
    _create_image()
    _copy_image()
    _modify_image_attribute()
    _describe_image_attribute()


def _block_device_mappings() -> None:
    # AWS (DescribeImages, EbsBlockDevice): each EBS mapping reports whether its
    # snapshot is Encrypted. KmsKeyId is not reported there ("only supported on
    # BlockDeviceMapping objects called by RunInstances, RequestSpotFleet, and
    # RequestSpotInstances"); DescribeSnapshots gives the key.
    original = Ami.__dict__["block_device_mappings"].fget

    def block_device_mappings(self: Ami) -> list[dict[str, Any]]:
        mappings = original(self)
        for mapping in mappings:
            mapping["Ebs"]["Encrypted"] = bool(self.ebs_snapshot.encrypted)
        return mappings

    Ami.block_device_mappings = property(block_device_mappings)  # type: ignore[method-assign,assignment]


def _describe_images() -> None:
    # AWS (DescribeImages): "the images available to you": yours, public ones
    # and private ones shared with you (a launch permission for your account).
    # ImageIds finds a shared image; ExecutableUsers ["self"] lists images
    # shared with you (explicitly, not public ones: moto listed those too),
    # ["all"] public ones; Owners keeps those of the given owners. An image
    # whose permission was withdrawn is not found again (InvalidAMIID.NotFound).
    # moto looks in the caller's own account-region only.
    original = AmiBackend.describe_images

    def describe_images(
        self: Any,
        ami_ids: list[str] | None = None,
        filters: dict[str, Any] | None = None,
        exec_users: list[str] | None = None,
        owners: list[str] | None = None,
    ) -> list[Any]:
        caller, region = self.account_id, self.region_name
        if ami_ids:
            shared: dict[str, Any] = {}
            for ami_id in ami_ids:
                if ami_id not in self.amis and ami_id not in shared:
                    ami = next(shared_images(caller, region, ami_id), None)
                    if ami is not None:
                        shared[ami_id] = GranteeView(ami, self)
            if not shared:
                return original(self, ami_ids, filters, exec_users, owners)
            rest = [i for i in ami_ids if i not in shared]
            try:
                own = original(self, rest, filters, exec_users, owners) if rest else []
            except InvalidAMIIdError:
                own = []
            return own + list(shared.values())
        images = list(self.amis.values()) + [
            GranteeView(a, self) for a in shared_images(caller, region) if a.id not in self.amis
        ]
        if exec_users:
            users = {caller if u == "self" else u for u in exec_users}
            images = [
                a
                for a in images
                if any(lp.get("UserId") in users for lp in a.launch_permissions)
                or ("all" in users and a.is_public)
            ]
        if owners:
            wanted = {caller if o == "self" else o for o in owners}
            images = [a for a in images if a.owner_id in wanted or a.owner_alias in wanted]
        if filters:
            images = generic_filter(filters, images)
        return images

    AmiBackend.describe_images = describe_images  # type: ignore[method-assign]


def _create_image() -> None:
    # AWS (CreateImage): TagSpecifications may tag the image, its snapshots, or
    # both (moto raises NotImplementedError for "snapshot"). AWS ("Amazon EBS
    # encryption"): snapshots of an encrypted volume are encrypted under its
    # key, so CreateImage of an instance whose root volume is encrypted gives an
    # AMI with an encrypted snapshot; moto's AMI snapshot is always a new
    # unencrypted one. AWS ("Create an EBS-backed AMI"): the image keeps the
    # instance's block device mapping, so its root device name too; moto
    # always reports /dev/sda1.
    original = AmiBackend.create_image

    def create_image(
        self: Any,
        instance_id: str,
        name: str,
        description: str,
        tag_specifications: list[dict[str, Any]],
    ) -> Ami:
        snapshot_tags = [
            tag
            for spec in tag_specifications
            if spec.get("ResourceType") == "snapshot"
            for tag in spec.get("Tags", [])
        ]
        others = [s for s in tag_specifications if s.get("ResourceType") != "snapshot"]
        ami = original(self, instance_id, name, description, tag_specifications=others)
        for tag in snapshot_tags:
            ami.ebs_snapshot.add_tag(tag["Key"], tag["Value"])
        if getattr(ami.instance, "root_device_name", None):
            ami.root_device_name = ami.instance.root_device_name
        device = ami.instance.block_device_mapping.get(ami.instance.root_device_name)
        volume = self.volumes.get(device.volume_id) if device is not None else None
        if volume is not None and volume.encrypted:
            ami.ebs_snapshot.encrypted = True
            ami.ebs_snapshot.kms_key_id = volume.kms_key_id or default_ebs_key(self)
        return ami

    AmiBackend.create_image = create_image  # type: ignore[method-assign]


# (account, region, ClientToken) -> the image that CopyImage call made.
_COPY_TOKENS: dict[tuple[str, str, str], str] = {}


def _copy_image() -> None:
    # AWS ("Copy an Amazon EC2 AMI", cross-account copying): you can copy an AMI
    # shared with you from SourceRegion into your Region; the copy is yours,
    # with its own snapshot. "The owner of the source AMI must grant you read
    # permissions for the storage that backs the AMI", i.e. createVolumePermission
    # on its snapshot; without it: InvalidRequest "You do not have permission to
    # access the storage of this ami". Without a launch permission the image is
    # not found (InvalidAMIID.NotFound). Encrypted and KmsKeyId decide the
    # encryption of the copy's snapshot (common.copy_encryption); a key AWS
    # cannot use fails the copy after the request (state "failed").
    # TagSpecifications tag the new image and/or its snapshot.
    # moto copies only from the caller's own account and ignores encryption
    # and TagSpecifications.
    def copy_image(
        self: Any,
        source_image_id: str,
        source_region: str,
        name: str | None = None,
        description: str | None = None,
        encrypted: bool = False,
        kms_key_id: str | None = None,
    ) -> Ami:
        caller = self.account_id
        source = ec2_backends[caller][source_region].amis.get(source_image_id)
        own = source is not None
        if source is None:
            source = next(shared_images(caller, source_region, source_image_id), None)
            if source is None:
                raise InvalidAMIIdError(source_image_id)
            if not can_restore(source.ebs_snapshot, caller):
                raise EC2ClientError(
                    "InvalidRequest", "You do not have permission to access the storage of this ami"
                )
        is_encrypted, key, usable = copy_encryption(
            self, source.ebs_snapshot, own and source_region == self.region_name, encrypted, kms_key_id
        )
        ami = Ami(
            self,
            random_ami_id(),
            source_ami=source,
            name=name,
            description=description,
            root_device_name=source.root_device_name,
            root_device_type=source.root_device_type,
        )
        ami.ebs_snapshot.encrypted = is_encrypted
        ami.ebs_snapshot.kms_key_id = key
        if not usable:
            ami.state = "failed"
            ami.ebs_snapshot.status = "error"
        self.amis[ami.id] = ami
        return ami

    AmiBackend.copy_image = copy_image  # type: ignore[method-assign]

    # AWS ("Ensuring idempotency in Amazon EC2 API requests"): a repeated
    # CopyImage with the same ClientToken returns the image the first request
    # made instead of copying again; moto ignores ClientToken.
    def copy_image_response(self: AmisResponse) -> ActionResult:
        source_image_id = self._get_param("SourceImageId")
        source_region = self._get_param("SourceRegion")
        tags = self._parse_tag_specification()
        self.error_on_dryrun()
        token = self._get_param("ClientToken")
        made = _COPY_TOKENS.get((self.ec2_backend.account_id, self.region, token))
        if token and made in self.ec2_backend.amis:
            return ActionResult({"ImageId": made})
        image = self.ec2_backend.copy_image(
            source_image_id,
            source_region,
            self._get_param("Name"),
            self._get_param("Description"),
            encrypted=self._get_bool_param("Encrypted", False),
            kms_key_id=self._get_param("KmsKeyId"),
        )
        image.add_tags(tags.get("image", {}))
        image.ebs_snapshot.add_tags(tags.get("snapshot", {}))
        if token:
            _COPY_TOKENS[(self.ec2_backend.account_id, self.region, token)] = image.id
        return ActionResult({"ImageId": image.id})

    AmisResponse.copy_image = copy_image_response  # type: ignore[method-assign]


def _modify_image_attribute() -> None:
    # AWS ("Share an AMI with specific AWS accounts"): "To share an AMI, your
    # AWS account must own the AMI" (a grantee now sees the image, but may not
    # change it: not found, as before), and "You can't share AMIs that are
    # backed by snapshots that are encrypted with the default AWS managed key";
    # the API answers InvalidParameter, "Snapshots encrypted with the AWS
    # Managed CMK can't be shared. Specify another snapshot."
    original = AmiBackend.modify_image_attribute

    def modify_image_attribute(
        self: Any,
        ami_id: str,
        launch_permissions_to_add: list[dict[str, str]],
        launch_permissions_to_remove: list[dict[str, str]],
    ) -> None:
        ami = self.amis.get(ami_id)
        if ami is None:
            raise InvalidAMIIdError(ami_id)
        if launch_permissions_to_add and encrypted_with_aws_managed_key(ami.ebs_snapshot):
            raise EC2ClientError(
                "InvalidParameter",
                "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.",
            )
        original(self, ami_id, launch_permissions_to_add, launch_permissions_to_remove)
        if launch_permissions_to_add:
            remember_share("image", self.account_id, self.region_name, ami_id)

    AmiBackend.modify_image_attribute = modify_image_attribute  # type: ignore[method-assign]


def _describe_image_attribute() -> None:
    # AWS (DescribeImageAttribute): an image that does not exist (or was
    # deregistered) is InvalidAMIID.NotFound; moto answers HTTP 500 (KeyError).
    # Only the owner reads the attribute here, as before the shim.
    original = AmiBackend.describe_image_attribute

    def describe_image_attribute(self: Any, ami_id: str, attribute_name: str) -> Any:
        if ami_id not in self.amis:
            raise InvalidAMIIdError(ami_id)
        return original(self, ami_id, attribute_name)

    AmiBackend.describe_image_attribute = describe_image_attribute  # type: ignore[method-assign]
