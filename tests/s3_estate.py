"""Build the reference S3 estate in a source account, through boto3 only
(issue 6).

`build_s3_estate(session, region, account)` creates what ferry's S3 support
must replicate and returns the names and ids it made, keyed by a stable short
name (``bucket_a``, ``bucket_b``, ``bucket_c``, ``key_a``), like the other
estates:

  key_a     a customer-managed KMS key with an alias, bucket A's default key
  bucket_a  versioned, tagged, SSE-KMS under key_a with a bucket key; a
            policy naming the source account (its root and a role of it, and
            in a condition), the bucket's own ARNs and a Deny on a prefix
            no object uses (moto evaluates a bucket's Deny statements on
            object calls, conditions or not); CORS (two rules),
            lifecycle (expiration, noncurrent versions, a tag filter,
            multipart abort), a website (index, error, a routing rule), Block
            Public Access with two of four settings on, Object Ownership
            BucketOwnerPreferred, server access logging into bucket B;
            OBJECTS_A objects (see `plan_objects`), keys written more than
            once (versions), one deleted (a delete marker), and a multipart
            object of 6 MiB + 1 byte in 5 MiB parts
  bucket_b  plain (the defaults of a new bucket), tagged; a policy granting
            the logging service bucket A's logs (naming bucket A and the
            source account in its conditions); OBJECTS_B objects and a
            multipart object of 12 MiB in 5 MiB parts
  bucket_c  empty, with neither Block Public Access nor ownership controls
            (as a bucket made before April 2023)

Objects carry content types, cache control, user metadata, tags, storage
classes and SHA-256 checksums on some; keys have spaces, unicode, ``+`` and
``%``; some are empty (0 bytes). Bucket names end in a random suffix, so
tests never meet each other's buckets (names are global).

`build_many(session, region, count)` makes one bucket of `count` small
objects (the kill-during-copy and incremental tests), `build_versioned` one
versioned bucket whose keys have several versions and delete markers (the
all-versions test), `put_objects` writes more.

Every call was checked against moto 5.2.5 with ferry's shim
(emulator/ferry_shim/s3.py); MOTO_GAPS lists what moto still does otherwise.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from urllib.parse import urlencode
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import boto3
from botocore.config import Config

SessionFactory = Callable[[str], boto3.Session]

MIB = 1024 * 1024
#: Part size of the estate's multipart objects, and ferry's lowered
#: threshold (`[s3] multipart_threshold`), so both take the multipart path.
PART = 5 * MIB
THRESHOLD = "5 MiB"
OBJECTS_A = 140
OBJECTS_B = 160
KEY_ALIAS_PREFIX = "alias/ferry-s3-"
LOG_PREFIX = "a-logs/"
WORKERS = 16
#: Path-style addressing (the emulator), and a connection per worker.
CLIENT_CONFIG = Config(s3={"addressing_style": "path"}, max_pool_connections=WORKERS)

#: Keys of bucket A written more than once, and the one deleted afterwards.
REWRITTEN = ("versions/doc.txt", "versions/empty-then-full")
DELETED = "versions/gone.txt"
RECREATED = "versions/back.txt"
BIG_A = "big/a-blob.bin"
BIG_B = "big/b-blob ü.bin"

#: What moto 5.2.5, with ferry's shim, still does differently from AWS for
#: the calls the estate and s3_inventory.py make.
MOTO_GAPS: dict[str, str] = {
    "GetObject": "any account reads any bucket's objects; only HeadBucket, "
    "GetBucketLocation and copy sources check the bucket policy (the shim), "
    "so the tests prove ferry's temporary statement through CopyObject",
    "HeadObject(VersionId=null)": "HTTP 400 for an unversioned bucket's "
    "objects, as ListObjectVersions lists them; the reader leaves the version out",
    "PutObjectTagging(TagSet=[])": "HTTP 500 (AWS removes the tags); the "
    "harness changes a tag instead",
}


# --- objects ---------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectPut:
    """One PutObject (or multipart upload, above `PART`) of the estate."""

    key: str
    body: bytes
    content_type: str | None = None
    cache_control: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    storage_class: str | None = None
    checksum: str | None = None

    def arguments(self) -> dict[str, Any]:
        """PutObject / CreateMultipartUpload arguments but Bucket, Key, Body."""
        out: dict[str, Any] = {"Metadata": self.metadata}
        for name, value in (
            ("ContentType", self.content_type),
            ("CacheControl", self.cache_control),
            ("StorageClass", self.storage_class),
            ("ChecksumAlgorithm", self.checksum),
        ):
            if value:
                out[name] = value
        if self.tags:
            out["Tagging"] = urlencode(self.tags)
        return out


STORAGE_CLASSES = (None, None, None, "STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA")
KEY_SHAPES = (
    ("data/{i:04d}.json", "application/json"),
    ("reports/2024 Q{q}/résumé {i}.csv", "text/csv"),
    ("日本語/ファイル-{i}.txt", "text/plain; charset=utf-8"),
    ("empty/{i}", None),
    ("plus+sign/100% {i}.bin", "application/octet-stream"),
    ("images/photo {i}.jpg", "image/jpeg"),
)


def body(seed: str, size: int) -> bytes:
    """`size` deterministic bytes for `seed` (a SHA-256 of the seed, then
    the seed's bytes, repeated; distinct per seed, cheap for large sizes)."""
    unit = hashlib.sha256(seed.encode()).digest() + seed.encode()
    return (unit * (size // len(unit) + 1))[:size]


def plan_objects(prefix: str, count: int) -> list[ObjectPut]:
    """`count` objects whose keys start with `prefix`, of every shape: the
    ``empty/`` ones have 0 bytes; every 3rd has cache control, every 4th
    metadata, every 5th tags, every 7th a SHA-256 checksum; storage classes
    rotate through STORAGE_CLASSES."""
    out = []
    for i in range(count):
        shape, content_type = KEY_SHAPES[i % len(KEY_SHAPES)]
        key = prefix + shape.format(i=i, q=i % 4 + 1)
        size = 0 if key.startswith(prefix + "empty/") else (i * 397) % 9000 + 1
        out.append(
            ObjectPut(
                key=key,
                body=body(key, size),
                content_type=content_type,
                cache_control="max-age=3600, public" if i % 3 == 0 else None,
                metadata={"origin": "estate", "index": str(i)} if i % 4 == 0 else {},
                tags={"shape": str(i % len(KEY_SHAPES)), "note": f"object {i}"} if i % 5 == 0 else {},
                storage_class=STORAGE_CLASSES[i % len(STORAGE_CLASSES)],
                checksum="SHA256" if i % 7 == 0 else None,
            )
        )
    return out


def put(s3, bucket: str, obj: ObjectPut) -> dict[str, Any]:
    """Write `obj` (in `PART`-sized parts when larger than `PART`)."""
    if len(obj.body) <= PART:
        return s3.put_object(Bucket=bucket, Key=obj.key, Body=obj.body, **obj.arguments())
    upload = s3.create_multipart_upload(Bucket=bucket, Key=obj.key, **obj.arguments())["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(obj.body), PART), 1):
        extra = {"ChecksumAlgorithm": obj.checksum} if obj.checksum else {}
        answer = s3.upload_part(
            Bucket=bucket, Key=obj.key, UploadId=upload, PartNumber=number, Body=obj.body[start : start + PART], **extra
        )
        part = {"PartNumber": number, "ETag": answer["ETag"]}
        if obj.checksum:
            part[f"Checksum{obj.checksum}"] = answer[f"Checksum{obj.checksum}"]
        parts.append(part)
    return s3.complete_multipart_upload(Bucket=bucket, Key=obj.key, UploadId=upload, MultipartUpload={"Parts": parts})


def put_objects(s3, bucket: str, objects: Iterable[ObjectPut]) -> None:
    """Write `objects` concurrently (boto3 clients are thread-safe)."""
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda o: put(s3, bucket, o), objects))


# --- buckets ---------------------------------------------------------------------


def suffix() -> str:
    return secrets.token_hex(4)


def create_bucket(s3, name: str, region: str, **kwargs: Any) -> str:
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(Bucket=name, **kwargs)
    return name


def _tagging(**tags: str) -> dict[str, list[dict[str, str]]]:
    return {"TagSet": [{"Key": k.replace("_", "-"), "Value": v} for k, v in tags.items()]}


def policy_a(account: str, bucket: str) -> dict[str, Any]:
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnerRead",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [arn, f"{arn}/*"],
            },
            {
                "Sid": "AppWrites",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:role/app-writer"},
                "Action": "s3:PutObject",
                "Resource": f"{arn}/uploads/*",
            },
            {
                "Sid": "LockedToOwner",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": f"{arn}/locked/*",
                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": account}},
            },
        ],
    }


def policy_b(account: str, bucket: str, logged: str) -> dict[str, Any]:
    """The logging service may write bucket `logged`'s logs. Resource is a
    string: moto's PutBucketLogging check compares it as one."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{logged}"},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            }
        ],
    }


CORS = [
    {
        "ID": "app",
        "AllowedMethods": ["GET", "PUT"],
        "AllowedOrigins": ["https://app.example.com"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 300,
    },
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]},
]
LIFECYCLE = [
    {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}},
    {"ID": "old-versions", "Status": "Enabled", "Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {"NoncurrentDays": 7}},
    {
        "ID": "cold-data",
        "Status": "Enabled",
        "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "tier", "Value": "cold"}]}},
        "Transitions": [{"Days": 60, "StorageClass": "STANDARD_IA"}],
    },
    {"ID": "abort-uploads", "Status": "Disabled", "Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
]
WEBSITE = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "error.html"},
    "RoutingRules": [{"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "documents/"}}],
}
PUBLIC_ACCESS_A = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}


def build_bucket_b(s3, region: str, account: str, name: str, logged: str) -> None:
    create_bucket(s3, name, region)
    s3.put_bucket_tagging(Bucket=name, Tagging=_tagging(team="logs"))
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy_b(account, name, logged)))
    big = ObjectPut(
        key=BIG_B, body=body(BIG_B, 12 * MIB), content_type="application/x-blob",
        metadata={"size": "big"}, tags={"size": "big"}, cache_control="no-cache",
    )  # fmt: skip
    put_objects(s3, name, [*plan_objects("", OBJECTS_B), big])


def build_bucket_a(s3, kms, region: str, account: str, name: str, logs: str, ids: dict[str, str]) -> None:
    key = kms.create_key(Description="S3 bucket A", Tags=[{"TagKey": "purpose", "TagValue": "s3"}])["KeyMetadata"]
    kms.create_alias(AliasName=KEY_ALIAS_PREFIX + name.rsplit("-", 1)[-1], TargetKeyId=key["KeyId"])
    ids["key_a"] = key["KeyId"]
    create_bucket(s3, name, region)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=name, Tagging=_tagging(team="data", env="prod", cost_center="1234"))
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}, "BucketKeyEnabled": True}
            ]
        },
    )
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy_a(account, name)))
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": CORS})
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": LIFECYCLE})
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration=WEBSITE)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=PUBLIC_ACCESS_A)
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": LOG_PREFIX}})
    big = ObjectPut(key=BIG_A, body=body(BIG_A, PART + MIB + 1), content_type="application/x-blob", tags={"size": "big"})
    put_objects(s3, name, [*plan_objects("", OBJECTS_A), big])
    for n in range(3):
        for k in REWRITTEN:
            put(s3, name, ObjectPut(key=k, body=body(f"{k}{n}", 0 if k.endswith("full") and n == 0 else 100 + n), content_type="text/plain"))
    for n in range(2):
        put(s3, name, ObjectPut(key=DELETED, body=body(f"{DELETED}{n}", 50)))
    s3.delete_object(Bucket=name, Key=DELETED)


def build_s3_estate(session_factory: SessionFactory, region: str, account: str, names: dict[str, str] | None = None) -> dict[str, str]:
    """Create the S3 estate; return ``{short name: name or id}``. `names`
    chooses the buckets' names (``bucket_a`` ...; a random suffix otherwise)."""
    session = session_factory(region)
    s3, kms = session.client("s3", config=CLIENT_CONFIG), session.client("kms")
    tail = suffix()
    ids = {"bucket_a": f"ferry-a-{tail}", "bucket_b": f"ferry-b-{tail}", "bucket_c": f"ferry-c-{tail}", **(names or {})}
    # B first: A logs into it, and its policy must allow that beforehand.
    build_bucket_b(s3, region, account, ids["bucket_b"], logged=ids["bucket_a"])
    build_bucket_a(s3, kms, region, account, ids["bucket_a"], ids["bucket_b"], ids)
    create_bucket(s3, ids["bucket_c"], region)
    s3.delete_public_access_block(Bucket=ids["bucket_c"])
    s3.delete_bucket_ownership_controls(Bucket=ids["bucket_c"])
    return ids


def build_versioned(session_factory: SessionFactory, region: str) -> str:
    """A versioned bucket (no other settings): REWRITTEN keys written three
    times, DELETED written twice and deleted, ``versions/back.txt`` written,
    deleted and written again, and a few keys written once; its name."""
    s3 = session_factory(region).client("s3", config=CLIENT_CONFIG)
    name = create_bucket(s3, f"ferry-v-{suffix()}", region)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    put_objects(s3, name, plan_objects("once/", 12))
    for n in range(3):
        for k in REWRITTEN:
            put(s3, name, ObjectPut(key=k, body=body(f"{k}{n}", 0 if k.endswith("full") and n == 0 else 100 + n), metadata={"n": str(n)}))
    for n in range(2):
        put(s3, name, ObjectPut(key=DELETED, body=body(f"{DELETED}{n}", 50)))
    s3.delete_object(Bucket=name, Key=DELETED)
    put(s3, name, ObjectPut(key=RECREATED, body=body(RECREATED, 10)))
    s3.delete_object(Bucket=name, Key=RECREATED)
    put(s3, name, ObjectPut(key=RECREATED, body=body(RECREATED + "again", 11)))
    return name


def build_many(session_factory: SessionFactory, region: str, count: int, prefix: str = "ferry-many", versioned: bool = False) -> str:
    """A bucket of `count` small objects (``obj/00000`` ...), `versioned`
    or not; its name."""
    s3 = session_factory(region).client("s3", config=CLIENT_CONFIG)
    name = create_bucket(s3, f"{prefix}-{suffix()}", region)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    put_objects(s3, name, [ObjectPut(key=f"obj/{i:05d}", body=body(str(i), 64 + i % 256)) for i in range(count)])
    return name


def destination_name(source_account: str, bucket: str) -> str:
    """ferry's default destination name, ``{name}-{hash6}``: hash6 is the
    first 6 hex digits of sha256("<source account>/<bucket>")."""
    return f"{bucket}-{hashlib.sha256(f'{source_account}/{bucket}'.encode()).hexdigest()[:6]}"
