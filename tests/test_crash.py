"""Crash safety (ARCHITECTURE.md invariant 3): apply is killed with SIGKILL at points
chosen across the run (after a journal intent, right after AWS created a
resource but before the journal knows, after a converge), then run again. The
estate ends complete, with no duplicate, and rollback leaves no orphan.

Two sets of kill points: six fixed ones on the network estate, and seeded
random ones (issue 8) on the network estate plus an S3 bucket: (failpoint,
n-th hit) pairs drawn with random.Random(FERRY_CRASH_SEED) from every hit a
whole apply makes (HITS, which test_failpoint_hits_of_a_whole_run checks
against a real run through FERRY_FAILPOINT_LOG), one of them always in the S3
part (the bucket just created, or an object just copied). The seed and the
points are in the test ids, so a failure replays with
``FERRY_CRASH_SEED=<seed> pytest tests/test_crash.py -k <id>``.
"""

from __future__ import annotations

import collections
import os
import random
import signal

import inventory as inv
import pytest
import s3_estate as se
from migration import assert_equivalent, ferry_sources, live, mapping, prepare

# (failpoint, n-th hit), spread over the run: 39 finds-or-creates (23 of
# them creates) and ~50 converges.
POINTS = [
    ("after-intent", 1),
    ("after-create", 3),
    ("after-create", 12),
    ("after-converge", 20),
    ("after-intent", 35),
    ("after-create", 23),
]


@pytest.mark.parametrize("point,nth", POINTS, ids=[f"{p}-{n}" for p, n in POINTS])
def test_killed_apply_resumes_without_duplicates(session, accounts, emulator, workdir, ferry, point, nth):
    m = prepare(session, accounts, emulator, workdir, "us-east-1")

    killed = ferry("apply --yes --concurrency 4", env={"FERRY_FAILPOINT": f"{point}:{nth}"})
    assert killed.returncode == -signal.SIGKILL, "the failpoint must have killed apply"
    runs = ferry("runs")
    assert runs.returncode == 0

    resumed = ferry("apply --yes")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run 1" in resumed.stderr

    assert ferry("verify").returncode == 0
    assert_equivalent(m, mapping(ferry))
    tags = ferry_sources(m.dst, "us-east-1")
    assert len(tags) == len(set(tags)) == 23, "no resource was created twice"

    rolled = ferry("rollback --yes")
    assert rolled.returncode == 0, rolled.stderr
    assert live(inv.read_network(m.dst, "us-east-1")) == m.before, "rollback left an orphan"
    assert ferry_sources(m.dst, "us-east-1") == []


# --- seeded random kill points ---------------------------------------------------------

SEED = int(os.environ.get("FERRY_CRASH_SEED", "20261122"))
#: Objects in the S3 bucket of the random-point estate.
OBJECTS = 12
#: Hits of each failpoint in one whole apply of the network estate plus one
#: bucket of OBJECTS objects at --concurrency 4 (counted by
#: test_failpoint_hits_of_a_whole_run).
HITS = {
    "after-intent": 40,
    "after-create": 24,
    "after-converge": 60,
    "bucket-created": 1,
    "object-copied": OBJECTS,
}
S3_POINTS = ("bucket-created", "object-copied")


def draw(seed: int, kills: int = 5) -> list[tuple[str, int]]:
    """`kills` distinct (failpoint, n-th hit) pairs: one in the S3 part, the
    rest from every hit of the run alike."""
    rng = random.Random(seed)
    every = [(point, n) for point, count in HITS.items() for n in range(1, count + 1)]
    s3 = rng.choice([p for p in every if p[0] in S3_POINTS])
    rest = rng.sample([p for p in every if p != s3], kills - 1)
    return sorted([s3, *rest], key=lambda p: (list(HITS).index(p[0]), p[1]))


RANDOM_POINTS = draw(SEED)


def prepare_with_bucket(session, accounts, emulator, workdir):
    """The network estate and a bucket of OBJECTS small objects (one
    CopyObject each), with ferry.toml."""
    m = prepare(session, accounts, emulator, workdir, "us-east-1")
    bucket = se.build_many(lambda r: session(accounts.source, r), "us-east-1", OBJECTS, prefix="ferry-crash")
    return m, bucket


def objects_of(session, bucket: str) -> dict[str, int]:
    s3 = session.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def buckets_of(session) -> list[str]:
    return sorted(b["Name"] for b in session.client("s3").list_buckets()["Buckets"])


def test_failpoint_hits_of_a_whole_run(session, accounts, emulator, workdir, ferry):
    """HITS is what a whole apply of that estate passes through."""
    prepare_with_bucket(session, accounts, emulator, workdir)
    log = workdir / "failpoints.log"
    applied = ferry("apply --yes --concurrency 4", env={"FERRY_FAILPOINT_LOG": str(log)}, timeout=300)
    assert applied.returncode == 0, applied.stderr
    counted = collections.Counter(log.read_text().split())
    assert dict(counted) == HITS, f"update HITS to {dict(counted)}"


@pytest.mark.parametrize("point,nth", RANDOM_POINTS, ids=[f"seed{SEED}-{p}-{n}" for p, n in RANDOM_POINTS])
def test_killed_at_a_random_point_resumes_without_duplicates(session, accounts, emulator, workdir, ferry, point, nth):
    print(f"kill point: FERRY_CRASH_SEED={SEED} -> FERRY_FAILPOINT={point}:{nth}")
    m, bucket = prepare_with_bucket(session, accounts, emulator, workdir)
    src, dst = session(accounts.source), session(accounts.destination)
    name = se.destination_name(accounts.source, bucket)

    killed = ferry("apply --yes --concurrency 4", env={"FERRY_FAILPOINT": f"{point}:{nth}"}, timeout=300)
    assert killed.returncode == -signal.SIGKILL, "the failpoint must have killed apply"
    resumed = ferry("apply --yes", timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run 1" in resumed.stderr

    assert ferry("verify", timeout=300).returncode == 0
    assert_equivalent(m, mapping(ferry))
    tags = ferry_sources(dst, "us-east-1")
    assert len(tags) == len(set(tags)) == 23, "no network resource was created twice"
    assert buckets_of(dst) == [name], "one bucket, made once"
    assert objects_of(dst, name) == objects_of(src, bucket)

    rolled = ferry("rollback --yes", timeout=300)
    assert rolled.returncode == 0, rolled.stderr
    assert live(inv.read_network(dst, "us-east-1")) == m.before, "rollback left an orphan"
    assert ferry_sources(dst, "us-east-1") == []
    assert buckets_of(dst) == [], "rollback left the bucket"
