"""Tests of the shim's S3 (emulator/ferry_shim/s3.py), and of the moto
behaviours ferry's S3 support relies on as they are.

Each test acts in fresh random accounts on this module's own emulator and
checks one behaviour AWS documents (the README's "S3" section says where),
with the case that must succeed beside the one that must fail.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import zlib
from typing import Any

import pytest
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

MIB = 1024 * 1024


# --- helpers ----------------------------------------------------------------------


def bucket(s3: Any, prefix: str, region: str = REGION, **kwargs: Any) -> str:
    """A new bucket with a unique name in `s3`'s account."""
    name = f"{prefix}-{secrets.token_hex(4)}"
    if region != REGION:
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(Bucket=name, **kwargs)
    return name


def allow(s3: Any, name: str, principal: Any, effect: str = "Allow") -> None:
    """A bucket policy of one statement granting `principal` reads."""
    statement = {
        "Effect": effect,
        "Principal": principal,
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
    }
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def head_status(s3: Any, name: str) -> int:
    from botocore.exceptions import ClientError

    try:
        return s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]


def tags(s3: Any, name: str, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=name, Key=key)["TagSet"]}


def head(s3: Any, name: str, key: str, **kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in s3.head_object(Bucket=name, Key=key, **kwargs).items() if k != "ResponseMetadata"}


def multipart_copy(s3: Any, dest: str, key: str, source: dict[str, str], size: int, part: int, **create: Any) -> str:
    """Copy `source` into dest/key in parts of `part` bytes; the new ETag."""
    upload = s3.create_multipart_upload(Bucket=dest, Key=key, **create)["UploadId"]
    parts = []
    for number, start in enumerate(range(0, size, part), 1):
        end = min(start + part, size) - 1
        etag = s3.upload_part_copy(
            Bucket=dest, Key=key, UploadId=upload, PartNumber=number, CopySource=source, CopySourceRange=f"bytes={start}-{end}"
        )["CopyPartResult"]["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    return s3.complete_multipart_upload(Bucket=dest, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})["ETag"]


def multipart_put(s3: Any, name: str, key: str, data: bytes, part: int, **create: Any) -> str:
    upload = s3.create_multipart_upload(Bucket=name, Key=key, **create)["UploadId"]
    parts = [
        {"PartNumber": n, "ETag": s3.upload_part(Bucket=name, Key=key, UploadId=upload, PartNumber=n, Body=data[start : start + part])["ETag"]}
        for n, start in enumerate(range(0, len(data), part), 1)
    ]
    return s3.complete_multipart_upload(Bucket=name, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})["ETag"]


def md5(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


# --- responses ----------------------------------------------------------------------------


def test_responses_have_the_root_elements_of_the_api_reference(aws, owner):
    """The AWS SDKs for Rust and Go check the root element; boto3 does not,
    so the raw bodies are read here."""
    s3 = aws("s3", owner)
    roots: dict[str, str] = {}

    def root(http_response: Any, model: Any, **_: Any) -> None:
        found = re.search(rb"<([A-Za-z]+)[ />]", http_response.content.split(b"?>", 1)[-1])
        if found:
            roots[model.name] = found.group(1).decode()

    s3.meta.events.register("after-call.s3", root)
    name = bucket(s3, "roots")
    s3.get_bucket_versioning(Bucket=name)
    s3.get_bucket_notification_configuration(Bucket=name)
    s3.get_bucket_accelerate_configuration(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    upload = s3.create_multipart_upload(Bucket=name, Key="k")["UploadId"]
    s3.upload_part(Bucket=name, Key="k", UploadId=upload, PartNumber=1, Body=b"1")
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=name, Key="k", UploadId=upload)["Parts"]] == [1]
    s3.list_object_versions(Bucket=name)
    assert roots == {
        "GetBucketVersioning": "VersioningConfiguration",
        "GetBucketNotificationConfiguration": "NotificationConfiguration",
        "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
        "CreateMultipartUpload": "InitiateMultipartUploadResult",
        "ListParts": "ListPartsResult",
        "ListObjectVersions": "ListVersionsResult",
    }


# --- access across accounts -----------------------------------------------------------


def test_head_bucket_of_another_account_is_forbidden_without_a_grant(aws, owner, grantee):
    mine, theirs = aws("s3", owner), aws("s3", grantee)
    name = bucket(mine, "owned")
    assert head_status(mine, name) == 200
    assert head_status(theirs, name) == 403, "another account's bucket: 403, not 200"
    assert error_code(theirs.get_bucket_location, Bucket=name) == "AccessDenied"
    assert head_status(theirs, f"missing-{secrets.token_hex(4)}") == 404, "a free name stays 404"
    # Each form of principal that names the caller's account grants access.
    for principal in (
        {"AWS": grantee},
        {"AWS": f"arn:aws:iam::{grantee}:root"},
        {"AWS": [f"arn:aws:iam::{owner}:root", f"arn:aws:iam::{grantee}:role/ferry"]},
        "*",
    ):
        allow(mine, name, principal)
        assert head_status(theirs, name) == 200, principal
        assert theirs.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    for principal, effect in (({"AWS": f"arn:aws:iam::{random_account(owner, grantee)}:root"}, "Allow"), ({"AWS": grantee}, "Deny")):
        allow(mine, name, principal, effect)
        assert head_status(theirs, name) == 403, (principal, effect)
    mine.delete_bucket_policy(Bucket=name)
    assert head_status(theirs, name) == 403


def test_copy_from_another_accounts_bucket_needs_its_policy(aws, owner, grantee):
    mine, theirs = aws("s3", owner), aws("s3", grantee)
    source, dest = bucket(mine, "src"), bucket(theirs, "dst")
    mine.put_object(Bucket=source, Key="k", Body=b"x" * (6 * MIB))
    copy_source = {"Bucket": source, "Key": "k"}
    assert error_code(theirs.copy_object, Bucket=dest, Key="k", CopySource=copy_source) == "AccessDenied"
    upload = theirs.create_multipart_upload(Bucket=dest, Key="k")["UploadId"]
    part = dict(Bucket=dest, Key="k", UploadId=upload, PartNumber=1, CopySource=copy_source)
    assert error_code(theirs.upload_part_copy, **part) == "AccessDenied"
    own = bucket(mine, "own")
    mine.copy_object(Bucket=own, Key="k", CopySource=copy_source)  # within one account: no policy needed

    allow(mine, source, {"AWS": f"arn:aws:iam::{grantee}:role/ferry"})
    theirs.copy_object(Bucket=dest, Key="k", CopySource=copy_source)
    etag = theirs.upload_part_copy(**part)["CopyPartResult"]["ETag"]
    theirs.complete_multipart_upload(Bucket=dest, Key="k", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert theirs.get_object(Bucket=dest, Key="k")["ContentLength"] == 6 * MIB


# --- objects ------------------------------------------------------------------------------


def test_copy_object_copies_tags_across_accounts(aws, owner, grantee):
    mine, theirs = aws("s3", owner), aws("s3", grantee)
    source, dest = bucket(mine, "src"), bucket(theirs, "dst")
    allow(mine, source, {"AWS": grantee})
    mine.put_object(Bucket=source, Key="a b/ü", Body=b"1", Tagging="team=data&tier=hot")
    mine.put_object(Bucket=source, Key="plain", Body=b"2")
    copy_source = {"Bucket": source, "Key": "a b/ü"}
    theirs.copy_object(Bucket=dest, Key="default", CopySource=copy_source)
    theirs.copy_object(Bucket=dest, Key="copy", CopySource=copy_source, TaggingDirective="COPY")
    theirs.copy_object(Bucket=dest, Key="replace", CopySource=copy_source, TaggingDirective="REPLACE", Tagging="new=1")
    theirs.copy_object(Bucket=dest, Key="none", CopySource={"Bucket": source, "Key": "plain"})
    assert tags(theirs, dest, "default") == tags(theirs, dest, "copy") == {"team": "data", "tier": "hot"}
    assert head(theirs, dest, "copy")["TagCount"] == 2
    assert tags(theirs, dest, "replace") == {"new": "1"}
    assert tags(theirs, dest, "none") == {}
    assert tags(mine, source, "a b/ü") == {"team": "data", "tier": "hot"}, "the source keeps its tags"
    same = bucket(mine, "same")
    mine.copy_object(Bucket=same, Key="k", CopySource=copy_source)
    assert tags(mine, same, "k") == {"team": "data", "tier": "hot"}, "within one account, as moto did"


def test_multipart_copy_keeps_what_create_multipart_upload_was_given(aws, owner, grantee):
    """UploadPartCopy copies bytes only: metadata, content type, cache
    control, tags and storage class come from CreateMultipartUpload, and the
    same part layout gives the same ETag (plain buckets)."""
    mine, theirs = aws("s3", owner), aws("s3", grantee)
    source, dest = bucket(mine, "src"), bucket(theirs, "dst")
    allow(mine, source, {"AWS": grantee})
    data = secrets.token_bytes(12 * MIB)
    settings = dict(ContentType="application/x-big", CacheControl="no-cache", Metadata={"origin": "test"}, StorageClass="STANDARD_IA")
    source_etag = multipart_put(mine, source, "big", data, 5 * MIB, Tagging="size=big", **settings)
    assert source_etag.endswith('-3"')
    etag = multipart_copy(theirs, dest, "big", {"Bucket": source, "Key": "big"}, len(data), 5 * MIB, Tagging="size=big", **settings)
    assert etag == source_etag
    copied = head(theirs, dest, "big")
    assert {k: copied[k] for k in ("ContentType", "CacheControl", "Metadata", "StorageClass", "ContentLength")} == {**settings, "ContentLength": len(data)}
    assert tags(theirs, dest, "big") == {"size": "big"}
    other = multipart_copy(theirs, dest, "other", {"Bucket": source, "Key": "big"}, len(data), 6 * MIB)
    assert other != source_etag and other.endswith('-2"'), "another layout, another ETag"
    assert head(theirs, dest, "other")["ContentType"] == "binary/octet-stream", "nothing given, nothing kept"


def test_a_part_of_a_multipart_object_reads_with_the_objects_headers(aws, owner):
    s3 = aws("s3", owner)
    name = bucket(s3, "parts")
    data = secrets.token_bytes(12 * MIB)
    settings = dict(ContentType="application/x-big", CacheControl="no-cache", Metadata={"origin": "test"}, StorageClass="STANDARD_IA")
    etag = multipart_put(s3, name, "big", data, 5 * MIB, Tagging="size=big", **settings)
    for number, (start, end) in enumerate([(0, 5 * MIB - 1), (5 * MIB, 10 * MIB - 1), (10 * MIB, 12 * MIB - 1)], 1):
        part = s3.head_object(Bucket=name, Key="big", PartNumber=number)
        assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert (part["ContentLength"], part["ContentRange"], part["PartsCount"]) == (end - start + 1, f"bytes {start}-{end}/{len(data)}", 3)
        assert (part["ETag"], part["TagCount"]) == (etag, 1), "the object's ETag, not the part's"
        assert {k: part[k] for k in settings} == settings
    got = s3.get_object(Bucket=name, Key="big", PartNumber=2)
    assert (got["Body"].read() == data[5 * MIB : 10 * MIB], got["ContentRange"], got["ContentType"]) == (
        True, f"bytes {5 * MIB}-{10 * MIB - 1}/{len(data)}", "application/x-big",
    )  # fmt: skip
    assert error_code(s3.head_object, Bucket=name, Key="big", PartNumber=4) == "416"
    assert error_code(s3.get_object, Bucket=name, Key="big", PartNumber=4) == "InvalidPartNumber"
    s3.put_object(Bucket=name, Key="small", Body=b"abc")
    whole = s3.head_object(Bucket=name, Key="small", PartNumber=1)
    assert (whole["ContentRange"], "PartsCount" in whole) == ("bytes 0-2/3", False), "a single-part object is its part 1"


def test_a_checksum_header_alone_is_stored_and_checked(aws, owner):
    """What an SDK sends with a precomputed checksum: x-amz-checksum-<alg>
    without x-amz-sdk-checksum-algorithm (botocore's ChecksumCRC32 argument
    does just that)."""
    s3 = aws("s3", owner)
    name = bucket(s3, "sums")
    data = b"checked bytes"
    crc32 = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    sha256 = base64.b64encode(hashlib.sha256(data).digest()).decode()
    s3.put_object(Bucket=name, Key="crc", Body=data, ChecksumCRC32=crc32)
    s3.put_object(Bucket=name, Key="sha", Body=data, ChecksumSHA256=sha256)
    assert head(s3, name, "crc", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc32
    assert head(s3, name, "sha", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha256
    wrong = base64.b64encode(b"\0\0\0\0").decode()
    assert error_code(s3.put_object, Bucket=name, Key="bad", Body=data, ChecksumCRC32=wrong) == "BadDigest"
    assert "Contents" not in s3.list_objects_v2(Bucket=name, Prefix="bad")


def test_sse_kms_objects_have_etags_that_are_not_md5(aws, owner):
    s3, kms = aws("s3", owner), aws("kms", owner)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    encrypted, plain = bucket(s3, "kms"), bucket(s3, "plain")
    s3.put_bucket_encryption(
        Bucket=encrypted,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]},
    )
    data = b"same bytes"
    first = s3.put_object(Bucket=encrypted, Key="a", Body=data)["ETag"]
    second = s3.put_object(Bucket=encrypted, Key="b", Body=data)["ETag"]
    assert first != md5(data) and second != md5(data) and first != second
    assert len(first.strip('"')) == 32
    assert head(s3, encrypted, "a")["ETag"] == first
    assert s3.put_object(Bucket=plain, Key="a", Body=data)["ETag"] == md5(data), "SSE-S3: the MD5"
    explicit = s3.put_object(Bucket=plain, Key="b", Body=data, ServerSideEncryption="aws:kms", SSEKMSKeyId=key)["ETag"]
    assert explicit != md5(data)
    copied = s3.copy_object(Bucket=encrypted, Key="c", CopySource={"Bucket": plain, "Key": "a"})["CopyObjectResult"]["ETag"]
    assert copied != md5(data)
    data = secrets.token_bytes(6 * MIB)
    in_plain = multipart_put(s3, plain, "big", data, 5 * MIB)
    in_kms = multipart_put(s3, encrypted, "big", data, 5 * MIB)
    assert in_plain.endswith('-2"') and in_kms.endswith('-2"') and in_kms != in_plain, "multipart: the suffix stays"


def test_objects_report_sse_s3_by_default(aws, owner):
    s3 = aws("s3", owner)
    name = bucket(s3, "plain")
    s3.put_object(Bucket=name, Key="k", Body=b"1")
    assert head(s3, name, "k")["ServerSideEncryption"] == "AES256"


# --- buckets --------------------------------------------------------------------------------


def test_every_bucket_has_default_encryption(aws, owner):
    s3, kms = aws("s3", owner), aws("kms", owner)
    name = bucket(s3, "enc")
    sse_s3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}
    assert s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"] == sse_s3
    key = kms.create_key()["KeyMetadata"]["Arn"]
    with_key = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}, "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=with_key)
    assert s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"] == with_key
    s3.delete_bucket_encryption(Bucket=name)
    assert s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"] == sse_s3, "back to SSE-S3"


def test_new_buckets_block_public_access_and_enforce_bucket_ownership(aws, owner):
    s3 = aws("s3", owner)
    name = bucket(aws("s3", owner, OTHER_REGION), "new", OTHER_REGION)
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    assert s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    s3.delete_public_access_block(Bucket=name)
    s3.delete_bucket_ownership_controls(Bucket=name)
    assert error_code(s3.get_public_access_block, Bucket=name) == "NoSuchPublicAccessBlockConfiguration"
    assert error_code(s3.get_bucket_ownership_controls, Bucket=name) == "OwnershipControlsNotFoundError"
    writer = bucket(s3, "writer", ObjectOwnership="ObjectWriter")
    assert s3.get_bucket_ownership_controls(Bucket=writer)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "ObjectWriter"}]


def test_object_lock_reports_the_period_it_was_given(aws, owner):
    s3 = aws("s3", owner)
    name = bucket(s3, "lock", ObjectLockEnabledForBucket=True)
    for period in ({"Days": 3}, {"Years": 1}):
        config = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", **period}}}
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=config)
        assert s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"] == config
    both = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}}
    assert error_code(s3.put_object_lock_configuration, Bucket=name, ObjectLockConfiguration=both) == "MalformedXML"


def test_object_lock_can_be_set_on_a_bucket_that_holds_objects(aws, owner):
    s3 = aws("s3", owner)
    name = bucket(s3, "existing")
    unversioned = {"ObjectLockEnabled": "Enabled"}
    assert error_code(s3.put_object_lock_configuration, Bucket=name, ObjectLockConfiguration=unversioned) == "InvalidBucketState"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="k", Body=b"1")
    config = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2}}}
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=config)
    assert s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"] == config


# --- moto as it is, and what ferry relies on -----------------------------------------------


def test_bucket_names_are_global_and_creation_is_idempotent_for_the_owner(aws, owner, grantee):
    mine, theirs = aws("s3", owner), aws("s3", grantee)
    name = bucket(mine, "global")
    assert error_code(theirs.create_bucket, Bucket=name) == "BucketAlreadyExists"
    mine.create_bucket(Bucket=name)  # us-east-1: the owner's second CreateBucket succeeds
    elsewhere = bucket(aws("s3", owner, OTHER_REGION), "eu", OTHER_REGION)
    eu = aws("s3", owner, OTHER_REGION)
    config = {"LocationConstraint": OTHER_REGION}
    assert error_code(eu.create_bucket, Bucket=elsewhere, CreateBucketConfiguration=config) == "BucketAlreadyOwnedByYou"
    assert mine.get_bucket_location(Bucket=elsewhere)["LocationConstraint"] == OTHER_REGION


def test_object_versions_are_listed_newest_first_page_by_page(aws, owner):
    s3 = aws("s3", owner)
    name = bucket(s3, "versions")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    written = {k: [s3.put_object(Bucket=name, Key=k, Body=f"{k}{i}".encode())["VersionId"] for i in range(3)] for k in ("a", "b")}
    marker = s3.delete_object(Bucket=name, Key="b")["VersionId"]
    listed, markers, page = [], [], {}
    while True:
        out = s3.list_object_versions(Bucket=name, MaxKeys=2, **page)
        listed += [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out.get("Versions", [])]
        markers += [(m["Key"], m["VersionId"], m["IsLatest"]) for m in out.get("DeleteMarkers", [])]
        if not out["IsTruncated"]:
            break
        page = {"KeyMarker": out["NextKeyMarker"], "VersionIdMarker": out["NextVersionIdMarker"]}
    expected = [(k, v, k == "a" and i == 0) for k in ("a", "b") for i, v in enumerate(reversed(written[k]))]
    assert listed == expected and markers == [("b", marker, True)]


def test_server_access_logging_needs_the_target_to_grant_the_logging_service(aws, owner):
    s3 = aws("s3", owner)
    source, target = bucket(s3, "logged"), bucket(s3, "logs")
    status = {"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "logged/"}}
    assert error_code(s3.put_bucket_logging, Bucket=source, BucketLoggingStatus=status) == "InvalidTargetBucketForLogging"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{target}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=target, Policy=json.dumps(policy))
    s3.put_bucket_logging(Bucket=source, BucketLoggingStatus=status)
    assert s3.get_bucket_logging(Bucket=source)["LoggingEnabled"] == status["LoggingEnabled"]


def test_server_access_logs_are_not_delivered_while_a_test_runs(aws, owner, grantee):
    """AWS delivers access logs periodically, within hours: requests to a
    logged bucket, another account's copies included, leave the target
    bucket as it was (moto wrote a log object per request)."""
    s3 = aws("s3", owner)
    source, target = bucket(s3, "logged"), bucket(s3, "logs")
    grant = {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{target}/*"}
    s3.put_bucket_policy(Bucket=target, Policy=json.dumps({"Version": "2012-10-17", "Statement": [grant]}))
    s3.put_bucket_logging(Bucket=source, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "l/"}})
    allow(s3, source, {"AWS": grantee})
    s3.put_object(Bucket=source, Key="k", Body=b"1")
    s3.get_object(Bucket=source, Key="k")
    theirs = aws("s3", grantee)
    theirs.copy_object(Bucket=bucket(theirs, "copy"), Key="k", CopySource={"Bucket": source, "Key": "k"})
    assert s3.list_objects_v2(Bucket=target)["KeyCount"] == 0


@pytest.mark.parametrize("algorithm", ["SHA256", "CRC32"])
def test_copy_keeps_the_checksum_and_metadata_not_the_storage_class(aws, owner, grantee, algorithm):
    """CopyObject keeps the source's checksum, metadata, content type and
    cache control; the storage class is the request's (STANDARD when not
    given), as AWS documents."""
    mine, theirs = aws("s3", owner), aws("s3", grantee)
    source, dest = bucket(mine, "src"), bucket(theirs, "dst")
    allow(mine, source, {"AWS": grantee})
    put = dict(ContentType="text/plain", CacheControl="max-age=60", Metadata={"m": "v"}, StorageClass="STANDARD_IA")
    mine.put_object(Bucket=source, Key="k", Body=b"hello", ChecksumAlgorithm=algorithm, **put)
    checksum = head(mine, source, "k", ChecksumMode="ENABLED")[f"Checksum{algorithm}"]
    theirs.copy_object(Bucket=dest, Key="plain", CopySource={"Bucket": source, "Key": "k"})
    theirs.copy_object(Bucket=dest, Key="ia", CopySource={"Bucket": source, "Key": "k"}, StorageClass="STANDARD_IA")
    plain, ia = head(theirs, dest, "plain", ChecksumMode="ENABLED"), head(theirs, dest, "ia")
    assert plain[f"Checksum{algorithm}"] == checksum
    assert (plain["ContentType"], plain["CacheControl"], plain["Metadata"]) == ("text/plain", "max-age=60", {"m": "v"})
    assert "StorageClass" not in plain and ia["StorageClass"] == "STANDARD_IA"
