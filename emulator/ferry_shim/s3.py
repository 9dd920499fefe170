"""S3 as AWS documents it, where moto 5.2.5 differs and a migration meets it.

Each patch below adds one behaviour of AWS; the README's "S3" section lists
them with the documentation they follow. Nothing here decides anything for
ferry.

Responses: the XML root element of GetBucketVersioning, GetBucketNotification-
Configuration, GetBucketAccelerateConfiguration and ListParts is the one the
API reference gives (``VersioningConfiguration``, ``NotificationConfiguration``,
``AccelerateConfiguration``, ``ListPartsResult``); moto wrote
``<Operation>Response``, which the AWS SDK for Rust refuses ("encountered
invalid XML root").

Access across accounts (moto lets any account read any bucket). Modelled
simply, as the README says: a caller of another account than the bucket's
owner has access when an ``Allow`` statement of the bucket policy names the
caller's account as principal (``*``, the account id, or any ARN of that
account), whatever its actions and conditions; otherwise:
  - HeadBucket answers 403 with no body and GetBucketLocation AccessDenied
    (*HeadBucket*: "If the bucket exists and you don't have permission to
    access it, the HEAD request returns a generic 400 Bad Request, 403
    Forbidden or 404 Not Found code");
  - CopyObject and UploadPartCopy with such a bucket as the copy source
    answer AccessDenied (*CopyObject*: "you must have read access to the
    source object"; cross-account: the source bucket policy must grant it).

Objects:
  - CopyObject copies the source object's tags unless TaggingDirective is
    REPLACE (*CopyObject*, x-amz-tagging-directive: "COPY" is the default);
    moto copied them only within one account;
  - objects stored under SSE-KMS get an ETag that is not the MD5 of their
    data, a new one for every write (*Object*, ETag: objects "encrypted by
    SSE-C or SSE-KMS, have ETags that are not an MD5 digest of their object
    data"); multipart ones keep their ``-<parts>`` suffix;
  - an object stored without any other encryption reports SSE-S3 (AES256):
    S3 encrypts every new object since January 2023.

  - PutObject with a checksum header (x-amz-checksum-crc32 ...) and no
    x-amz-sdk-checksum-algorithm stores that checksum, checked against the
    body (BadDigest when it differs), as it does with both headers
    (*PutObject*, x-amz-checksum-crc32: the checksum "of the object"; the
    SDKs send a precomputed checksum without the algorithm header); moto
    stored none;
  - HeadObject and GetObject with partNumber on a multipart object answer
    206 with the object's headers (content type, cache control, metadata,
    ETag, storage class, encryption, tag count), the part's Content-Length
    and Content-Range, and x-amz-mp-parts-count; GetObject sends the part's
    bytes (*HeadObject*, partNumber: "Effectively performs a 'ranged' HEAD
    request for the part specified"). moto answered HeadObject with the
    part's own record (no metadata, binary/octet-stream, the part's ETag)
    and GetObject with the whole object.

Buckets:
  - server access logs are not delivered while the emulator runs (moto
    wrote a log object into the target bucket on every request, the
    requests of other accounts included): AWS delivers them "on a
    best-effort basis", periodically, "within a few hours" (*Logging requests
    with server access logging*, "Best-effort server log delivery"), so a
    test never sees one arrive under its feet; PutBucketLogging still checks
    the target and stores the configuration;
  - GetBucketEncryption of a bucket without a configuration reports SSE-S3
    (AES256, no bucket key), as it does for every bucket since January 2023
    (*Setting default server-side encryption behavior for Amazon S3
    buckets*); DeleteBucketEncryption therefore returns to SSE-S3;
  - a new bucket has S3 Block Public Access on (all four settings) and
    Object Ownership BucketOwnerEnforced, the defaults since April 2023
    (*Blocking public access to your Amazon S3 storage*; *Controlling
    ownership of objects*), unless CreateBucket's x-amz-object-ownership
    says otherwise;
  - GetObjectLockConfiguration reports the one retention period that was set
    (Days or Years; moto reported the other as 0, which AWS refuses in a
    PutObjectLockConfiguration);
  - PutObjectLockConfiguration is accepted on a bucket that holds objects
    (*Enabling S3 Object Lock on an existing bucket*, since November 2023);
    moto refused with BucketNeedsToBeNew even to change the default retention.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import unquote, urlparse

from moto.s3 import responses as s3_responses
from moto.s3.exceptions import InvalidBucketState, S3AccessDeniedError, S3ClientError
from moto.s3.models import FakeKey, PublicAccessBlock, S3Backend, s3_backends
from moto.s3.utils import compute_checksum

class InvalidPartNumber(Exception):
    """A part number beyond the object's parts: AWS answers 416."""

    RESPONSE = (
        416,
        {"content-type": "application/xml"},
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidPartNumber</Code>'
        "<Message>The requested partnumber is not satisfiable</Message></Error>",
    )


#: What GetBucketEncryption reports for a bucket without a configuration.
SSE_S3_DEFAULT: dict[str, Any] = {
    "Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}
}
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


#: Operation -> the root element of its response (S3 API reference).
RESPONSE_ROOTS = {
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketNotification": "NotificationConfiguration",  # moto's name when none is set
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "ListParts": "ListPartsResult",
}


def apply() -> None:
    S3Backend.log_incoming_request = lambda self, request, bucket_name: None  # type: ignore[method-assign]
    _response_roots()
    _access()
    _copy_tags()
    _checksums()
    _parts()
    _object_encryption()
    _bucket_defaults()
    _object_lock()


# --- responses -------------------------------------------------------------------------


def with_root(body: Any, root: str) -> Any:
    """`body` (XML, str or bytes) with its root element renamed `root`."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    match = re.search(r"<([A-Za-z]+)([ />])", text.split("?>", 1)[-1])
    if match is None or match.group(1) == root:
        return body
    old = match.group(1)
    text = re.sub(rf"<{old}([ />])", rf"<{root}\1", text, count=1)
    text = text.replace(f"</{old}>", f"</{root}>")
    return text.encode("utf-8") if isinstance(body, bytes) else text


def _response_roots() -> None:
    Response = s3_responses.S3Response
    serialized = Response.serialized

    def serialize(self: Any, action_result: Any) -> Any:
        status, headers, body = serialized(self, action_result)
        root = RESPONSE_ROOTS.get(self.data.get("Action") or self._get_action())
        if root and status < 300 and body:
            body = with_root(body, root)
            headers["content-length"] = str(len(body.encode("utf-8") if isinstance(body, str) else body))
        return status, headers, body

    Response.serialized = serialize  # type: ignore[method-assign]


# --- access across accounts ------------------------------------------------------


def _principals(principal: Any) -> list[str]:
    """The AWS principals of a statement's Principal (``*`` for anyone)."""
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    values = principal.get("AWS", [])
    return [values] if isinstance(values, str) else list(values)


def policy_grants(policy: bytes | str | None, account: str) -> bool:
    """An Allow statement of `policy` names `account` (or anyone) as principal."""
    if not policy:
        return False
    try:
        statements = json.loads(policy).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        for principal in _principals(statement.get("Principal")):
            parts = principal.split(":")
            if principal in ("*", account) or (len(parts) >= 6 and parts[4] == account):
                return True
    return False


def denied(bucket_name: str, caller: str) -> bool:
    """`caller` (an account id) may not read `bucket_name`: the bucket
    exists, another account owns it, and its policy grants the caller nothing."""
    owner = s3_backends.bucket_accounts.get(bucket_name)
    if owner is None:
        return False  # moto's own answer (NoSuchBucket) stands
    partition, account = owner
    if account == caller:
        return False
    bucket = s3_backends[account][partition].buckets.get(bucket_name)
    return bucket is not None and not policy_grants(bucket.policy, caller)


def copy_source_bucket(header: str | bytes | None) -> str | None:
    """The bucket of an x-amz-copy-source header (``/bucket/key?versionId=``)."""
    if not header:
        return None
    if isinstance(header, bytes):
        header = header.decode("utf-8")
    return unquote(urlparse(header).path).lstrip("/").split("/", 1)[0]


def _access() -> None:
    Response = s3_responses.S3Response
    head_bucket, get_location = Response.head_bucket, Response.get_bucket_location
    copy_object, upload_part_copy = Response.copy_object, Response.upload_part_copy

    def guarded_head_bucket(self: Any) -> Any:
        if denied(self.bucket_name, self.current_account):
            return 403, {}, ""
        return head_bucket(self)

    def guarded_location(self: Any) -> Any:
        if denied(self.bucket_name, self.current_account):
            raise S3AccessDeniedError()
        return get_location(self)

    def guarded_copy(original: Any) -> Any:
        def copy(self: Any) -> Any:
            source = copy_source_bucket(self.headers.get("x-amz-copy-source"))
            if source and denied(source, self.current_account):
                raise S3AccessDeniedError()
            return original(self)

        return copy

    Response.head_bucket = guarded_head_bucket  # type: ignore[method-assign]
    Response.get_bucket_location = guarded_location  # type: ignore[method-assign]
    Response.copy_object = guarded_copy(copy_object)  # type: ignore[method-assign]
    Response.upload_part_copy = guarded_copy(upload_part_copy)  # type: ignore[method-assign]


# --- objects ---------------------------------------------------------------------------


def _copy_tags() -> None:
    """The copy takes the source's tags from the source owner's tagger (moto
    looked in the caller's, which holds them only when both are one account);
    the response handler replaces them afterwards on TaggingDirective REPLACE."""
    original = S3Backend.copy_object

    def copy_object(self: S3Backend, src_key: FakeKey, dest_bucket_name: str, dest_key_name: str, *args: Any, **kwargs: Any) -> Any:
        result = original(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs)
        if src_key.account_id != self.account_id:
            source = s3_backends[src_key.account_id][src_key.partition]
            tags = source.tagger.list_tags_for_resource(src_key.arn)["Tags"]
            new_key = self.get_object(dest_bucket_name, dest_key_name)
            if tags and new_key is not None:
                self.tagger.tag_resource(new_key.arn, tags)
        return result

    S3Backend.copy_object = copy_object  # type: ignore[method-assign]


#: Checksum algorithms of the x-amz-checksum-* headers, and whether moto
#: computes them exactly (CRC32C and CRC64NVME need optional libraries).
CHECKSUMS = {"CRC64NVME": False, "CRC32C": False, "CRC32": True, "SHA256": True, "SHA1": True}


def _checksums() -> None:
    Response = s3_responses.S3Response
    get_checksum = Response._get_checksum

    def checksum(self: Any, response_headers: dict[str, Any]) -> tuple[str, str | None]:
        algorithm, value = get_checksum(self, response_headers)
        if algorithm:
            return algorithm, value
        for name, exact in CHECKSUMS.items():
            given = self.headers.get(f"x-amz-checksum-{name.lower()}")
            if not given:
                continue
            if exact and compute_checksum(self.body or b"", algorithm=name).decode() != given:
                raise S3ClientError("BadDigest", f"The {name} you specified did not match the calculated checksum.")
            response_headers[f"x-amz-checksum-{name.lower()}"] = given
            return name, given
        return algorithm, value

    Response._get_checksum = checksum  # type: ignore[method-assign]


def part_range(key: FakeKey, number: int) -> tuple[int, int, int]:
    """(first byte, last byte, parts count) of part `number` of multipart `key`."""
    sizes = [key.multipart.parts[n].size for n in key.multipart.partlist]  # type: ignore[union-attr]
    if not 1 <= number <= len(sizes):
        raise InvalidPartNumber()
    start = sum(sizes[: number - 1])
    return start, start + sizes[number - 1] - 1, len(sizes)


def _as_part(headers: dict[str, Any], key: FakeKey, number: int) -> dict[str, Any]:
    """`headers` of the whole object, narrowed to part `number`."""
    start, end, count = part_range(key, number)
    out = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "content-range")}
    out.update({"content-length": str(end - start + 1), "content-range": f"bytes {start}-{end}/{key.size}", "x-amz-mp-parts-count": str(count)})
    return out


def _parts() -> None:
    Response = s3_responses.S3Response
    head_object, get_object = Response.head_object, Response.get_object

    def head(self: Any, bucket_name: str, query: dict[str, Any], key_name: str, headers: dict[str, Any]) -> Any:
        number = query.get("partNumber", [None])[0]
        key = self.backend.get_object(bucket_name, key_name, query.get("versionId", [None])[0]) if number else None
        if not isinstance(key, FakeKey) or not key.multipart:
            return head_object(self, bucket_name, query, key_name, headers)
        whole = {k: v for k, v in query.items() if k != "partNumber"}
        status, out, body = head_object(self, bucket_name, whole, key_name, headers)
        if status != 200:
            return status, out, body
        try:
            return 206, _as_part(out, key, int(number)), body
        except InvalidPartNumber:
            return 416, {}, ""

    def get(self: Any) -> Any:
        number = self._get_int_param("partNumber")
        status, out, body = get_object(self)
        if not number or status != 200:
            return status, out, body
        key, _ = self._get_key()
        if not key.multipart:
            return status, out, body
        try:
            start, end, _ = part_range(key, number)
        except InvalidPartNumber:
            return InvalidPartNumber.RESPONSE
        return 206, _as_part(out, key, number), body[start : end + 1]

    Response.head_object = head  # type: ignore[method-assign]
    Response.get_object = get  # type: ignore[method-assign]


def _object_encryption() -> None:
    original = S3Backend.put_object

    def put_object(self: S3Backend, *args: Any, **kwargs: Any) -> FakeKey:
        key = original(self, *args, **kwargs)
        if key.encryption is None:
            key.encryption = "AES256"
        elif key.encryption in KMS_ALGORITHMS:
            opaque = secrets.token_hex(16)
            parts = (key._etag or "").partition("-")[2]
            key._etag = f"{opaque}-{parts}" if parts else opaque
        return key

    S3Backend.put_object = put_object  # type: ignore[method-assign]


# --- buckets ---------------------------------------------------------------------------


def _bucket_defaults() -> None:
    create_bucket, get_encryption = S3Backend.create_bucket, S3Backend.get_bucket_encryption

    def create(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        bucket = create_bucket(self, *args, **kwargs)
        bucket.public_access_block = PublicAccessBlock(True, True, True, True)
        bucket.ownership_rule = "BucketOwnerEnforced"
        return bucket

    def encryption(self: S3Backend, bucket_name: str) -> dict[str, Any] | None:
        return get_encryption(self, bucket_name) or SSE_S3_DEFAULT

    S3Backend.create_bucket = create  # type: ignore[method-assign]
    S3Backend.get_bucket_encryption = encryption  # type: ignore[method-assign]


def _object_lock() -> None:
    get_lock = S3Backend.get_object_lock_configuration

    def get_configuration(self: S3Backend, bucket_name: str) -> tuple[bool, str | None, int | None, int | None]:
        enabled, mode, days, years = get_lock(self, bucket_name)
        return enabled, mode, days or None, years or None

    def put_configuration(
        self: S3Backend,
        bucket_name: str,
        lock_enabled: bool,
        mode: str | None = None,
        days: int | None = None,
        years: int | None = None,
    ) -> None:
        """moto's, without the refusal of a bucket that holds objects."""
        bucket = self.get_bucket(bucket_name)
        if not bucket.is_versioned:
            raise InvalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
        if lock_enabled:
            bucket.object_lock_enabled = True
            bucket.versioning_status = "Enabled"
        bucket.default_lock_mode = mode
        bucket.default_lock_days = days
        bucket.default_lock_years = years

    S3Backend.get_object_lock_configuration = get_configuration  # type: ignore[method-assign]
    S3Backend.put_object_lock_configuration = put_configuration  # type: ignore[method-assign]
