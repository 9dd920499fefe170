"""S3 (issue 6): buckets with their configuration and objects, migrated into
another account in the same region and into another region, through the
ferry binary; both accounts read back with boto3 (s3_inventory.py).

Only the KMS key mapping comes from ferry; destination bucket names follow
the default naming rule, computed here (s3_estate.destination_name). One
migration per destination region serves every assertion about it: plan,
apply, verify, an independent read of both sides, the source policy without
ferry's temporary statement, a second apply that does nothing, rollback.

Copy requests are counted through a logging proxy in front of the
destination side (bench's ``ferry-proxy --log`` when built, a small one
here otherwise): the kill-during-copy and incremental sync tests assert
which objects were copied, and how often.

The first test (``*estate*``) checks the harness itself, without ferry: that
s3_estate.py builds what it says, that the reader sees it, and that the
translator turns a source read into what a second build, made with the
destination's names and key, reads.
"""

from __future__ import annotations

import collections
import functools
import http.client
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlparse

import compute_inventory as ci
import pytest
import s3_estate as se
import s3_inventory as si
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import Accounts, emulator_session, ferry_binary, ferry_env, random_account
from test_compute import apply_ok, plan_items, rollback_ok, text_of, verify_ok

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
BUCKETS = ("bucket_a", "bucket_b", "bucket_c")
#: ferry's default [s3] workers: copy requests in flight at once.
WORKERS = 16
#: The buckets' KMS keys migrate with them; the threshold lets a 12 MiB
#: object take the multipart path.
S3_TOML = f"""[scope]
include = ["s3", "kms"]

[s3]
multipart_threshold = "{se.THRESHOLD}"
"""


# --- sessions ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def remembered_session(emulator: str, account: str, region: str = REGION):
    """conftest.emulator_session, once per account and region: a new boto3
    Session loads its service models anew, a second or more per client."""
    return emulator_session(emulator, account, region)


@pytest.fixture
def session(emulator):
    """conftest's ``session(account, region)``, remembered."""
    return functools.partial(remembered_session, emulator)


# --- configuration and reading -------------------------------------------------------


def configure(
    workdir: Path,
    accounts,
    emulator: str,
    dst_region: str = REGION,
    destination: str | None = None,
    source: str | None = None,
    s3: str = "",
    extra: str = "",
) -> None:
    """ferry.toml for the S3 estate; `destination` and `source` are a side's
    endpoint (the counting proxy) when not the emulator itself, `s3` more
    lines of [s3], `extra` more tables."""
    text = "\n".join(
        [
            "[source]",
            f'region = "{REGION}"',
            f'role_arn = "arn:aws:iam::{accounts.source}:role/ferry"',
            f'endpoint_url = "{source or emulator}"',
            "",
            "[destination]",
            f'region = "{dst_region}"',
            f'role_arn = "arn:aws:iam::{accounts.destination}:role/ferry"',
            f'endpoint_url = "{destination or emulator}"',
            "",
            S3_TOML + s3,
            extra,
        ]
    )
    (workdir / "ferry.toml").write_text(text)


def names_of(accounts, buckets) -> dict[str, str]:
    """Source bucket -> its destination name by the default rule."""
    return {b: se.destination_name(accounts.source, b) for b in buckets}


def key_ids(ids: dict[str, str], m: dict[str, str]) -> dict[str, str]:
    """Source KMS key id -> destination key id, as ferry mapped it (by id or ARN)."""
    out = {}
    for short, key in ids.items():
        if short.startswith("key_") and f"kms_key/{key}" in m:
            out[key] = m[f"kms_key/{key}"].rsplit("/", 1)[-1]
    return out


def assert_same(accounts, src, dst, dst_region: str, buckets, keys: dict[str, str], versions: bool = False) -> tuple[dict, dict]:
    """Each source bucket and its destination twin, read independently,
    agree on every setting and every object (key, size, digest, metadata,
    content headers, tags, storage class, checksums, encryption key) through
    the naming rule and `keys`. Returns both reads."""
    names = names_of(accounts, buckets)
    source = si.read_s3(src, REGION, buckets, versions=versions)
    assert set(source) == set(buckets)
    expected = si.translate(source, names, keys, accounts.source, accounts.destination, REGION, dst_region)
    assert not expected.unmapped, f"without a destination: {sorted(expected.unmapped)}"
    actual = si.read_s3(dst, dst_region, names.values(), versions=versions)
    differences = si.compare(expected, actual)
    assert not differences, "\n".join(differences)
    return source, actual


def no_temporaries(src, buckets) -> None:
    for bucket in buckets:
        assert si.temporary_statements(src, REGION, bucket) == [], f"ferry's statement left in {bucket}'s policy"


# --- counting copies ------------------------------------------------------------------


class _Forward(BaseHTTPRequestHandler):
    """Forwards one request to the upstream emulator, logs it like
    ferry-proxy (a JSON line: method, path, query, copy_source, status)."""

    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int]
    log: Path
    lock = threading.Lock()

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def _any(self) -> None:
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
        if body is not None:
            headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(*self.upstream, timeout=120)
        connection.request(self.command, self.path, body=body, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        path, _, query = self.path.partition("?")
        line = {"method": self.command, "path": path, "query": query or None, "copy_source": self.headers.get("x-amz-copy-source"), "status": answer.status}
        with self.lock, open(self.log, "a") as f:
            f.write(json.dumps(line) + "\n")
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        connection.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any


@pytest.fixture
def copy_proxy(emulator, tmp_path) -> Iterator[tuple[str, Path]]:
    """(URL, log file) of a logging proxy in front of the emulator: bench's
    ferry-proxy when it is built, this module's otherwise."""
    log = tmp_path / "requests.jsonl"
    log.touch()
    binary = Path(os.environ.get("FERRY_PROXY_BIN") or ferry_binary().parent / "ferry-proxy")
    if binary.is_file():
        proc = subprocess.Popen([str(binary), "--upstream", emulator, "--log", str(log)], stdout=subprocess.PIPE, text=True)
        try:
            yield proc.stdout.readline().strip(), log  # type: ignore[union-attr]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        return
    parsed = urlparse(emulator)
    handler = type("Forward", (_Forward,), {"upstream": (parsed.hostname, parsed.port), "log": log})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()


def copies(log: Path, start: int = 0) -> list[str]:
    """Destination keys of the CopyObject requests that succeeded, in the
    log from line `start`, one entry per request (a request refused, or
    failed and retried, copied nothing); UploadPartCopy requests are left out."""
    out = []
    for line in log.read_text().splitlines()[start:]:
        entry = json.loads(line)
        query = entry.get("query") or ""
        if entry["method"] == "PUT" and entry.get("copy_source") and "partNumber=" not in query and entry["status"] == 200:
            out.append(unquote(entry["path"]).lstrip("/").split("/", 1)[1])
    return out


def log_lines(log: Path) -> int:
    return len(log.read_text().splitlines())


def settle(log: Path, quiet: float = 1.0) -> None:
    """Wait until the log has not grown for `quiet` seconds."""
    size, since = -1, time.monotonic()
    while time.monotonic() - since < quiet:
        now = log.stat().st_size
        if now != size:
            size, since = now, time.monotonic()
        time.sleep(0.05)


# --- the estate, shared --------------------------------------------------------------------


@dataclass(frozen=True)
class Estate:
    """The S3 estate built once per module in its own source account; the
    tests that use it only read the source, and migrate it into a fresh
    destination account each."""

    account: str
    ids: dict[str, str]
    read: dict  # the source as built, read with s3_inventory

    @property
    def buckets(self) -> list[str]:
        return [self.ids[b] for b in BUCKETS]

    def accounts(self, accounts: Accounts) -> Accounts:
        """This estate's source with the test's fresh destination."""
        return Accounts(source=self.account, destination=accounts.destination)


@pytest.fixture(scope="module")
def estate(emulator) -> Estate:
    account = random_account()
    ids = se.build_s3_estate(lambda r: remembered_session(emulator, account, r), REGION, account)
    read = si.read_s3(remembered_session(emulator, account, REGION), REGION, [ids[b] for b in BUCKETS])
    return Estate(account, ids, read)


# --- the harness itself -------------------------------------------------------------------


def test_s3_estate_reads_back_and_translates(session, accounts, estate):
    """The estate is what s3_estate says; a second build in another account
    and region, under other names, reads as the translated source read."""
    accounts = estate.accounts(accounts)
    ids, buckets, read = estate.ids, estate.buckets, estate.read
    a, b, c = (read[ids[k]] for k in BUCKETS)
    assert (len(a["objects"]), len(b["objects"]), len(c["objects"])) == (se.OBJECTS_A + 3, se.OBJECTS_B + 1, 0)
    assert se.DELETED not in a["objects"], "deleted: a delete marker is current"
    assert a["settings"]["versioning"] == "Enabled" and b["settings"]["versioning"] == "Disabled"
    key_arn = a["settings"]["encryption"][0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    assert key_arn.endswith(ids["key_a"]) and a["settings"]["encryption"][0]["BucketKeyEnabled"] is True
    assert {o["encryption"]["key"] for o in a["objects"].values()} == {key_arn}
    assert all(o["digest"].startswith("md5:") for o in a["objects"].values()), "SSE-KMS ETags are not MD5s"
    assert a["settings"]["logging"] == {"TargetBucket": ids["bucket_b"], "TargetPrefix": se.LOG_PREFIX}
    assert a["settings"]["tags"] == {"team": "data", "env": "prod", "cost-center": "1234"}
    assert a["settings"]["ownership"] == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    assert b["settings"]["public_access_block"] == dict.fromkeys(se.PUBLIC_ACCESS_A, True), "a new bucket's default"
    assert (c["settings"]["public_access_block"], c["settings"]["ownership"]) == (None, None)
    assert accounts.source in json.dumps(a["settings"]["policy"]) and ids["bucket_a"] in json.dumps(b["settings"]["policy"])
    big = b["objects"][se.BIG_B]
    assert (big["size"], big["digest"][-2:], big["tags"], big["ContentType"]) == (12 * se.MIB, "-3", {"size": "big"}, "application/x-blob")
    objects, planned = b["objects"], se.plan_objects("", se.OBJECTS_B)
    assert sum(o["size"] == 0 for o in objects.values()) == sum(not p.body for p in planned) > 0
    assert {o["storage_class"] for o in objects.values()} == {"STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA"}
    assert sum("SHA256" in o["checksums"] for o in objects.values()) == sum(p.checksum == "SHA256" for p in planned) > 0
    assert sum(bool(o["tags"]) for o in objects.values()) == sum(bool(p.tags) for p in planned) + 1, "and the big one"
    assert any(" " in k and any(ord(ch) > 127 for ch in k) for k in objects), "keys with spaces and unicode"

    names = {b: f"{b}-twin" for b in buckets}
    twin_ids = se.build_s3_estate(
        lambda r: session(accounts.destination, r), OTHER_REGION, accounts.destination, names={k: names[ids[k]] for k in BUCKETS}
    )
    twin = si.read_s3(session(accounts.destination, OTHER_REGION), OTHER_REGION, names.values())
    expected = si.translate(read, names, {ids["key_a"]: twin_ids["key_a"]}, accounts.source, accounts.destination, REGION, OTHER_REGION)
    assert expected.unmapped == set()
    assert si.compare(expected, twin) == []
    text = json.dumps(expected, ensure_ascii=False)
    at = text.find(accounts.source)
    assert at < 0, f"the source account is left in: ...{text[at - 200 : at + 50]}"
    assert f'arn:aws:s3:::{ids["bucket_a"]}"' not in text and f'"{ids["bucket_b"]}"' not in text, "source names are left in"
    # And the comparison notices a difference: one object's tags.
    session(accounts.destination, OTHER_REGION).client("s3").put_object_tagging(
        Bucket=names[ids["bucket_b"]], Key="data/0000.json", Tagging={"TagSet": [{"Key": "shape", "Value": "changed"}]}
    )
    twin = si.read_s3(session(accounts.destination, OTHER_REGION), OTHER_REGION, names.values())
    assert [d.split(":\n")[0] for d in si.compare(expected, twin)] == [f"{names[ids['bucket_b']]} objects 'data/0000.json'"]


def test_s3_estate_moto_gaps_still_hold(session, accounts):
    """Fails when a moto upgrade (or the shim) fixes a gap: then update
    s3_estate.MOTO_GAPS, the reader and emulator/README.md."""
    stale = "moto fixed this: update s3_estate.MOTO_GAPS"
    assert set(se.MOTO_GAPS) == {"GetObject", "HeadObject(VersionId=null)", "PutObjectTagging(TagSet=[])"}
    bucket = se.build_many(lambda r: session(accounts.source, r), REGION, 1)
    assert session(accounts.destination).client("s3").get_object(Bucket=bucket, Key="obj/00000")["ContentLength"] == 64, stale
    once = Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1})
    s3 = session(accounts.source).client("s3", config=once)
    for call, kwargs, status in (
        (s3.head_object, {"VersionId": "null"}, 400),
        (s3.put_object_tagging, {"Tagging": {"TagSet": []}}, 500),
    ):
        with pytest.raises(ClientError) as caught:
            call(Bucket=bucket, Key="obj/00000", **kwargs)
            pytest.fail(stale)
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, stale


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("dst_region", [REGION, OTHER_REGION])
def test_round_trip(session, accounts, emulator, workdir, ferry, dst_region, estate, request):
    """The estate migrated into another account: a clean strict plan,
    apply, verify, an independent read of both sides that agrees on every
    setting and object, the source as it was (ferry's temporary policy
    statement gone), a second apply that does nothing, and rollback
    leaving the destination as before (which frees the destination names
    for the next round trip of the same estate)."""
    accounts = estate.accounts(accounts)
    ids, buckets, source_before = estate.ids, estate.buckets, estate.read
    src, dst = session(accounts.source), session(accounts.destination, dst_region)
    dest_before = si.bucket_names(dst, dst_region)
    configure(workdir, accounts, emulator, dst_region)
    # Whatever fails, the destination names are freed for the next round trip.
    request.addfinalizer(lambda: ferry("rollback --yes", timeout=300))

    code, items = plan_items(ferry, "--strict")
    assert code == 0, {k: text_of(i) for k, i in items.items() if i["action"] == "conflict"}
    for bucket in buckets:
        assert items[f"s3_bucket/{bucket}"]["action"] == "create", items[f"s3_bucket/{bucket}"]
    assert items[f"kms_key/{ids['key_a']}"]["action"] == "create"

    apply_ok(ferry)
    verify_ok(ferry)
    m = ci.full_mapping(ferry)
    names = names_of(accounts, buckets)
    assert {b: m.get(f"s3_bucket/{b}") for b in buckets} == names, "destination names follow {name}-{hash6}"
    _, dest = assert_same(accounts, src, dst, dst_region, buckets, key_ids(ids, m))
    assert dest[names[ids["bucket_b"]]]["objects"][se.BIG_B]["digest"].endswith("-3"), "copied in the source's part layout"
    assert si.read_s3(src, REGION, buckets) == source_before, "the source is as it was"
    no_temporaries(src, buckets)

    again = ferry("apply --yes", timeout=300)
    assert again.returncode == 0 and "Nothing to do" in again.stdout, again.stdout + again.stderr
    _, items = plan_items(ferry)
    assert {k: i["action"] for k, i in items.items() if i["action"] not in ("skip", "adopt")} == {}, "a second plan changes nothing"

    rollback_ok(ferry)
    assert si.bucket_names(dst, dst_region) == dest_before
    no_temporaries(src, buckets)


# --- hard cases -----------------------------------------------------------------------------------


def test_destination_name_taken_by_another_account(session, accounts, emulator, workdir, ferry):
    """The default destination name is held by a third account: a conflict
    that names the bucket, and apply changes nothing. [naming.buckets]
    chooses another name, and the bucket migrates under it."""
    bucket = se.build_many(lambda r: session(accounts.source, r), REGION, 5)
    taken = se.destination_name(accounts.source, bucket)
    session(random_account([accounts.source, accounts.destination])).client("s3").create_bucket(Bucket=taken)
    dst = session(accounts.destination)
    configure(workdir, accounts, emulator)

    code, items = plan_items(ferry, "--strict")
    assert code == 1
    item = items[f"s3_bucket/{bucket}"]
    assert item["action"] == "conflict" and taken in text_of(item), item
    assert f'destination bucket name "{taken}" is taken by another aws account; bucket names are global' in text_of(item), item
    refused = ferry("apply --yes")
    assert refused.returncode == 1 and "conflict" in refused.stderr
    assert si.bucket_names(dst, REGION) == []

    free = f"{bucket}-moved"
    configure(workdir, accounts, emulator, extra=f'[naming.buckets]\n"{bucket}" = "{free}"\n')
    code, items = plan_items(ferry, "--strict")
    assert code == 0 and items[f"s3_bucket/{bucket}"]["action"] == "create", items[f"s3_bucket/{bucket}"]
    apply_ok(ferry)
    verify_ok(ferry)
    assert ci.full_mapping(ferry)[f"s3_bucket/{bucket}"] == free
    assert si.bucket_names(dst, REGION) == [free]


def test_killed_during_copy_resumes_without_copying_twice(session, accounts, emulator, workdir, ferry, copy_proxy):
    """apply is SIGKILLed while it copies a bucket of 2,000 small objects;
    the next apply completes, and no object is copied twice: the copies the
    killed run made count as done. Counted twice over: per key through the
    proxy, and by the destination itself, whose bucket is versioned (as the
    source is), so that every copy of a key is a version of it."""
    count = 2000
    bucket = se.build_many(lambda r: session(accounts.source, r), REGION, count, versioned=True)
    url, log = copy_proxy
    configure(workdir, accounts, emulator, destination=url)

    proc = subprocess.Popen(
        [str(ferry_binary()), "apply", "--yes"], cwd=workdir, env=ferry_env(workdir), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while len(copies(log)) < count // 5 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, f"apply ended before the kill:\n{proc.communicate()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    settle(log)
    before = collections.Counter(copies(log))
    assert 0 < len(before) < count, f"killed after {len(before)} copies"

    resumed = ferry("apply --yes", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    verify_ok(ferry)
    made = collections.Counter(copies(log))
    twice = sorted(k for k, n in made.items() if n > 1)
    assert twice == [], f"{len(twice)} objects copied twice, e.g. {twice[:5]} ({len(before)} copied before the kill)"
    # A copy in flight at the kill may have been made without the proxy
    # logging it (it logs what it answers; the killed client got no answer).
    unlogged = {f"obj/{i:05d}" for i in range(count)} - set(made)
    assert len(unlogged) <= WORKERS, f"{len(unlogged)} objects never copied through the proxy"
    versions = si.version_counts(session(accounts.destination), REGION, se.destination_name(accounts.source, bucket))
    assert {k: n for k, n in versions.items() if n != 1} == {} and len(versions) == count, "one version per key: one copy each"
    listed = si.listing(session(accounts.source), REGION, bucket)
    assert si.listing(session(accounts.destination), REGION, se.destination_name(accounts.source, bucket)) == listed
    assert len(listed) == count
    no_temporaries(session(accounts.source), [bucket])


def test_incremental_sync_copies_only_what_changed(session, accounts, emulator, workdir, ferry, copy_proxy):
    """After a first apply, one object changes (same size, other bytes) and
    one is added: the next apply copies exactly those two, and verify and
    the independent read agree again."""
    bucket = se.build_many(lambda r: session(accounts.source, r), REGION, 50)
    url, log = copy_proxy
    configure(workdir, accounts, emulator, destination=url)
    apply_ok(ferry)
    assert sorted(copies(log)) == [f"obj/{i:05d}" for i in range(50)]

    s3 = session(accounts.source).client("s3")
    old = s3.get_object(Bucket=bucket, Key="obj/00007")["Body"].read()
    s3.put_object(Bucket=bucket, Key="obj/00007", Body=bytes(reversed(old)))
    s3.put_object(Bucket=bucket, Key="new/ünï code.txt", Body=b"added later", ContentType="text/plain", Tagging="late=yes")
    start = log_lines(log)
    code, items = plan_items(ferry)
    assert items[f"s3_bucket/{bucket}"]["action"] != "create", items[f"s3_bucket/{bucket}"]
    apply_ok(ferry)
    assert sorted(copies(log, start)) == ["new/ünï code.txt", "obj/00007"]
    verify_ok(ferry)
    assert_same(accounts, session(accounts.source), session(accounts.destination), REGION, [bucket], {})

    # Drift in the destination: verify names the keys, the next apply mends them.
    dest, theirs = se.destination_name(accounts.source, bucket), session(accounts.destination).client("s3")
    theirs.delete_object(Bucket=dest, Key="obj/00003")
    theirs.put_object(Bucket=dest, Key="obj/00004", Body=b"not the source's bytes")
    theirs.put_object(Bucket=dest, Key="extra", Body=b"only here")
    found = ferry("verify --output json", timeout=300)
    assert found.returncode == 1, found.stdout + found.stderr
    report = json.dumps(json.loads(found.stdout)["report"], ensure_ascii=False)
    assert all(k in report for k in ("obj/00003", "obj/00004", "extra")), report
    start = log_lines(log)
    apply_ok(ferry)
    assert sorted(copies(log, start)) == ["obj/00003", "obj/00004"]


def test_apply_lists_each_source_bucket_once(session, accounts, emulator, workdir, ferry, copy_proxy):
    """apply plans and copies in one process: the listing discovery makes
    of a source bucket (for the plan's summary) is kept on disk and
    replayed by the copy, so the bucket is listed once, not twice; the
    kept files are gone afterwards. A second apply (the plan finds both
    buckets' summaries equal: nothing to copy) lists it once again, and
    verify lists it itself. The new bucket's configuration is read back once
    whole (the configuration phase) and then only in the parts the contents
    phase compares."""
    count = 1_200  # two pages
    bucket = se.build_many(lambda r: session(accounts.source, r), REGION, count)
    url, log = copy_proxy
    configure(workdir, accounts, emulator, source=url, destination=url)

    def source_listings(start: int) -> int:
        lines = [json.loads(line) for line in log.read_text().splitlines()[start:]]
        return sum(
            1 for e in lines
            if e["method"] == "GET" and e["path"].strip("/") == bucket and "list-type=2" in (e.get("query") or "")
        )  # fmt: skip

    apply_ok(ferry)
    assert source_listings(0) == 2, "one listing of two pages, shared by the plan and the copy"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    if all("api" in e for e in entries):  # ferry-proxy names each call (the fallback proxy does not)
        apis = [e["api"] for e in entries]
        assert apis.count("sts:AssumeRole") == 2, "the role is assumed once per side"
        copy = se.destination_name(accounts.source, bucket)
        reads = [e["api"] for e in entries if e["method"] == "GET" and e["path"].strip("/") == copy]
        assert reads.count("s3:GetBucketCors") == 1 and reads.count("s3:GetBucketWebsite") == 1, reads
        assert reads.count("s3:GetBucketPolicy") == 2 and reads.count("s3:GetBucketLogging") == 2, reads
    assert not any((workdir / ".ferry" / "listings").glob("*")), "kept listings are deleted after the run"
    listed = si.listing(session(accounts.source), REGION, bucket)
    assert si.listing(session(accounts.destination), REGION, se.destination_name(accounts.source, bucket)) == listed
    assert len(listed) == count

    start = log_lines(log)
    again = ferry("apply --yes", timeout=300)
    assert again.returncode == 0 and "Nothing to do" in again.stdout, again.stdout + again.stderr
    assert source_listings(start) == 2
    start = log_lines(log)
    verify_ok(ferry)
    assert source_listings(start) >= 2, "verify never uses a kept listing: it lists for itself"


def test_source_policy_untouched_when_forbidden(session, accounts, emulator, workdir, ferry, copy_proxy):
    """With [s3] source_policy = false, ferry never writes the source
    bucket's policy: the objects travel through ferry (the destination
    could not copy them server-side: the source policy grants it nothing),
    with their metadata and tags, and verify agrees."""
    bucket = se.build_many(lambda r: session(accounts.source, r), REGION, 20)
    s3 = session(accounts.source).client("s3")
    s3.put_object(Bucket=bucket, Key="meta ü.txt", Body=b"x" * 100, ContentType="text/plain", Metadata={"m": "v"}, Tagging="t=1")
    url, log = copy_proxy
    configure(workdir, accounts, emulator, source=url, s3="source_policy = false\n")
    apply_ok(ferry)
    verify_ok(ferry)
    policy_writes = [
        line for line in map(json.loads, log.read_text().splitlines())
        if line["method"] in ("PUT", "DELETE") and "policy" in (line.get("query") or "")
    ]  # fmt: skip
    assert policy_writes == [], "ferry wrote the source policy"
    assert si.temporary_statements(session(accounts.source), REGION, bucket) == []
    assert_same(accounts, session(accounts.source), session(accounts.destination), REGION, [bucket], {})


def test_all_versions(session, accounts, emulator, workdir, ferry):
    """With versions = "all", every version of every key is copied, oldest
    first, and the delete markers with them, so the destination's history
    and current objects read as the source's; rollback removes it all."""
    bucket = se.build_versioned(lambda r: session(accounts.source, r), REGION)
    src, dst = session(accounts.source), session(accounts.destination)
    configure(workdir, accounts, emulator, s3='versions = "all"\n')
    apply_ok(ferry)
    verify_ok(ferry)
    source, dest = assert_same(accounts, src, dst, REGION, [bucket], {}, versions=True)
    history = dest[se.destination_name(accounts.source, bucket)]["versions"]
    assert [len(history[k]["versions"]) for k in se.REWRITTEN] == [3, 3]
    assert (history[se.DELETED]["deleted"], history[se.RECREATED]["deleted"]) == (True, False)
    rollback_ok(ferry)
    assert si.bucket_names(dst, REGION) == []


def test_batch_operations_offered_and_refused_where_s3_control_has_no_jobs(session, accounts, emulator, workdir, ferry):
    """A bucket at the batch threshold is offered to S3 Batch Operations in
    the plan; with `batch = true`, apply asks S3 Control for its jobs first,
    and where there are none (the emulator) fails with a message that says
    what to do, having written no manifest, work bucket or role; with `batch
    = false` the same bucket is copied from this machine."""
    bucket = se.build_many(lambda r: session(accounts.source, r), REGION, 5)
    dst = session(accounts.destination)
    configure(workdir, accounts, emulator, s3="batch_objects = 5\n")
    code, items = plan_items(ferry, "--strict")
    assert code == 0
    assert "set [s3] batch = true" in text_of(items[f"s3_bucket/{bucket}"]), items[f"s3_bucket/{bucket}"]

    configure(workdir, accounts, emulator, s3="batch_objects = 5\nbatch = true\n")
    code, items = plan_items(ferry, "--strict")
    assert "copied with s3 batch operations" in text_of(items[f"s3_bucket/{bucket}"])
    refused = ferry("apply --yes")
    assert refused.returncode == 3, refused.stderr
    assert "S3 Batch Operations is not available at" in refused.stderr
    assert "set [s3] batch = false" in refused.stderr
    assert not [b for b in si.bucket_names(dst, REGION) if b.startswith("ferry-batch-")]
    roles = dst.client("iam").list_roles(PathPrefix="/ferry/")["Roles"]
    assert [r["RoleName"] for r in roles if r["RoleName"].startswith("ferry-batch-")] == []

    configure(workdir, accounts, emulator, s3="batch_objects = 5\nbatch = false\n")
    apply_ok(ferry)
    verify_ok(ferry)


def test_killed_between_create_and_tagging_adopts_the_bucket(session, accounts, emulator, workdir, ferry):
    """Buckets cannot be tagged at creation: a run killed between CreateBucket
    and PutBucketTagging left an untagged bucket under the deterministic
    name. The next apply adopts it (BucketAlreadyOwnedByYou / ours in this
    region), tags it and copies its objects: one bucket, verify clean."""
    bucket = se.build_many(lambda r: session(accounts.source, r), REGION, 5)
    dst = session(accounts.destination)
    configure(workdir, accounts, emulator)
    killed = ferry("apply --yes", env={"FERRY_FAILPOINT": "bucket-created:1"})
    assert killed.returncode != 0
    name = se.destination_name(accounts.source, bucket)
    assert si.bucket_names(dst, REGION) == [name]
    apply_ok(ferry)
    verify_ok(ferry)
    assert si.bucket_names(dst, REGION) == [name]
    tags = {t["Key"]: t["Value"] for t in dst.client("s3").get_bucket_tagging(Bucket=name)["TagSet"]}
    assert tags["ferry:source"] == f"arn:aws:s3:::{bucket}"
