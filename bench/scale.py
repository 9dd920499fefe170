#!/usr/bin/env python3
"""The scale benchmark (issue 8): a synthetic estate of 1,000+ resources
(bench/scale_estate.py) migrated through ferry-proxy at 40 ms per request
with AWS-like throttling, by ferry at its default concurrency and at
`--concurrency 1`, in the same run.

What one run does:

1. starts a private emulator and builds the estate in a source account with
   boto3, directly (not through the proxy); with `--half` also a half-sized
   copy in a second source account, for the memory comparison;
2. for each ferry configuration (default concurrency, then 1), a fresh
   destination account and two proxies (`ferry-proxy --latency-ms 40
   --throttle aws`), one per side, so each side's calls meet their own
   account's token buckets and are counted apart;
3. `ferry discover --output json`: its read (describe, list, get) calls on
   both sides over the resources it found on both sides give the calls per
   resource; then `ferry plan --output json` for the dependency graph;
4. `ferry apply --yes` (which discovers and plans again, then executes),
   timed and under /usr/bin/time for its peak memory; the destination
   proxy's counters give its calls per throttling class;
5. `ferry verify` (straight to the emulator) must exit 0;
6. the lower bound of the apply: the larger of
   - the critical path: the longest chain of the plan's graph (create and
     contents phases), one round trip per node at the proxy's latency, plus
     one round trip per side for discovery;
   - the throttle bound: for each class of the destination, the calls
     beyond the bucket's burst over its refill rate; the largest class;
   and wall time / bound.
7. with `--half`: `ferry plan`'s peak memory on the half-sized and the full
   estate (memory flat in N).

Prints the figures, and writes them to bench/out/scale/results.txt and
results.json. Run with bench/scale.sh.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out" / "scale"
sys.path.insert(0, str(BENCH))

import s3_copy  # noqa: E402  (accounts, the emulator, ferry's environment)
import scale_estate  # noqa: E402

REGION = "us-east-1"
#: Kinds with a second (contents) phase in the plan's graph: ferry-core's
#: `Kind::content_fields`.
CONTENT_KINDS = {"security_group", "route_table", "network_acl", "iam_role", "s3_bucket"}
#: AWS's published burst and refill per class, as `ferry-proxy --throttle
#: aws` applies them (bench/src/proxy/throttle.rs AWS_DEFAULTS).
LIMITS = {
    "ec2.non_mutating": (100, 20.0),
    "ec2.mutating": (50, 5.0),
    "ec2.run_instances": (5, 2.0),
    "ec2.copy_image": (100, 1.0),
    "iam.non_mutating": (40, 20.0),
    "iam.mutating": (20, 10.0),
    "kms.non_mutating": (50, 50.0),
    "kms.mutating": (20, 5.0),
    "autoscaling.non_mutating": (40, 20.0),
    "autoscaling.mutating": (20, 10.0),
    "cloudwatch.non_mutating": (9, 9.0),
    "cloudwatch.mutating": (3, 3.0),
    "elasticloadbalancing.non_mutating": (40, 10.0),
    "elasticloadbalancing.mutating": (20, 5.0),
    "acm.non_mutating": (10, 10.0),
}


def log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


class Proxy:
    def __init__(self, binary: Path, upstream: str, latency_ms: int, log_path: Path) -> None:
        self.process = subprocess.Popen(
            [str(binary), "--upstream", upstream, "--latency-ms", str(latency_ms), "--throttle", "aws",
             "--log", str(log_path)],
            stdout=subprocess.PIPE,
            stderr=log_path.with_suffix(".stderr").open("w"),
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise SystemExit(f"[scale] ferry-proxy did not start (said {self.url!r})")

    def stats(self, reset: bool = False) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/__proxy/stats") as r:
            figures = json.load(r)
        if reset:
            urllib.request.urlopen(urllib.request.Request(self.url + "/__proxy/stats", method="DELETE")).read()
        return figures

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def ferry_config(work: Path, src: str, dst: str, src_url: str, dst_url: str) -> None:
    (work / "ferry.toml").write_text(
        f'[source]\nregion = "{REGION}"\nrole_arn = "arn:aws:iam::{src}:role/ferry"\nendpoint_url = "{src_url}"\n\n'
        f'[destination]\nregion = "{REGION}"\nrole_arn = "arn:aws:iam::{dst}:role/ferry"\nendpoint_url = "{dst_url}"\n'
    )


def ferry(paths: dict[str, Path], work: Path, *args: str, check: bool = True, memory: bool = False) -> tuple[subprocess.CompletedProcess[str], float, int | None]:
    """Runs ferry in `work`; returns the result, its wall time and (with
    `memory`) its peak resident KiB."""
    argv = [str(paths["ferry"]), "--progress", "none", "--config", str(work / "ferry.toml"),
            "--state-dir", str(work / "state"), *args]  # fmt: skip
    peak_file = work / "peak-kib.txt"
    if memory:
        argv = ["/usr/bin/time", "-f", "%M", "-o", str(peak_file), *argv]
    start = time.monotonic()
    result = subprocess.run(argv, text=True, capture_output=True, cwd=work, env=s3_copy.ferry_env(work))
    seconds = time.monotonic() - start
    (work / f"{args[0]}.log").write_text(result.stdout + result.stderr)
    if check and result.returncode != 0:
        raise SystemExit(f"[scale] ferry {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    peak = int(peak_file.read_text().split()[-1]) if memory and peak_file.exists() else None
    return result, seconds, peak


def critical_path(plan: dict[str, Any]) -> int:
    """Nodes on the longest chain of the plan's graph, as ferry-core's
    `Plan::graph` builds it: a create node per executing item after its
    `depends_on`, and a contents node for kinds with contents after the
    item's own create and its `contents_depend_on` (bucket logging targets'
    contents aside, which this estate has none of)."""
    items = {i["key"]: i for i in plan["items"] if i["action"] not in ("skip", "conflict")}
    preds: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key, item in items.items():
        preds[(key, "create")] = [(d, "create") for d in item.get("depends_on", []) if d in items]
        if key.split("/", 1)[0] in CONTENT_KINDS:
            preds[(key, "contents")] = [(key, "create")] + [
                (d, "create") for d in item.get("contents_depend_on", []) if d in items
            ]
    depth: dict[tuple[str, str], int] = {}

    def longest(node: tuple[str, str]) -> int:
        if node not in depth:
            depth[node] = 0  # cycles are impossible in an ordered plan; guard anyway
            depth[node] = 1 + max((longest(p) for p in preds.get(node, [])), default=0)
        return depth[node]

    sys.setrecursionlimit(100_000)
    return max((longest(n) for n in preds), default=0)


def throttle_bound(stats: dict[str, Any]) -> tuple[float, str, int]:
    """(seconds, class, calls) of the class whose token bucket takes longest
    to let the calls it served through."""
    worst = (0.0, "-", 0)
    for cls, counts in stats.get("classes", {}).items():
        if cls not in LIMITS:
            continue
        burst, rate = LIMITS[cls]
        calls = counts["requests"] - counts["throttled"] - sum(counts["faults"].values())
        seconds = max(0, calls - burst) / rate
        if seconds > worst[0]:
            worst = (seconds, cls, calls)
    return worst


def read_calls(stats: dict[str, Any]) -> int:
    """Describe/List/Get calls served (STS aside)."""
    return sum(
        c["requests"] - c["throttled"] - sum(c["faults"].values())
        for cls, c in stats.get("classes", {}).items()
        if not cls.startswith("sts") and ("non_mutating" in cls or cls.endswith(".read"))
    )


def one_configuration(paths: dict[str, Path], emulator: str, src: str, concurrency: int | None, latency_ms: int) -> dict[str, Any]:
    label = "default" if concurrency is None else f"--concurrency {concurrency}"
    work = OUT / ("ferry-default" if concurrency is None else f"ferry-c{concurrency}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    dst = s3_copy.random_account()
    warm(emulator, dst)
    proxies = {side: Proxy(paths["proxy"], emulator, latency_ms, work / f"{side}-requests.jsonl") for side in ("source", "destination")}
    try:
        ferry_config(work, src, dst, proxies["source"].url, proxies["destination"].url)
        log(f"{label}: discover (through the proxies)")
        found, discover_seconds, _ = ferry(paths, work, "discover", "--output", "json")
        snaps = json.loads(found.stdout)
        discovered = {side: len(snaps[side]["resources"]) for side in ("source", "destination")}
        discovery = {side: p.stats(reset=True) for side, p in proxies.items()}
        log(f"{label}: plan")
        planned, _, _ = ferry(paths, work, "plan", "--output", "json")
        plan = json.loads(planned.stdout)
        for p in proxies.values():
            p.stats(reset=True)
        log(f"{label}: apply")
        _, apply_seconds, peak = ferry(paths, work, "apply", "--yes", *(["--concurrency", str(concurrency)] if concurrency else []), memory=True)
        applied = {side: p.stats(reset=True) for side, p in proxies.items()}
    finally:
        for p in proxies.values():
            p.stop()
    # verify straight against the emulator, independent of the proxies
    ferry_config(work, src, dst, emulator, emulator)
    verified, _, _ = ferry(paths, work, "verify", check=False)
    cp_nodes = critical_path(plan)
    latency = latency_ms / 1000
    cp_seconds = (cp_nodes + 2) * latency
    tb_seconds, tb_class, tb_calls = throttle_bound(applied["destination"])
    bound = max(cp_seconds, tb_seconds)
    reads = read_calls(discovery["source"]) + read_calls(discovery["destination"])
    return {
        "configuration": label,
        "concurrency": concurrency,
        "plan_items": len(plan["items"]),
        "executing_items": sum(1 for i in plan["items"] if i["action"] not in ("skip", "conflict")),
        "discovered": discovered,
        "discovery_seconds": round(discover_seconds, 2),
        "discovery_read_calls": reads,
        "reads_per_resource": round(reads / max(1, sum(discovered.values())), 3),
        "apply_seconds": round(apply_seconds, 2),
        "critical_path_nodes": cp_nodes,
        "critical_path_seconds": round(cp_seconds, 2),
        "throttle_bound_seconds": round(tb_seconds, 2),
        "throttle_class": tb_class,
        "throttle_class_calls": tb_calls,
        "bound_seconds": round(bound, 2),
        "ratio_to_bound": round(apply_seconds / bound, 2) if bound else None,
        "apply_calls": {side: s["total"]["requests"] for side, s in applied.items()},
        "throttled": {side: s["total"]["throttled"] for side, s in applied.items()},
        "peak_kib": peak,
        "verify_exit": verified.returncode,
    }


def warm(emulator: str, account: str) -> None:
    """The emulator makes an account's state per service on its first request
    (a second or two each here; AWS has no such cost): make it before ferry's
    timed calls, as the source account's was by building the estate."""
    import boto3

    c = s3_copy.assume(emulator, account)
    s = boto3.Session(aws_access_key_id=c["AWS_ACCESS_KEY_ID"], aws_secret_access_key=c["AWS_SECRET_ACCESS_KEY"],
                      aws_session_token=c["AWS_SESSION_TOKEN"], region_name=REGION)  # fmt: skip
    s.client("ec2", endpoint_url=emulator).describe_vpcs()
    s.client("autoscaling", endpoint_url=emulator).describe_auto_scaling_groups()
    s.client("iam", endpoint_url=emulator).list_roles()
    s.client("s3", endpoint_url=emulator).list_buckets()
    s.client("kms", endpoint_url=emulator).list_keys()
    s.client("cloudwatch", endpoint_url=emulator).describe_alarms()
    s.client("elbv2", endpoint_url=emulator).describe_load_balancers()


def plan_memory(paths: dict[str, Path], emulator: str, src: str, name: str) -> dict[str, Any]:
    work = OUT / f"memory-{name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    dst = s3_copy.random_account()
    warm(emulator, dst)
    ferry_config(work, src, dst, emulator, emulator)
    result, seconds, peak = ferry(paths, work, "plan", "--output", "json", memory=True)
    return {"estate": name, "items": len(json.loads(result.stdout)["items"]), "peak_kib": peak, "seconds": round(seconds, 2)}


def table(args: argparse.Namespace, shape: scale_estate.Shape, built: dict[str, int], runs: list[dict[str, Any]], memory: list[dict[str, Any]]) -> str:
    lines = [
        f"Scale benchmark, {datetime.date.today().isoformat()}, {os.cpu_count()} cores: {sum(built.values())} source "
        f"resources ({', '.join(f'{v} {k}' for k, v in sorted(built.items()))}), through ferry-proxy at "
        f"+{args.latency_ms} ms per request with AWS's token buckets (one proxy per side)",
        "",
        f"  {'ferry':<18}{'apply s':>9}{'bound s':>9}{'x bound':>9}{'crit.path':>11}{'throttle bound':>32}"
        f"{'calls':>8}{'throttled':>10}{'peak MiB':>10}{'verify':>8}",
    ]
    for r in runs:
        tb = f"{r['throttle_bound_seconds']:.1f} s ({r['throttle_class']}, {r['throttle_class_calls']})"
        lines.append(
            f"  {r['configuration']:<18}{r['apply_seconds']:>9.1f}{r['bound_seconds']:>9.1f}{r['ratio_to_bound']:>9.2f}"
            f"{r['critical_path_nodes']:>6} {r['critical_path_seconds']:>4.1f}s{tb:>32}"
            f"{r['apply_calls']['destination']:>8}{r['throttled']['destination']:>10}"
            f"{(r['peak_kib'] or 0) / 1024:>10.1f}{'ok' if r['verify_exit'] == 0 else 'FAILED':>8}"
        )
    if len(runs) == 2:
        lines.append(f"  --concurrency 1 / default: {runs[1]['apply_seconds'] / runs[0]['apply_seconds']:.2f}x the wall time")
    r = runs[0]
    lines += [
        "",
        f"discovery (ferry discover): {r['discovered']['source']} source + {r['discovered']['destination']} destination "
        f"resources, {r['discovery_read_calls']} read calls: {r['reads_per_resource']:.2f} per resource, "
        f"{r['discovery_seconds']:.1f} s",
    ]
    if memory:
        lines.append("ferry plan peak memory: " + ", ".join(f"{m['estate']} estate ({m['items']} items) {m['peak_kib'] / 1024:.1f} MiB" for m in memory))
        if len(memory) == 2 and memory[0]["peak_kib"]:
            lines.append(f"  {memory[1]['items'] / memory[0]['items']:.1f}x the items, {memory[1]['peak_kib'] / memory[0]['peak_kib']:.2f}x the peak memory")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vpcs", type=int, default=10, help="VPCs in the estate (default 10)")
    parser.add_argument("--groups", type=int, default=80, help="security groups per VPC (default 80)")
    parser.add_argument("--subnets", type=int, default=8, help="subnets per VPC (default 8)")
    parser.add_argument("--no-compute", action="store_true", help="no launch template, instance or auto scaling group")
    parser.add_argument("--latency-ms", type=int, default=40, help="the proxies' added latency (default 40)")
    parser.add_argument("--configurations", default="default,1", help="ferry concurrencies to run: default and/or numbers")
    parser.add_argument("--half", action="store_true", help="also build a half-sized estate and compare plan memory")
    parser.add_argument("--no-build", action="store_true", help="use the binaries already in target/debug")
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        log("installing GNU time (apt-get)")
        s3_copy.run(["apt-get", "install", "-y", "-qq", "time"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if not args.no_build:
        log("cargo build --workspace")
        s3_copy.run(["cargo", "build", "--workspace"], cwd=REPO)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug"
    paths = {"ferry": Path(os.environ.get("FERRY_BIN") or target / "ferry"), "proxy": target / "ferry-proxy"}
    OUT.mkdir(parents=True, exist_ok=True)
    shape = scale_estate.Shape(vpcs=args.vpcs, groups=args.groups, subnets=args.subnets, compute=not args.no_compute)
    emulator = s3_copy.Emulator(OUT / "emulator.env", None)
    try:
        import boto3

        def clients(account: str) -> tuple[Any, Any]:
            c = s3_copy.assume(emulator.url, account)
            s = boto3.Session(aws_access_key_id=c["AWS_ACCESS_KEY_ID"], aws_secret_access_key=c["AWS_SECRET_ACCESS_KEY"],
                              aws_session_token=c["AWS_SESSION_TOKEN"], region_name=REGION)  # fmt: skip
            return s.client("ec2", endpoint_url=emulator.url), s.client("autoscaling", endpoint_url=emulator.url)

        src = s3_copy.random_account()
        log(f"building the estate ({shape.total()} resources) in {src}")
        built = scale_estate.build(*clients(src), REGION, shape)
        runs = []
        for c in args.configurations.split(","):
            runs.append(one_configuration(paths, emulator.url, src, None if c == "default" else int(c), args.latency_ms))
        memory = []
        if args.half:
            half = scale_estate.Shape(**{**shape.__dict__, "vpcs": max(1, shape.vpcs // 2)})
            src_half = s3_copy.random_account()
            log(f"building the half-sized estate ({half.total()} resources) in {src_half}")
            scale_estate.build(*clients(src_half), REGION, half)
            memory = [plan_memory(paths, emulator.url, src_half, "half"), plan_memory(paths, emulator.url, src, "full")]
    finally:
        emulator.stop()
    text = table(args, shape, built, runs, memory)
    (OUT / "results.txt").write_text(text)
    (OUT / "results.json").write_text(json.dumps({"date": datetime.date.today().isoformat(), "cores": os.cpu_count(),
                                                   "arguments": vars(args), "built": built, "runs": runs, "memory": memory}, indent=2) + "\n")  # fmt: skip
    print(text, end="")


if __name__ == "__main__":
    main()
