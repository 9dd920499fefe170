"""An independent reader of S3 buckets in an account, in the manner of
tests/inventory.py and tests/lb_inventory.py: boto3 only, no ferry code.

    read_s3(session, region, buckets, versions=False) -> {bucket: record}

A record holds the bucket's ``settings`` (region, versioning, default
encryption, Block Public Access, ownership, policy, CORS, lifecycle, website,
logging, tags, Object Lock, notifications; ``None`` where AWS reports none)
and its current ``objects`` by key: size, a content ``digest``, content type,
cache control and the other content headers, user metadata, tags, storage
class, checksums, and the server-side encryption with its key. With
`versions`, also ``versions`` by key: the digest and size of every version,
newest first, and the key's delete markers.

The digest is the ETag where the ETag is a property of the bytes and their
part layout (SSE-S3 or no encryption: MD5, or MD5 of part MD5s with the part
count), and ``md5:<hex>`` of the downloaded bytes for SSE-KMS objects, whose
ETags AWS makes anew on every write. Normalised so that two equivalent
buckets read the same: policy statements' actions, resources, principals and
condition values as sorted lists (statements keep their order, as CORS rules
and versions do); lifecycle rules by ID, a filter of the empty prefix as the
empty filter; tags without ``aws:`` or ``ferry:`` keys (bucket tags only:
object tags are compared whole); ``STANDARD`` where AWS omits the storage
class.

    translate(read, names, keys, src_account, dst_account, src_region, dst_region)

rewrites a source read into the destination's terms: bucket names (``names``:
source -> destination, e.g. through s3_estate.destination_name), KMS key ids
(``keys``: source id -> destination id, from ferry's mapping), account ids,
and the region of the buckets and their keys. `compare` lists differences.
"""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

from botocore.exceptions import ClientError
from inventory import TranslatedInventory
from s3_estate import CLIENT_CONFIG, WORKERS

KMS = ("aws:kms", "aws:kms:dsse")
#: Content headers HeadObject reports and CopyObject keeps (MetadataDirective COPY).
CONTENT_HEADERS = ("ContentType", "CacheControl", "ContentEncoding", "ContentDisposition", "ContentLanguage", "WebsiteRedirectLocation")
#: What the configuration getters answer when a bucket has none.
MISSING = {
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "NoSuchBucketPolicy",
    "NoSuchCORSConfiguration",
    "NoSuchLifecycleConfiguration",
    "NoSuchWebsiteConfiguration",
    "NoSuchTagSet",
    "ObjectLockConfigurationNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError",
}

Read = dict[str, dict[str, Any]]


def _or_none(call, *path: str, **kwargs: Any) -> Any:
    """call(**kwargs)[path...], or None when AWS says there is no such configuration."""
    try:
        out = call(**kwargs)
    except ClientError as e:
        if e.response["Error"]["Code"] in MISSING:
            return None
        raise
    for step in path:
        out = out.get(step) if out is not None else None
    return out


def _list(value: Any) -> list[Any]:
    return sorted(value) if isinstance(value, list) else [value]


def canonical_policy(text: str | None) -> dict[str, Any] | None:
    """The policy with each statement's actions, resources, principals and
    condition values as sorted lists (AWS accepts a string or a list alike)."""
    if not text:
        return None
    doc = json.loads(text)
    statements = doc.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        for field in ("Action", "NotAction", "Resource", "NotResource"):
            if field in statement:
                statement[field] = _list(statement[field])
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            statement["Principal"] = {k: _list(v) for k, v in principal.items()}
        for operator, conditions in statement.get("Condition", {}).items():
            statement["Condition"][operator] = {k: _list(v) for k, v in conditions.items()}
    return doc


def _sorted_rules(rules: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Lifecycle rules by ID (S3 applies them all, whatever their order); a
    filter of the empty prefix reads as the empty filter (both mean every
    object)."""
    if not rules:
        return rules
    out = [{**r, "Filter": {}} if r.get("Filter") == {"Prefix": ""} else r for r in rules]
    return sorted(out, key=lambda r: r.get("ID", ""))


def user_tags(tag_set: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_set or [] if not t["Key"].startswith(("aws:", "ferry:"))}


def _md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()


class _Reader:
    def __init__(self, session, region: str) -> None:
        self.s3 = session.client("s3", region_name=region, config=CLIENT_CONFIG)

    def settings(self, bucket: str) -> dict[str, Any]:
        s3 = self.s3
        b = {"Bucket": bucket}
        location = s3.get_bucket_location(**b)["LocationConstraint"] or "us-east-1"
        notifications = {k: v for k, v in s3.get_bucket_notification_configuration(**b).items() if k != "ResponseMetadata"}
        return {
            "region": location,
            "versioning": s3.get_bucket_versioning(**b).get("Status", "Disabled"),
            "encryption": _or_none(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration", "Rules", **b),
            "public_access_block": _or_none(s3.get_public_access_block, "PublicAccessBlockConfiguration", **b),
            "ownership": _or_none(s3.get_bucket_ownership_controls, "OwnershipControls", "Rules", **b),
            "policy": canonical_policy(_or_none(s3.get_bucket_policy, "Policy", **b)),
            "cors": _or_none(s3.get_bucket_cors, "CORSRules", **b),
            "lifecycle": _sorted_rules(_or_none(s3.get_bucket_lifecycle_configuration, "Rules", **b)),
            "website": _or_none(lambda **kw: {k: v for k, v in s3.get_bucket_website(**kw).items() if k != "ResponseMetadata"}, **b),
            "logging": s3.get_bucket_logging(**b).get("LoggingEnabled"),
            "tags": user_tags(_or_none(s3.get_bucket_tagging, "TagSet", **b)),
            "object_lock": _or_none(s3.get_object_lock_configuration, "ObjectLockConfiguration", **b),
            "notifications": notifications or None,
        }

    def pages(self, operation: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
        yield from self.s3.get_paginator(operation).paginate(**kwargs)

    def object(self, bucket: str, key: str, version: str | None = None) -> dict[str, Any]:
        extra = {"VersionId": version} if version and version != "null" else {}
        # GetObject reports what HeadObject does, and the bytes besides.
        head = self.s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", **extra)
        data = head.pop("Body").read()
        sse = head.get("ServerSideEncryption")
        digest = _md5(data) if sse in KMS else head["ETag"].strip('"')
        tags = self.s3.get_object_tagging(Bucket=bucket, Key=key, **extra)["TagSet"] if head.get("TagCount") else []
        record = {
            "size": head["ContentLength"],
            "digest": digest,
            "metadata": head.get("Metadata", {}),
            "tags": {t["Key"]: t["Value"] for t in tags},
            "storage_class": head.get("StorageClass", "STANDARD"),
            "checksums": {k[len("Checksum") :]: v for k, v in head.items() if k.startswith("Checksum") and k != "ChecksumType"},
            "encryption": {"algorithm": sse, "key": head.get("SSEKMSKeyId"), "bucket_key": head.get("BucketKeyEnabled", False)}
            if sse in KMS
            else {"algorithm": sse},
        }
        record.update({h: head[h] for h in CONTENT_HEADERS if head.get(h)})
        return record

    def objects(self, bucket: str) -> dict[str, Any]:
        keys = [o["Key"] for page in self.pages("list_objects_v2", Bucket=bucket) for o in page.get("Contents", [])]
        with ThreadPoolExecutor(WORKERS) as pool:
            return dict(zip(keys, pool.map(lambda k: self.object(bucket, k), keys)))

    def versions(self, bucket: str) -> dict[str, Any]:
        """Per key: its versions newest first (size and digest) and its delete
        markers (how many, and whether one is the current version)."""
        found: dict[str, Any] = {}
        listed = []
        for page in self.pages("list_object_versions", Bucket=bucket):
            for v in page.get("Versions", []):
                listed.append((v["Key"], v["VersionId"]))
                found.setdefault(v["Key"], {"versions": [], "delete_markers": 0, "deleted": False})
            for m in page.get("DeleteMarkers", []):
                entry = found.setdefault(m["Key"], {"versions": [], "delete_markers": 0, "deleted": False})
                entry["delete_markers"] += 1
                entry["deleted"] |= m["IsLatest"]

        def one(item: tuple[str, str]) -> dict[str, Any]:
            record = self.object(bucket, item[0], item[1])
            return {"size": record["size"], "digest": record["digest"]}

        with ThreadPoolExecutor(WORKERS) as pool:
            for (key, _), record in zip(listed, pool.map(one, listed)):
                found[key]["versions"].append(record)
        return found

    def bucket(self, bucket: str, versions: bool) -> dict[str, Any]:
        out = {"settings": self.settings(bucket), "objects": self.objects(bucket)}
        if versions:
            out["versions"] = self.versions(bucket)
        return out


def read_s3(session, region: str, buckets: Iterable[str], versions: bool = False) -> Read:
    """Every bucket of `buckets` that exists, read in full: {name: record}."""
    reader = _Reader(session, region)
    out = {}
    for name in buckets:
        try:
            reader.s3.head_bucket(Bucket=name)
        except ClientError as e:
            if e.response["Error"]["Code"] in ("404", "NoSuchBucket"):
                continue
            raise
        out[name] = reader.bucket(name, versions)
    return out


def bucket_names(session, region: str) -> list[str]:
    """The buckets the account owns."""
    return sorted(b["Name"] for b in session.client("s3", region_name=region).list_buckets()["Buckets"])


def listing(session, region: str, bucket: str) -> dict[str, tuple[int, str]]:
    """Key -> (size, ETag) of the current objects, from ListObjectsV2 alone
    (cheap for large buckets; ETags compare only outside SSE-KMS)."""
    s3 = session.client("s3", region_name=region, config=CLIENT_CONFIG)
    return {
        o["Key"]: (o["Size"], o["ETag"].strip('"'))
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    }


def version_counts(session, region: str, bucket: str) -> dict[str, int]:
    """How many versions (delete markers left out) each key of `bucket` has."""
    s3 = session.client("s3", region_name=region, config=CLIENT_CONFIG)
    counts: dict[str, int] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            counts[v["Key"]] = counts.get(v["Key"], 0) + 1
    return counts


def temporary_statements(session, region: str, bucket: str, prefix: str = "FerryTemporaryRead") -> list[str]:
    """Sids of the bucket policy's statements whose Sid starts with `prefix`."""
    policy = _or_none(session.client("s3", region_name=region).get_bucket_policy, "Policy", Bucket=bucket)
    statements = json.loads(policy)["Statement"] if policy else []
    return [s["Sid"] for s in statements if s.get("Sid", "").startswith(prefix)]


# --- translation ----------------------------------------------------------------


def translate(
    read: Read,
    names: dict[str, str],
    keys: dict[str, str],
    src_account: str,
    dst_account: str,
    src_region: str,
    dst_region: str,
) -> TranslatedInventory:
    """The source `read` as the destination should read: bucket names (as
    values and in ``arn:aws:s3:::`` ARNs), KMS key ARNs (through `keys`),
    account ids, and each bucket's region. Source KMS keys `keys` lacks are
    kept and listed in ``unmapped``; so are buckets `names` lacks."""
    unmapped: set[str] = set()
    s3_arn = re.compile(r"arn:aws:s3:::([a-z0-9][a-z0-9.-]*[a-z0-9])")
    kms_arn = re.compile(rf"arn:aws:kms:{re.escape(src_region)}:{src_account}:key/([0-9a-f-]+)")

    def bucket(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            unmapped.add(f"s3_bucket/{name}")
        return f"arn:aws:s3:::{names.get(name, name)}"

    def key(match: re.Match[str]) -> str:
        if match.group(1) not in keys:
            unmapped.add(f"kms_key/{match.group(1)}")
            return match.group(0)
        return f"arn:aws:kms:{dst_region}:{dst_account}:key/{keys[match.group(1)]}"

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if not isinstance(value, str):
            return value
        if value in names:
            return names[value]
        return s3_arn.sub(bucket, kms_arn.sub(key, value)).replace(src_account, dst_account)

    out = {}
    for name, record in read.items():
        if name not in names:
            unmapped.add(f"s3_bucket/{name}")
        translated = dict(record)
        # Object keys and contents are data: only settings and encryption move.
        translated["settings"] = rewrite(record["settings"])
        translated["settings"]["region"] = dst_region
        translated["objects"] = {k: {**o, "encryption": rewrite(o["encryption"])} for k, o in record["objects"].items()}
        out[names.get(name, name)] = translated
    result = TranslatedInventory(out)
    result.unmapped = unmapped
    return result


def compare(expected: Read, actual: Read, most: int = 20) -> list[str]:
    """Differences, bucket by bucket and key by key (at most `most`, then a total)."""
    out = []
    for name in sorted(set(expected) | set(actual)):
        e, a = expected.get(name), actual.get(name)
        if e is None or a is None:
            out.append(f"{name}: {'missing' if a is None else 'unexpected'}")
            continue
        for field in sorted(set(e["settings"]) | set(a["settings"])):
            if e["settings"].get(field) != a["settings"].get(field):
                out.append(f"{name} {field}:\n  expected {e['settings'].get(field)}\n  actual   {a['settings'].get(field)}")
        for part in ("objects", "versions"):
            eo, ao = e.get(part, {}), a.get(part, {})
            for key in sorted(set(eo) | set(ao)):
                if eo.get(key) != ao.get(key):
                    out.append(f"{name} {part} {key!r}:\n  expected {eo.get(key)}\n  actual   {ao.get(key)}")
    if len(out) > most:
        return out[:most] + [f"... {len(out) - most} more differences ({len(out)} in all)"]
    return out
