"""Tests of emulator/ferry_shim/speed.py: the emulator answers as before, only
faster. In-process for the parsers and the attribute-name cache; over HTTP,
on this module's own emulator, for kept-alive connections."""

from __future__ import annotations

import http.client
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from botocore.utils import parse_to_aware_datetime
from shim_fixtures import REGION, aws, random_account, shim_emulator  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ferry_shim import speed  # noqa: E402

TIMESTAMPS = [
    "2026-11-23T05:33:00.123Z",
    "2026-11-23T05:33:00Z",
    "2026-11-23T05:33:00.123456",
    "2026-11-23T07:33:00+02:00",
    "2026-11-23",
    "2026-11-23 05:33:00",
    "20261123",  # an epoch to botocore, a date to fromisoformat
    "1700000000",
    "Mon, 23 Nov 2026 05:33:00 GMT",
    1700000000,
    1700000000.5,
    datetime(2026, 11, 23, 5, 33),
    datetime(2026, 11, 23, 5, 33, tzinfo=timezone.utc),
]


@pytest.mark.parametrize("value", TIMESTAMPS, ids=[repr(v) for v in TIMESTAMPS])
def test_timestamps_parse_as_botocore_parses_them(value: Any) -> None:
    ours, theirs = speed.aware_datetime(value), parse_to_aware_datetime(value)
    assert ours == theirs and ours.utcoffset() == theirs.utcoffset()
    # moto then formats them: the text must match too.
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%a, %d %b %Y %H:%M:%S GMT"):
        assert ours.strftime(fmt) == theirs.strftime(fmt)


def test_attribute_names_are_remembered_per_model_member_not_per_response() -> None:
    """moto builds new shape objects for every response: the cache is keyed
    by names, so serialising the same response again adds nothing, and the
    bodies are the same as without the cache."""
    import moto.core.serialize as serialize
    from moto.core.responses import ActionContext, ActionResult
    from moto.core.utils import get_service_model

    def listing() -> bytes:
        model = get_service_model("s3")
        context = ActionContext(model, model.operation_model("ListObjectsV2"), serialize.get_serializer_class("s3", "rest-xml"), object())  # type: ignore[arg-type]
        result = {
            "Name": "b",
            "Prefix": "",
            "MaxKeys": 1000,
            "KeyCount": 2,
            "IsTruncated": False,
            "Contents": [
                {"Key": k, "LastModified": "2026-11-23T05:33:00.000Z", "ETag": '"e"', "Size": 1, "StorageClass": "STANDARD"}
                for k in ("a", "b &<c>")
            ],
        }
        return ActionResult(result).execute_result(context)[2]

    plain = listing()
    picker = serialize.AttributePicker
    original = picker.__call__
    try:
        speed.remembered_attribute_names(picker)
        cache = next(c.cell_contents for c in picker.__call__.__closure__ if isinstance(c.cell_contents, dict))  # type: ignore[attr-defined]
        assert listing() == plain
        size = len(cache)
        assert size > 0
        for _ in range(5):
            assert listing() == plain
        assert len(cache) == size, "a new response must not grow the cache"
    finally:
        picker.__call__ = original  # type: ignore[method-assign]


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, bytes, str | None]:
    auth = f"AWS4-HMAC-SHA256 Credential={random_account()}/20261123/{REGION}/s3/aws4_request, SignedHeaders=host, Signature=x"
    conn.request(method, path, body=body, headers={"Authorization": auth, **headers})
    answer = conn.getresponse()
    return answer.status, answer.read(), answer.getheader("Connection")


def test_connections_are_kept_alive_and_unread_bodies_drained(shim_emulator: str) -> None:
    """Several requests on one connection; one whose body the emulator does
    not read (an error before the body matters), then another that must not
    see those bytes as its request line; a chunked upload; and a client's
    own "Connection: close" still closes."""
    url = urlparse(shim_emulator)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    status, _, connection = _request(conn, "GET", "/")
    assert status == 200 and connection is None
    first = conn.sock
    assert first is not None
    for _ in range(3):
        assert _request(conn, "GET", "/")[0] == 200
    status, _, _ = _request(conn, "PUT", "/no-such-bucket-here/k", body=b"x" * 200_000)
    assert status == 404
    assert _request(conn, "GET", "/")[0] == 200
    assert conn.sock is first, "one connection throughout"

    raw = socket.create_connection((url.hostname, url.port), timeout=30)
    auth = f"AWS4-HMAC-SHA256 Credential={random_account()}/20261123/{REGION}/s3/aws4_request, SignedHeaders=host, Signature=x"
    raw.sendall(
        (
            f"PUT /no-such-bucket-either/k HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: {auth}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            f"GET / HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    received = b""
    while chunk := raw.recv(65536):
        received += chunk
    raw.close()
    assert received.count(b"HTTP/1.1 ") == 2, received[:400]
    assert b"NoSuchBucket" in received and b"ListAllMyBucketsResult" in received

    status, _, connection = _request(conn, "GET", "/", Connection="close")
    assert status == 200 and connection == "close"


def test_boto3_round_trip_over_kept_alive_connections(aws: Any) -> None:
    """Objects of several sizes up and down through one boto3 client (its
    pool keeps connections): bodies and listings intact."""
    s3 = aws("s3", random_account())
    s3.create_bucket(Bucket="speed-round-trip")
    bodies = {f"k{i}": bytes([i]) * (i * 7919) for i in range(12)}
    for key, body in bodies.items():
        s3.put_object(Bucket="speed-round-trip", Key=key, Body=body)
    for key, body in bodies.items():
        assert s3.get_object(Bucket="speed-round-trip", Key=key)["Body"].read() == body
    listed = s3.list_objects_v2(Bucket="speed-round-trip")["Contents"]
    assert {o["Key"]: o["Size"] for o in listed} == {k: len(b) for k, b in bodies.items()}


def _moto_body(result: dict[str, Any]) -> str:
    """What moto's own serializer writes for a ListObjectsV2 `result`."""
    import moto.core.serialize as serialize
    from moto.core.responses import ActionContext, ActionResult
    from moto.core.utils import get_service_model

    model = get_service_model("s3")
    context = ActionContext(model, model.operation_model("ListObjectsV2"), serialize.get_serializer_class("s3", "rest-xml"), object())  # type: ignore[arg-type]
    status, headers, body = ActionResult(result).execute_result(context)
    assert status == 200 and headers.get("Content-Type") == "application/xml", headers
    return body


def _objects(*keys: str, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"Key": k, "LastModified": "2026-11-23T05:33:0%d.000Z" % (i % 10), "ETag": f'"{i:032x}"', "Size": i * 1000, "StorageClass": "STANDARD", **extra}
        for i, k in enumerate(keys)
    ]


LISTINGS = {
    "empty": {"Name": "b", "Prefix": "", "MaxKeys": 1000, "KeyCount": 0, "IsTruncated": False, "Contents": []},
    "plain": {"Name": "b", "Prefix": "", "MaxKeys": 1000, "KeyCount": 3, "IsTruncated": False, "Contents": _objects("a", "b/c", "d")},
    "truncated": {
        "Name": "b", "Prefix": "p/", "MaxKeys": 2, "KeyCount": 2, "IsTruncated": True,
        "Contents": _objects("p/1", "p/2", ChecksumAlgorithm=["CRC32"]), "NextContinuationToken": "tok&<en>",
    },
    "owner": {"Name": "b", "Prefix": "", "MaxKeys": 5, "KeyCount": 1, "IsTruncated": False, "Contents": _objects("x", Owner={"ID": "abc", "DisplayName": "webfile"})},
    "delimiter": {
        "Name": "b", "Prefix": "", "MaxKeys": 1000, "KeyCount": 3, "IsTruncated": False, "Contents": _objects("top"),
        "Delimiter": "/", "CommonPrefixes": [{"Prefix": "a/"}, {"Prefix": "b%20c/"}], "EncodingType": "url",
    },
    "start after": {"Name": "b", "Prefix": "", "MaxKeys": 1000, "KeyCount": 1, "IsTruncated": False, "Contents": _objects("z"), "StartAfter": "m"},
    "odd keys": {
        "Name": "b", "Prefix": "", "MaxKeys": 1000, "KeyCount": 4, "IsTruncated": False,
        "Contents": _objects("ü &<>\"' x", "tab\there", "ctl\x01char", "emoji 🚢"),
    },
    "odd times": {
        "Name": "b", "Prefix": "", "MaxKeys": 1000, "KeyCount": 2, "IsTruncated": False,
        "Contents": [
            {"Key": "t1", "LastModified": "2026-11-23T05:33:00.123456Z", "ETag": '"e"', "Size": 0, "StorageClass": "GLACIER"},
            {"Key": "t2", "LastModified": datetime(2026, 11, 23, 5, 33, 1), "ETag": '"e"', "Size": 1, "StorageClass": "STANDARD"},
        ],
    },
}  # fmt: skip


@pytest.mark.parametrize("name", list(LISTINGS))
def test_listings_are_written_as_moto_writes_them(name: str) -> None:
    result = LISTINGS[name]
    assert speed.list_objects_v2_xml(result) == _moto_body(result)


def test_listings_with_members_this_does_not_write_go_to_moto() -> None:
    base = LISTINGS["plain"]
    assert speed.list_objects_v2_xml({**base, "RequestCharged": "requester"}) is None
    restored = _objects("r", RestoreStatus={"IsRestoreInProgress": True})
    assert speed.list_objects_v2_xml({**base, "Contents": restored}) is None


class _Unweakable:
    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n


class _Model:
    pass


def test_weak_instances_list_the_living_and_drop_the_dead() -> None:
    tracked = speed.WeakInstances()
    kept = [_Model() for _ in range(3)]
    for m in kept:
        tracked.append(m)
    for _ in range(3 * speed.WeakInstances.COMPACT_AFTER):
        tracked.append(_Model())  # freed at once
    # No weak references to these: held, as moto held everything.
    tracked.append(_Unweakable(7))
    alive = list(tracked)
    assert alive[:3] == kept and [u.n for u in alive[3:]] == [7]
    assert len(tracked) == 4
    # The dead references were dropped along the way, not kept forever.
    assert len(tracked._refs) < 2 * speed.WeakInstances.COMPACT_AFTER + 10


def test_deleted_s3_objects_are_freed_and_live_ones_still_tracked() -> None:
    """moto kept every object ever written alive through its model
    tracking; with the shim's tracking a deleted key is freed, and moto's
    reset still finds (and disposes of) the live ones."""
    import gc
    import weakref

    from moto.core.model_instances import model_data
    from moto.s3.models import FakeKey, s3_backends

    speed.weak_model_tracking()
    backend = s3_backends[random_account()]["aws"]
    backend.create_bucket("weak-tracking", REGION)
    backend.put_object("weak-tracking", "kept", b"k" * 10)
    backend.put_object("weak-tracking", "big", b"b" * (6 << 20))  # above moto's 5 MiB buffer
    big = weakref.ref(backend.get_object("weak-tracking", "big"))
    backend.delete_object("weak-tracking", "big")
    gc.collect()
    assert big() is None
    kept = backend.get_object("weak-tracking", "kept")
    assert any(k is kept for k in FakeKey.instances_tracked)
    # Model classes made later (moto imports its services lazily) track
    # weakly too, and so do all after a reset of moto's model data.
    from moto.core.common_models import BaseModel

    class Late(BaseModel):
        __module__ = "moto.ferry_shim_test"

    late = Late()
    assert isinstance(Late.instances_tracked, speed.WeakInstances)
    assert list(Late.instances_tracked) == [late]
    assert all(
        isinstance(m.instances_tracked, speed.WeakInstances)
        for models in model_data.values()
        for m in models.values()
    )
    import moto.moto_api._internal.models as api_models

    api_models.reset_model_data()
    assert isinstance(FakeKey.instances_tracked, speed.WeakInstances)
    assert list(FakeKey.instances_tracked) == []
    backend.put_object("weak-tracking", "after", b"a")
    assert [k.name for k in FakeKey.instances_tracked] == ["after"]
