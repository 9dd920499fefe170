"""Tests of the emulator's shim (emulator/ferry_shim/): AMI and snapshot sharing
across accounts, copies by the grantee, encryption of copies, AWS managed keys.

They start their own emulator (`ferry-emulator start`), act in two fresh random
accounts per test (owner and grantee) through sts:AssumeRole, and check each
behaviour both ways: allowed with the permission, refused or invisible without.

The fixtures are shim_fixtures.py's.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from botocore.exceptions import ClientError
from shim_fixtures import (  # noqa: F401  (fixtures are found by name in this module)
    OTHER_REGION,
    REGION,
    aws,
    error_code,
    grantee,
    owner,
    random_account,
    shim_emulator,
)

BASE_IMAGE = "ami-03cf127a"  # one of moto's built-in AMIs, in every account-region


# --- helpers ----------------------------------------------------------------------


def make_image(ec2: Any, encrypted: bool = False, kms_key_id: str | None = None) -> str:
    """CreateImage of a fresh instance (root volume encrypted if asked)."""
    base = ec2.describe_images(ImageIds=[BASE_IMAGE])["Images"][0]
    run: dict[str, Any] = {"ImageId": base["ImageId"], "MinCount": 1, "MaxCount": 1}
    if encrypted:
        ebs: dict[str, Any] = {"VolumeSize": 8, "Encrypted": True}
        if kms_key_id:
            ebs["KmsKeyId"] = kms_key_id
        run["BlockDeviceMappings"] = [{"DeviceName": base["RootDeviceName"], "Ebs": ebs}]
    instance = ec2.run_instances(**run)["Instances"][0]["InstanceId"]
    return ec2.create_image(InstanceId=instance, Name=f"img-{secrets.token_hex(4)}", NoReboot=True)[
        "ImageId"
    ]


def image(ec2: Any, image_id: str) -> dict[str, Any]:
    return ec2.describe_images(ImageIds=[image_id])["Images"][0]


def image_snapshot(ec2: Any, image_id: str) -> str:
    return image(ec2, image_id)["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]


def snapshot(ec2: Any, snapshot_id: str) -> dict[str, Any]:
    return ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]


def make_snapshot(
    ec2: Any, region: str = REGION, encrypted: bool = False, kms_key_id: str | None = None
) -> str:
    volume: dict[str, Any] = {"AvailabilityZone": f"{region}a", "Size": 4}
    if encrypted:
        volume["Encrypted"] = True
    if kms_key_id:
        volume["KmsKeyId"] = kms_key_id
    volume_id = ec2.create_volume(**volume)["VolumeId"]
    return ec2.create_snapshot(VolumeId=volume_id)["SnapshotId"]


def make_cmk(kms: Any) -> dict[str, Any]:
    """A customer managed key with an alias: {"id", "arn", "alias", "alias_arn"}."""
    meta = kms.create_key()["KeyMetadata"]
    alias = f"alias/shim-{secrets.token_hex(4)}"
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    alias_arn = meta["Arn"].split(":key/")[0] + ":" + alias
    return {"id": meta["KeyId"], "arn": meta["Arn"], "alias": alias, "alias_arn": alias_arn}


def default_ebs_key_arn(kms: Any) -> str:
    return kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]


def share_image(ec2: Any, image_id: str, account: str) -> None:
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": account}]})


def share_snapshot(ec2: Any, snapshot_id: str, account: str) -> None:
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot_id,
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=[account],
    )


def share_image_and_storage(ec2: Any, image_id: str, account: str) -> None:
    share_image(ec2, image_id, account)
    share_snapshot(ec2, image_snapshot(ec2, image_id), account)


# --- shared images: DescribeImages ------------------------------------------------


def test_image_without_launch_permission_is_invisible(aws, owner, grantee):
    image_id = make_image(aws("ec2", owner))
    ec2 = aws("ec2", grantee)
    assert error_code(ec2.describe_images, ImageIds=[image_id]) == "InvalidAMIID.NotFound"
    listed = ec2.describe_images(ExecutableUsers=["self"])["Images"]
    assert image_id not in [i["ImageId"] for i in listed]
    assert ec2.describe_images(Owners=[owner])["Images"] == []


def test_image_with_launch_permission_is_visible_to_grantee_only(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    src.create_tags(Resources=[image_id], Tags=[{"Key": "team", "Value": "owner-only"}])
    share_image(src, image_id, grantee)

    ec2 = aws("ec2", grantee)
    found = image(ec2, image_id)
    assert found["OwnerId"] == owner
    assert found.get("Tags", []) == []  # user-defined tags are not shared
    # the grantee's own tags on it are its own
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": "seen", "Value": "by-grantee"}])
    assert image(ec2, image_id)["Tags"] == [{"Key": "seen", "Value": "by-grantee"}]
    tagged = ec2.describe_images(Filters=[{"Name": "tag:seen", "Values": ["by-grantee"]}])
    assert [i["ImageId"] for i in tagged["Images"]] == [image_id]
    assert image(src, image_id)["Tags"] == [{"Key": "team", "Value": "owner-only"}]
    assert [i["ImageId"] for i in ec2.describe_images(ExecutableUsers=["self"])["Images"]] == [
        image_id
    ]
    assert [i["ImageId"] for i in ec2.describe_images(Owners=[owner])["Images"]] == [image_id]
    # ...and not in the grantee's own images
    assert image_id not in [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]]

    third = aws("ec2", random_account(owner, grantee))
    assert error_code(third.describe_images, ImageIds=[image_id]) == "InvalidAMIID.NotFound"


def test_public_image_is_visible_to_every_account(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    src.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    assert image(aws("ec2", grantee), image_id)["Public"] is True


def test_withdrawn_launch_permission_hides_the_image_again(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_image(src, image_id, grantee)
    attribute = src.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attribute["LaunchPermissions"] == [{"UserId": grantee}]

    src.modify_image_attribute(
        ImageId=image_id,
        Attribute="launchPermission",
        OperationType="remove",
        UserIds=[grantee],
    )
    attribute = src.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attribute["LaunchPermissions"] == []
    ec2 = aws("ec2", grantee)
    assert error_code(ec2.describe_images, ImageIds=[image_id]) == "InvalidAMIID.NotFound"
    assert ec2.describe_images(ExecutableUsers=["self"])["Images"] == []


def test_shared_image_is_not_visible_in_another_region(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_image(src, image_id, grantee)
    elsewhere = aws("ec2", grantee, OTHER_REGION)
    assert error_code(elsewhere.describe_images, ImageIds=[image_id]) == "InvalidAMIID.NotFound"


def test_grantee_cannot_change_launch_permissions(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_image(src, image_id, grantee)
    third = random_account(owner, grantee)
    code = error_code(aws("ec2", grantee).modify_image_attribute, ImageId=image_id,
                      LaunchPermission={"Add": [{"UserId": third}]})  # fmt: skip
    assert code == "InvalidAMIID.NotFound"
    attribute = src.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attribute["LaunchPermissions"] == [{"UserId": grantee}]


# --- CopyImage by the grantee ------------------------------------------------------


def test_copy_image_needs_a_launch_permission(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_snapshot(src, image_snapshot(src, image_id), grantee)  # storage only
    code = error_code(aws("ec2", grantee).copy_image, SourceImageId=image_id,
                      SourceRegion=REGION, Name="copy")  # fmt: skip
    assert code == "InvalidAMIID.NotFound"


def test_copy_image_needs_read_access_to_the_snapshot(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_image(src, image_id, grantee)  # launch permission only
    with pytest.raises(ClientError) as caught:
        aws("ec2", grantee).copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="copy")
    assert caught.value.response["Error"]["Code"] == "InvalidRequest"
    assert "permission to access the storage" in caught.value.response["Error"]["Message"]


def test_copy_of_shared_image_is_owned_by_the_grantee(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_image_and_storage(src, image_id, grantee)
    source_snapshot = image_snapshot(src, image_id)

    ec2 = aws("ec2", grantee)
    copy_id = ec2.copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="copy")["ImageId"]
    copy = image(ec2, copy_id)
    assert copy["OwnerId"] == grantee
    assert copy["Name"] == "copy"
    mapping = copy["BlockDeviceMappings"][0]["Ebs"]
    assert mapping["SnapshotId"] != source_snapshot
    assert mapping["Encrypted"] is False
    own = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert [s["SnapshotId"] for s in own] == [mapping["SnapshotId"]]
    assert own[0]["OwnerId"] == grantee
    # the copy is the grantee's: invisible to the owner, listed as the grantee's
    assert error_code(src.describe_images, ImageIds=[copy_id]) == "InvalidAMIID.NotFound"
    assert copy_id in [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]]


def test_copy_of_shared_image_into_another_region(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_image_and_storage(src, image_id, grantee)

    ec2 = aws("ec2", grantee, OTHER_REGION)
    copy_id = ec2.copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="copy")["ImageId"]
    copy = image(ec2, copy_id)
    assert copy["OwnerId"] == grantee
    assert snapshot(ec2, image_snapshot(ec2, copy_id))["OwnerId"] == grantee
    here = aws("ec2", grantee)
    assert error_code(here.describe_images, ImageIds=[copy_id]) == "InvalidAMIID.NotFound"


def test_copy_image_encrypted_uses_the_default_ebs_key(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_image_and_storage(src, image_id, grantee)

    ec2 = aws("ec2", grantee)
    copy_id = ec2.copy_image(
        SourceImageId=image_id, SourceRegion=REGION, Name="copy", Encrypted=True
    )["ImageId"]
    assert image(ec2, copy_id)["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    snap = snapshot(ec2, image_snapshot(ec2, copy_id))
    assert snap["Encrypted"] is True
    kms = aws("kms", grantee)
    assert snap["KmsKeyId"] == default_ebs_key_arn(kms)
    assert kms.describe_key(KeyId=snap["KmsKeyId"])["KeyMetadata"]["KeyManager"] == "AWS"


def test_copy_image_with_a_customer_key_reports_its_arn(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_image_and_storage(src, image_id, grantee)
    key = make_cmk(aws("kms", grantee))

    ec2 = aws("ec2", grantee)
    for form in ("id", "arn", "alias", "alias_arn"):
        copy_id = ec2.copy_image(
            SourceImageId=image_id,
            SourceRegion=REGION,
            Name=f"copy-{form}",
            Encrypted=True,
            KmsKeyId=key[form],
        )["ImageId"]
        copy = image(ec2, copy_id)
        assert copy["State"] == "available", form
        assert copy["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True, form
        assert snapshot(ec2, image_snapshot(ec2, copy_id))["KmsKeyId"] == key["arn"], form


def test_copy_image_key_without_encrypted_is_refused(aws, owner):
    ec2 = aws("ec2", owner)
    image_id = make_image(ec2)
    key = make_cmk(aws("kms", owner))
    code = error_code(ec2.copy_image, SourceImageId=image_id, SourceRegion=REGION,
                      Name="copy", KmsKeyId=key["arn"])  # fmt: skip
    assert code == "InvalidParameterDependency"


def test_copy_image_with_an_unknown_key_fails_after_the_request(aws, owner):
    # AWS parses KmsKeyId asynchronously: CopyImage succeeds, the copy fails.
    ec2 = aws("ec2", owner)
    image_id = make_image(ec2)
    copy_id = ec2.copy_image(
        SourceImageId=image_id,
        SourceRegion=REGION,
        Name="copy",
        Encrypted=True,
        KmsKeyId="alias/no-such-key",
    )["ImageId"]
    assert image(ec2, copy_id)["State"] == "failed"


def test_copy_of_encrypted_image_stays_encrypted(aws, owner, grantee):
    src = aws("ec2", owner)
    owner_key = make_cmk(aws("kms", owner))
    image_id = make_image(src, encrypted=True, kms_key_id=owner_key["arn"])
    assert snapshot(src, image_snapshot(src, image_id))["KmsKeyId"] == owner_key["arn"]

    # the owner's own copy in the same Region keeps the key
    same = src.copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="same")["ImageId"]
    assert snapshot(src, image_snapshot(src, same))["KmsKeyId"] == owner_key["arn"]

    # the grantee's copy is encrypted even without Encrypted, under its default key
    share_image_and_storage(src, image_id, grantee)
    ec2 = aws("ec2", grantee)
    copy_id = ec2.copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="copy")["ImageId"]
    assert image(ec2, copy_id)["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    snap = snapshot(ec2, image_snapshot(ec2, copy_id))
    assert snap["KmsKeyId"] == default_ebs_key_arn(aws("kms", grantee))


# --- refusing to share what the AWS managed key encrypts ---------------------------


def test_image_under_default_key_cannot_be_shared(aws, owner, grantee):
    ec2 = aws("ec2", owner)
    image_id = make_image(ec2, encrypted=True)  # root volume under aws/ebs
    snap = snapshot(ec2, image_snapshot(ec2, image_id))
    assert snap["Encrypted"] is True
    assert snap["KmsKeyId"] == default_ebs_key_arn(aws("kms", owner))

    with pytest.raises(ClientError) as caught:
        share_image(ec2, image_id, grantee)
    assert caught.value.response["Error"]["Code"] == "InvalidParameter"
    assert "AWS Managed CMK" in caught.value.response["Error"]["Message"]
    attribute = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attribute["LaunchPermissions"] == []
    assert error_code(aws("ec2", grantee).describe_images, ImageIds=[image_id]) == (
        "InvalidAMIID.NotFound"
    )


def test_encrypted_copy_under_default_key_cannot_be_shared(aws, owner, grantee):
    ec2 = aws("ec2", owner)
    image_id = make_image(ec2)
    copy_id = ec2.copy_image(
        SourceImageId=image_id, SourceRegion=REGION, Name="copy", Encrypted=True
    )["ImageId"]
    assert error_code(share_image, ec2, copy_id, grantee) == "InvalidParameter"
    code = error_code(share_snapshot, ec2, image_snapshot(ec2, copy_id), grantee)
    assert code == "OperationNotPermitted"


def test_image_under_customer_key_can_be_shared(aws, owner, grantee):
    ec2 = aws("ec2", owner)
    key = make_cmk(aws("kms", owner))
    image_id = make_image(ec2, encrypted=True, kms_key_id=key["id"])
    share_image_and_storage(ec2, image_id, grantee)
    seen = image(aws("ec2", grantee), image_id)
    assert seen["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True


@pytest.mark.parametrize("form", ["operation", "structure"])
def test_snapshot_under_default_key_cannot_be_shared(aws, owner, grantee, form):
    ec2 = aws("ec2", owner)
    snapshot_id = make_snapshot(ec2, encrypted=True)
    assert snapshot(ec2, snapshot_id)["KmsKeyId"] == default_ebs_key_arn(aws("kms", owner))
    request: dict[str, Any] = {"SnapshotId": snapshot_id, "Attribute": "createVolumePermission"}
    if form == "operation":
        request.update(OperationType="add", UserIds=[grantee])
    else:
        request["CreateVolumePermission"] = {"Add": [{"UserId": grantee}]}
    with pytest.raises(ClientError) as caught:
        ec2.modify_snapshot_attribute(**request)
    assert caught.value.response["Error"]["Code"] == "OperationNotPermitted"
    assert "default key" in caught.value.response["Error"]["Message"]
    attribute = ec2.describe_snapshot_attribute(
        SnapshotId=snapshot_id, Attribute="createVolumePermission"
    )
    assert attribute["CreateVolumePermissions"] == []


def test_snapshot_under_customer_key_can_be_shared(aws, owner, grantee):
    ec2 = aws("ec2", owner)
    key = make_cmk(aws("kms", owner))
    snapshot_id = make_snapshot(ec2, encrypted=True, kms_key_id=key["alias"])
    assert snapshot(ec2, snapshot_id)["KmsKeyId"] == key["arn"]
    share_snapshot(ec2, snapshot_id, grantee)
    assert snapshot(aws("ec2", grantee), snapshot_id)["KmsKeyId"] == key["arn"]


# --- shared snapshots ---------------------------------------------------------------


def test_snapshot_without_permission_is_invisible(aws, owner, grantee):
    snapshot_id = make_snapshot(aws("ec2", owner))
    ec2 = aws("ec2", grantee)
    assert error_code(ec2.describe_snapshots, SnapshotIds=[snapshot_id]) == (
        "InvalidSnapshot.NotFound"
    )
    assert ec2.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"] == []
    assert ec2.describe_snapshots(OwnerIds=[owner])["Snapshots"] == []
    code = error_code(ec2.create_volume, AvailabilityZone=f"{REGION}a", SnapshotId=snapshot_id)
    assert code == "InvalidSnapshot.NotFound"


@pytest.mark.parametrize("form", ["operation", "structure"])
def test_snapshot_with_permission_is_visible_and_restorable(aws, owner, grantee, form):
    src = aws("ec2", owner)
    snapshot_id = make_snapshot(src)
    src.create_tags(Resources=[snapshot_id], Tags=[{"Key": "team", "Value": "owner-only"}])
    if form == "operation":
        share_snapshot(src, snapshot_id, grantee)
    else:
        src.modify_snapshot_attribute(
            SnapshotId=snapshot_id,
            Attribute="createVolumePermission",
            CreateVolumePermission={"Add": [{"UserId": grantee}]},
        )
    attribute = src.describe_snapshot_attribute(
        SnapshotId=snapshot_id, Attribute="createVolumePermission"
    )
    assert attribute["CreateVolumePermissions"] == [{"UserId": grantee}]

    ec2 = aws("ec2", grantee)
    seen = snapshot(ec2, snapshot_id)
    assert seen["OwnerId"] == owner
    assert seen.get("Tags", []) == []
    restorable = ec2.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"]
    assert [s["SnapshotId"] for s in restorable] == [snapshot_id]
    assert [s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=[owner])["Snapshots"]] == [
        snapshot_id
    ]
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []

    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", SnapshotId=snapshot_id)
    assert volume["SnapshotId"] == snapshot_id
    assert volume["Size"] == 4
    assert [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]] == [volume["VolumeId"]]

    third = aws("ec2", random_account(owner, grantee))
    assert error_code(third.describe_snapshots, SnapshotIds=[snapshot_id]) == (
        "InvalidSnapshot.NotFound"
    )


def test_public_snapshot_is_visible_to_every_account(aws, owner, grantee):
    src = aws("ec2", owner)
    snapshot_id = make_snapshot(src)
    src.modify_snapshot_attribute(
        SnapshotId=snapshot_id,
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )
    ec2 = aws("ec2", grantee)
    assert snapshot(ec2, snapshot_id)["OwnerId"] == owner
    public = ec2.describe_snapshots(RestorableByUserIds=["all"])["Snapshots"]
    assert [s["SnapshotId"] for s in public] == [snapshot_id]


@pytest.mark.parametrize("form", ["operation", "structure"])
def test_withdrawn_snapshot_permission_hides_it_again(aws, owner, grantee, form):
    src = aws("ec2", owner)
    snapshot_id = make_snapshot(src)
    share_snapshot(src, snapshot_id, grantee)
    if form == "operation":
        src.modify_snapshot_attribute(
            SnapshotId=snapshot_id,
            Attribute="createVolumePermission",
            OperationType="remove",
            UserIds=[grantee],
        )
    else:
        src.modify_snapshot_attribute(
            SnapshotId=snapshot_id,
            Attribute="createVolumePermission",
            CreateVolumePermission={"Remove": [{"UserId": grantee}]},
        )
    attribute = src.describe_snapshot_attribute(
        SnapshotId=snapshot_id, Attribute="createVolumePermission"
    )
    assert attribute["CreateVolumePermissions"] == []
    ec2 = aws("ec2", grantee)
    assert error_code(ec2.describe_snapshots, SnapshotIds=[snapshot_id]) == (
        "InvalidSnapshot.NotFound"
    )
    assert ec2.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"] == []
    code = error_code(ec2.copy_snapshot, SourceSnapshotId=snapshot_id, SourceRegion=REGION)
    assert code == "InvalidSnapshot.NotFound"


def test_shared_snapshot_is_not_visible_in_another_region(aws, owner, grantee):
    src = aws("ec2", owner)
    snapshot_id = make_snapshot(src)
    share_snapshot(src, snapshot_id, grantee)
    elsewhere = aws("ec2", grantee, OTHER_REGION)
    assert error_code(elsewhere.describe_snapshots, SnapshotIds=[snapshot_id]) == (
        "InvalidSnapshot.NotFound"
    )


def test_grantee_cannot_change_snapshot_permissions(aws, owner, grantee):
    src = aws("ec2", owner)
    snapshot_id = make_snapshot(src)
    share_snapshot(src, snapshot_id, grantee)
    code = error_code(share_snapshot, aws("ec2", grantee), snapshot_id, random_account(owner, grantee))
    assert code == "InvalidSnapshot.NotFound"


def test_volume_from_shared_encrypted_snapshot_uses_the_grantee_default_key(aws, owner, grantee):
    src = aws("ec2", owner)
    key = make_cmk(aws("kms", owner))
    snapshot_id = make_snapshot(src, encrypted=True, kms_key_id=key["arn"])
    share_snapshot(src, snapshot_id, grantee)

    ec2 = aws("ec2", grantee)
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", SnapshotId=snapshot_id)
    assert volume["Encrypted"] is True
    assert volume["KmsKeyId"] == default_ebs_key_arn(aws("kms", grantee))
    # the owner's own volume from it keeps the snapshot's key
    own = src.create_volume(AvailabilityZone=f"{REGION}a", SnapshotId=snapshot_id)
    assert own["KmsKeyId"] == key["arn"]


# --- CopySnapshot by the grantee ----------------------------------------------------


def test_copy_snapshot_without_permission_is_not_found(aws, owner, grantee):
    snapshot_id = make_snapshot(aws("ec2", owner))
    ec2 = aws("ec2", grantee)
    code = error_code(ec2.copy_snapshot, SourceSnapshotId=snapshot_id, SourceRegion=REGION)
    assert code == "InvalidSnapshot.NotFound"


@pytest.mark.parametrize("region", [REGION, OTHER_REGION])
def test_copy_of_shared_snapshot_is_owned_by_the_grantee(aws, owner, grantee, region):
    src = aws("ec2", owner)
    snapshot_id = make_snapshot(src)
    share_snapshot(src, snapshot_id, grantee)

    ec2 = aws("ec2", grantee, region)
    copy_id = ec2.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion=REGION)["SnapshotId"]
    copy = snapshot(ec2, copy_id)
    assert copy["OwnerId"] == grantee
    assert copy["Encrypted"] is False
    assert [s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]] == [
        copy_id
    ]
    assert error_code(src.describe_snapshots, SnapshotIds=[copy_id]) == "InvalidSnapshot.NotFound"


def test_copy_snapshot_encrypted_uses_the_default_ebs_key(aws, owner, grantee):
    src = aws("ec2", owner)
    snapshot_id = make_snapshot(src)
    share_snapshot(src, snapshot_id, grantee)
    ec2 = aws("ec2", grantee, OTHER_REGION)
    copy_id = ec2.copy_snapshot(
        SourceSnapshotId=snapshot_id, SourceRegion=REGION, Encrypted=True
    )["SnapshotId"]
    copy = snapshot(ec2, copy_id)
    assert copy["Encrypted"] is True
    assert copy["KmsKeyId"] == default_ebs_key_arn(aws("kms", grantee, OTHER_REGION))
    assert ":eu-west-1:" in copy["KmsKeyId"]


def test_copy_snapshot_with_a_customer_key_reports_its_arn(aws, owner, grantee):
    src = aws("ec2", owner)
    owner_key = make_cmk(aws("kms", owner))
    snapshot_id = make_snapshot(src, encrypted=True, kms_key_id=owner_key["arn"])
    share_snapshot(src, snapshot_id, grantee)
    key = make_cmk(aws("kms", grantee))

    ec2 = aws("ec2", grantee)
    for form in ("id", "arn", "alias", "alias_arn"):
        copy_id = ec2.copy_snapshot(
            SourceSnapshotId=snapshot_id, SourceRegion=REGION, Encrypted=True, KmsKeyId=key[form]
        )["SnapshotId"]
        copy = snapshot(ec2, copy_id)
        assert copy["State"] == "completed", form
        assert copy["KmsKeyId"] == key["arn"], form
        assert copy["OwnerId"] == grantee, form


def test_copy_of_shared_encrypted_snapshot_stays_encrypted(aws, owner, grantee):
    src = aws("ec2", owner)
    key = make_cmk(aws("kms", owner))
    snapshot_id = make_snapshot(src, encrypted=True, kms_key_id=key["arn"])
    share_snapshot(src, snapshot_id, grantee)
    ec2 = aws("ec2", grantee)
    copy_id = ec2.copy_snapshot(SourceSnapshotId=snapshot_id, SourceRegion=REGION)["SnapshotId"]
    copy = snapshot(ec2, copy_id)
    assert copy["Encrypted"] is True
    assert copy["KmsKeyId"] == default_ebs_key_arn(aws("kms", grantee))


def test_copy_snapshot_key_without_encrypted_is_refused(aws, owner):
    ec2 = aws("ec2", owner)
    snapshot_id = make_snapshot(ec2)
    key = make_cmk(aws("kms", owner))
    code = error_code(ec2.copy_snapshot, SourceSnapshotId=snapshot_id, SourceRegion=REGION,
                      KmsKeyId=key["arn"])  # fmt: skip
    assert code == "InvalidParameterDependency"


def test_copy_snapshot_with_a_key_of_another_region_fails_after_the_request(aws, owner):
    ec2 = aws("ec2", owner, OTHER_REGION)
    snapshot_id = make_snapshot(aws("ec2", owner))
    key = make_cmk(aws("kms", owner))  # in us-east-1, the source Region
    copy_id = ec2.copy_snapshot(
        SourceSnapshotId=snapshot_id, SourceRegion=REGION, Encrypted=True, KmsKeyId=key["arn"]
    )["SnapshotId"]
    assert snapshot(ec2, copy_id)["State"] == "error"


# --- KMS: AWS managed keys -----------------------------------------------------------


def test_default_ebs_key_is_aws_managed(aws, owner):
    # created by EBS encryption first...
    ec2 = aws("ec2", owner)
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1, Encrypted=True)
    kms = aws("kms", owner)
    meta = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert volume["KmsKeyId"] == meta["Arn"]
    assert kms.describe_key(KeyId=make_cmk(kms)["id"])["KeyMetadata"]["KeyManager"] == "CUSTOMER"
    # ...or by naming the alias first
    other = aws("kms", owner, OTHER_REGION)
    assert other.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyManager"] == "AWS"


# --- CreateImage, CopyImage tags, DeregisterImage, DeleteSnapshot ---------------------


def test_create_image_tags_image_and_snapshot(aws, owner):
    ec2 = aws("ec2", owner)
    instance = ec2.run_instances(ImageId=BASE_IMAGE, MinCount=1, MaxCount=1)["Instances"][0]
    image_id = ec2.create_image(
        InstanceId=instance["InstanceId"],
        Name="tagged",
        NoReboot=True,
        TagSpecifications=[
            {"ResourceType": "image", "Tags": [{"Key": "kind", "Value": "image"}]},
            {"ResourceType": "snapshot", "Tags": [{"Key": "kind", "Value": "snapshot"}]},
        ],
    )["ImageId"]
    assert image(ec2, image_id)["Tags"] == [{"Key": "kind", "Value": "image"}]
    assert snapshot(ec2, image_snapshot(ec2, image_id))["Tags"] == [
        {"Key": "kind", "Value": "snapshot"}
    ]


def test_create_image_keeps_the_instance_root_device_name(aws, owner):
    ec2 = aws("ec2", owner)
    # a built-in AMI whose root device is not moto's default /dev/sda1
    xvda = "ami-760aaa0f"
    instance = ec2.run_instances(ImageId=xvda, MinCount=1, MaxCount=1)["Instances"][0]
    assert instance["RootDeviceName"] == "/dev/xvda"
    image_id = ec2.create_image(InstanceId=instance["InstanceId"], Name="root")["ImageId"]
    made = image(ec2, image_id)
    assert made["RootDeviceName"] == "/dev/xvda"
    assert made["BlockDeviceMappings"][0]["DeviceName"] == instance["RootDeviceName"]


def test_copy_image_tags_the_copy_and_its_snapshot(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    src.create_tags(Resources=[image_id], Tags=[{"Key": "from", "Value": "owner"}])
    share_image_and_storage(src, image_id, grantee)
    ec2 = aws("ec2", grantee)
    copy_id = ec2.copy_image(
        SourceImageId=image_id,
        SourceRegion=REGION,
        Name="copy",
        TagSpecifications=[
            {"ResourceType": "image", "Tags": [{"Key": "kind", "Value": "image"}]},
            {"ResourceType": "snapshot", "Tags": [{"Key": "kind", "Value": "snapshot"}]},
        ],
    )["ImageId"]
    assert image(ec2, copy_id)["Tags"] == [{"Key": "kind", "Value": "image"}]
    assert snapshot(ec2, image_snapshot(ec2, copy_id))["Tags"] == [
        {"Key": "kind", "Value": "snapshot"}
    ]


def test_describe_image_attribute_of_a_deregistered_image_is_not_found(aws, owner):
    ec2 = aws("ec2", owner)
    image_id = make_image(ec2)
    ec2.deregister_image(ImageId=image_id)
    code = error_code(ec2.describe_image_attribute, ImageId=image_id, Attribute="launchPermission")
    assert code == "InvalidAMIID.NotFound"


def test_deregister_image_keeps_its_snapshot(aws, owner):
    ec2 = aws("ec2", owner)
    image_id = make_image(ec2)
    snapshot_id = image_snapshot(ec2, image_id)
    ec2.deregister_image(ImageId=image_id)
    assert snapshot(ec2, snapshot_id)["SnapshotId"] == snapshot_id


def test_snapshot_of_a_registered_image_cannot_be_deleted(aws, owner):
    ec2 = aws("ec2", owner)
    image_id = make_image(ec2)
    snapshot_id = image_snapshot(ec2, image_id)
    assert error_code(ec2.delete_snapshot, SnapshotId=snapshot_id) == "InvalidSnapshot.InUse"
    ec2.deregister_image(ImageId=image_id)
    ec2.delete_snapshot(SnapshotId=snapshot_id)
    assert error_code(ec2.describe_snapshots, SnapshotIds=[snapshot_id]) == (
        "InvalidSnapshot.NotFound"
    )


def test_snapshot_of_a_copied_image_cannot_be_deleted(aws, owner, grantee):
    src = aws("ec2", owner)
    image_id = make_image(src)
    share_image_and_storage(src, image_id, grantee)
    ec2 = aws("ec2", grantee)
    copy_id = ec2.copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="copy")["ImageId"]
    code = error_code(ec2.delete_snapshot, SnapshotId=image_snapshot(ec2, copy_id))
    assert code == "InvalidSnapshot.InUse"


def test_copy_image_with_the_same_client_token_copies_once(aws, owner):
    ec2 = aws("ec2", owner)
    image_id = make_image(ec2)
    first = ec2.copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="once", ClientToken="t-1")
    again = ec2.copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="once", ClientToken="t-1")
    assert first["ImageId"] == again["ImageId"]
    other = ec2.copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="twice", ClientToken="t-2")
    assert other["ImageId"] != first["ImageId"]
