"""The whole network estate, migrated into another account: in the same region
and into another region. Verify passes, an independent read agrees ID for ID,
a second apply creates nothing, and rollback leaves only the destination's
defaults, as they were."""

from __future__ import annotations

import json

import inventory as inv
import pytest
from migration import assert_equivalent, ferry_sources, live, mapping, prepare


@pytest.mark.parametrize("dst_region", ["us-east-1", "eu-west-1"])
def test_network_estate_round_trip(session, accounts, emulator, workdir, ferry, dst_region):
    m = prepare(session, accounts, emulator, workdir, dst_region)

    plan = ferry("plan --output json --strict")
    assert plan.returncode == 0, plan.stderr
    actions = [i["action"] for i in json.loads(plan.stdout)["items"]]
    assert "conflict" not in actions
    assert actions.count("create") == 23

    applied = ferry("apply --yes")
    assert applied.returncode == 0, applied.stderr
    assert "succeeded" in applied.stdout

    verified = ferry("verify")
    assert verified.returncode == 0, verified.stdout
    assert "equivalent to the source" in verified.stdout

    ids = mapping(ferry)
    assert_equivalent(m, ids)
    tags = ferry_sources(m.dst, dst_region)
    assert len(tags) == len(set(tags)) == 23, "each created resource is tagged once"

    # A second apply has nothing to do and creates nothing.
    before_second = inv.read_network(m.dst, dst_region)
    again = ferry("apply --yes")
    assert again.returncode == 0, again.stderr
    assert "Nothing to do" in again.stdout
    assert inv.read_network(m.dst, dst_region) == before_second

    # Rollback removes everything ferry made and restores the defaults it touched.
    rolled = ferry("rollback --yes")
    assert rolled.returncode == 0, rolled.stderr
    assert live(inv.read_network(m.dst, dst_region)) == m.before
    assert ferry_sources(m.dst, dst_region) == []
    assert mapping(ferry) == {}
    runs = json.loads(ferry("runs --output json").stdout)
    assert runs[0]["state"] == "rolled_back"
