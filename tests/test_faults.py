"""Faults (issue 8): ferry migrates through bench's ferry-proxy, which
throttles 10 % of calls at random (each service's own throttling error:
RequestLimitExceeded, Throttling, SlowDown ...) and resets 2 % of connections
after the emulator served the request (the response is lost, the call took
effect). One apply must complete a networking + compute + S3 migration, verify
must pass, and no resource may be created twice.

Each side talks to its own proxy, so the destination proxy's request log holds
only destination calls: the create calls the emulator served there are
counted per API and matched, one for one, with what the destination holds
(read with boto3 straight from the emulator). A create whose response was
lost and that ferry (or its SDK) simply sent again would show as two served
calls and two resources.

The faults are seeded (FERRY_FAULT_SEED, default below): the n-th call of an
API meets the same fault on every run, so a failure replays.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import compute_estate as ce
import compute_inventory as ci
import estate
import inventory as inv
import pytest
import s3_estate as se
import s3_inventory as si
from conftest import ferry_binary
from migration import Migration, assert_equivalent, ferry_sources, live, mapping
from test_compute import assert_same

REGION = "us-east-1"
SEED = int(os.environ.get("FERRY_FAULT_SEED", "8"))
THROTTLE_RATE = 0.10
RESET_RATE = 0.02
OBJECTS = 40


@dataclass
class FaultProxy:
    url: str
    log: Path
    process: subprocess.Popen

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url + "/__proxy/stats", timeout=10) as response:
            return json.load(response)

    def entries(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def proxy_binary() -> Path:
    binary = Path(os.environ.get("FERRY_PROXY_BIN") or ferry_binary().parent / "ferry-proxy")
    if not binary.is_file():
        pytest.fail(f"ferry-proxy not found at {binary}: run `cargo build --workspace` or set FERRY_PROXY_BIN")
    return binary


@pytest.fixture
def start_proxy(emulator, tmp_path) -> Iterator:
    """``start_proxy(name, *flags) -> FaultProxy``: a ferry-proxy in front of
    the emulator, logging to ``tmp_path/<name>.jsonl``; stopped after the test."""
    started: list[subprocess.Popen] = []

    def start(name: str, *flags: str) -> FaultProxy:
        log = tmp_path / f"{name}.jsonl"
        argv = [str(proxy_binary()), "--upstream", emulator, "--log", str(log), *flags]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert url.startswith("http://"), process.stderr.read()  # type: ignore[union-attr]
        return FaultProxy(url, log, process)

    yield start
    for process in started:
        process.terminate()
        _, err = process.communicate(timeout=10)
        print(err)  # the proxy's counters, shown when a test fails


def faulty(start_proxy, name: str, seed: int) -> FaultProxy:
    return start_proxy(name, "--throttle-rate", str(THROTTLE_RATE), "--reset", str(RESET_RATE), "--seed", str(seed))


# --- what the destination holds ------------------------------------------------------------


def _tagged(items, key="Tags") -> int:
    return sum(1 for i in items if any(t["Key"] == "ferry:source" for t in i.get(key) or []))


def made_in_destination(dst, region: str, buckets: list[str]) -> dict[str, int]:
    """How many resources of each create API's kind the destination holds
    that ferry made (its ferry:source tag; buckets by name), read with boto3."""
    ec2 = dst.client("ec2", region_name=region)
    live_instances = [
        i
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] not in ci.GONE_INSTANCE_STATES
    ]
    nat = [g for g in ec2.describe_nat_gateways()["NatGateways"] if g["State"] in ("pending", "available")]
    made = ci.ferry_made(dst, region)
    s3 = dst.client("s3", region_name=region)
    owned = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    return {
        "ec2:CreateVpc": _tagged(ec2.describe_vpcs()["Vpcs"]),
        "ec2:CreateSubnet": _tagged(ec2.describe_subnets()["Subnets"]),
        "ec2:CreateInternetGateway": _tagged(ec2.describe_internet_gateways()["InternetGateways"]),
        "ec2:AllocateAddress": _tagged(ec2.describe_addresses()["Addresses"]),
        "ec2:CreateNatGateway": _tagged(nat),
        "ec2:CreateRouteTable": _tagged(ec2.describe_route_tables()["RouteTables"]),
        "ec2:CreateNetworkAcl": _tagged(ec2.describe_network_acls()["NetworkAcls"]),
        "ec2:CreateSecurityGroup": _tagged(ec2.describe_security_groups()["SecurityGroups"]),
        "ec2:CreateVpcEndpoint": _tagged(ec2.describe_vpc_endpoints()["VpcEndpoints"]),
        "ec2:CreateDhcpOptions": _tagged(ec2.describe_dhcp_options()["DhcpOptions"]),
        "ec2:RunInstances": _tagged(live_instances),
        "ec2:CopyImage": len(made.get("images", [])),
        "ec2:ImportKeyPair": len(made.get("key_pairs", [])),
        "kms:CreateKey": len(made.get("kms_keys", [])),
        "s3:CreateBucket": len(owned & set(buckets)),
    }


def served_creates(proxy: FaultProxy) -> dict[str, int]:
    """Create calls the emulator served (its status below 400), per API,
    including those whose response the proxy then lost on purpose."""
    served = collections.Counter()
    for entry in proxy.entries():
        if entry["origin"] == "upstream" and entry["status"] < 400:
            served[entry["api"]] += 1
    return served


# --- the test -----------------------------------------------------------------------------


def test_migration_completes_under_throttling_and_resets(session, accounts, emulator, workdir, ferry, start_proxy):
    factory = lambda r: session(accounts.source, r)  # noqa: E731
    net = estate.build_network_estate(factory, REGION)
    compute = ce.build_compute_estate(factory, REGION, accounts.source, net, parts=["kms", "bastion"])
    bucket = se.build_many(factory, REGION, OBJECTS, prefix="ferry-faults")
    src, dst = session(accounts.source), session(accounts.destination)
    m = Migration(
        src=src, dst=dst, src_region=REGION, dst_region=REGION, src_account=accounts.source,
        dst_account=accounts.destination, created=net, before=inv.read_network(dst, REGION), workdir=workdir,
    )  # fmt: skip
    compute_before = ci.read_compute(dst, REGION)

    source_proxy = faulty(start_proxy, "source", SEED)
    dest_proxy = faulty(start_proxy, "destination", SEED + 1)
    (workdir / "ferry.toml").write_text(
        "\n".join(
            [
                "[source]",
                f'region = "{REGION}"',
                f'role_arn = "arn:aws:iam::{accounts.source}:role/ferry"',
                f'endpoint_url = "{source_proxy.url}"',
                "[destination]",
                f'region = "{REGION}"',
                f'role_arn = "arn:aws:iam::{accounts.destination}:role/ferry"',
                f'endpoint_url = "{dest_proxy.url}"',
                "",
            ]
        )
    )

    applied = ferry("apply --yes", timeout=600)
    assert applied.returncode == 0, applied.stderr
    verified = ferry("verify", timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # The faults happened, on both sides, mutating calls included.
    for proxy in (source_proxy, dest_proxy):
        total = proxy.stats()["total"]
        assert total["faults"]["throttle"] > 0 and total["faults"]["reset"] > 0, total
    lost = [e["api"] for e in dest_proxy.entries() if e["fault"] == "reset" and e["class"].endswith((".mutating", ".write"))]
    assert lost, "no mutating call of the destination lost its response: pick another seed"
    print(f"seed {SEED}: destination calls whose response was lost: {sorted(lost)}")

    # Equivalent, read independently (boto3 straight to the emulator).
    assert_equivalent(m, mapping(ferry))
    ids = ci.full_mapping(ferry)
    assert_same(accounts, src, dst, REGION, ids, kinds=("kms_keys", "key_pairs", "instances", "metric_alarms"))
    name = se.destination_name(accounts.source, bucket)
    source_objects = si.read_s3(src, REGION, [bucket])[bucket]["objects"]
    dest_objects = si.read_s3(dst, REGION, [name])[name]["objects"]
    assert len(source_objects) == OBJECTS and dest_objects.keys() == source_objects.keys()

    # No resource was created twice: ferry-made resources are unique per
    # source, and every create call the destination served made exactly one
    # of the resources there.
    tags = ferry_sources(dst, REGION)
    assert len(tags) == len(set(tags)), "a network resource was created twice"
    for kind, sources in ci.ferry_made(dst, REGION).items():
        assert len(sources) == len(set(sources)), f"{kind} created twice"
    held = made_in_destination(dst, REGION, [name])
    served = served_creates(dest_proxy)
    twice = {api: (served[api], count) for api, count in held.items() if served[api] != count}
    assert not twice, f"create calls served vs resources held, per API: {twice}"
    assert held["ec2:CreateVpc"] > 0 and held["ec2:RunInstances"] == 1 and held["s3:CreateBucket"] == 1

    # And rollback, through the same faults, leaves nothing behind.
    rolled = ferry("rollback --yes", timeout=600)
    assert rolled.returncode == 0, rolled.stderr
    assert live(inv.read_network(dst, REGION)) == m.before
    assert ferry_sources(dst, REGION) == []
    assert ci.read_compute(dst, REGION) == compute_before
    assert si.read_s3(dst, REGION, [name]) == {}


def test_a_quota_below_ferrys_own_rates_slows_apply_down_without_failing(session, accounts, emulator, workdir, ferry, start_proxy, tmp_path):
    """An account whose EC2 mutating quota is far below AWS's default (and so
    below ferry's own client-side limiter): ferry meets sustained
    RequestLimitExceeded answers, and its SDK's adaptive retries slow it to
    what the account allows instead of running out of attempts."""
    factory = lambda r: session(accounts.source, r)  # noqa: E731
    net = estate.build_network_estate(factory, REGION)
    dst = session(accounts.destination)
    m = Migration(
        src=session(accounts.source), dst=dst, src_region=REGION, dst_region=REGION, src_account=accounts.source,
        dst_account=accounts.destination, created=net, before=inv.read_network(dst, REGION), workdir=workdir,
    )  # fmt: skip
    limits = tmp_path / "quota.toml"
    limits.write_text('[limits]\n"ec2.mutating" = { burst = 5, per_second = 2.0 }\n')
    dest_proxy = start_proxy("destination", "--throttle", str(limits))
    (workdir / "ferry.toml").write_text(
        f'[source]\nregion = "{REGION}"\nrole_arn = "arn:aws:iam::{accounts.source}:role/ferry"\nendpoint_url = "{emulator}"\n'
        f'[destination]\nregion = "{REGION}"\nrole_arn = "arn:aws:iam::{accounts.destination}:role/ferry"\n'
        f'endpoint_url = "{dest_proxy.url}"\n'
    )
    applied = ferry("apply --yes", timeout=600)
    assert applied.returncode == 0, applied.stderr
    throttled = dest_proxy.stats()["classes"]["ec2.mutating"]["throttled"]
    assert throttled > 0, "the quota never bit: lower it"
    assert ferry("verify", timeout=300).returncode == 0
    assert_equivalent(m, mapping(ferry))
