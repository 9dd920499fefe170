"""Tests of emulator/ferry_shim/s3_xml.py: S3 answers carry the root element
the S3 API reference gives (the AWS SDK for Rust checks it; boto3 does not, so
these tests read the raw response)."""

from __future__ import annotations

from typing import Any

import pytest
from shim_fixtures import aws, owner, shim_emulator  # noqa: F401


def raw_root(client: Any, operation: str, **kwargs: Any) -> str:
    """The root element of the raw XML answer to ``operation``."""
    seen: list[bytes] = []
    event = f"after-call.s3.{operation}"
    handler = lambda http_response, **_: seen.append(http_response.content)  # noqa: E731
    client.meta.events.register(event, handler)
    try:
        getattr(client, _snake(operation))(**kwargs)
    finally:
        client.meta.events.unregister(event, handler)
    body = seen[0].decode()
    start = body.index("<", body.index("?>") + 2 if body.startswith("<?xml") else 0)
    return body[start + 1 :].split(">", 1)[0].split()[0].rstrip("/")


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


@pytest.mark.parametrize(
    "operation,root",
    [
        ("GetBucketVersioning", "VersioningConfiguration"),
        ("GetBucketNotificationConfiguration", "NotificationConfiguration"),
        ("GetBucketLogging", "BucketLoggingStatus"),
        ("ListObjectVersions", "ListVersionsResult"),
        ("ListObjectsV2", "ListBucketResult"),
    ],
)
def test_answers_use_the_documented_root_element(aws: Any, owner: str, operation: str, root: str) -> None:
    s3 = aws("s3", owner)
    bucket = f"xml-{owner}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert raw_root(s3, operation, Bucket=bucket) == root


def test_a_bucket_without_notifications_answers_an_empty_configuration(aws: Any, owner: str) -> None:
    s3 = aws("s3", owner)
    bucket = f"xml-empty-{owner}"
    s3.create_bucket(Bucket=bucket)
    assert raw_root(s3, "GetBucketNotificationConfiguration", Bucket=bucket) == "NotificationConfiguration"
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("TopicConfigurations") is None
