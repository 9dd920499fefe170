"""Crash safety (DESIGN invariant 3): apply is killed with SIGKILL at points
chosen across the run (after a journal intent, right after AWS created a
resource but before the journal knows, after a converge), then run again. The
estate ends complete, with no duplicate, and rollback leaves no orphan."""

from __future__ import annotations

import signal

import inventory as inv
import pytest
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
