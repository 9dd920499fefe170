#!/usr/bin/env python3
"""The S3 copy benchmark: ferry against the emulator's ceiling, rclone and
`aws s3 sync`, copying one bucket between two accounts, directly and through
a proxy that adds latency to every request. See bench/README.md.

    bench/s3-copy.sh [--objects 3000] [--runs 1] [--latency-ms 50] ...

Runs with the emulator's Python (emulator/.venv, which has boto3); the
runner script sets that up. One invocation:

1. installs what is missing: rclone and hyperfine (Debian, apt-get), the AWS
   CLI (PyPI, into bench/.venv), and builds the workspace (ferry, ferry-proxy,
   s3-ceiling, s3-fill);
2. starts a private emulator and makes a source and a destination account
   (STS AssumeRole into fresh account ids, as the integration tests do);
3. fills a source bucket with N small objects and a few multipart-sized ones
   (uploaded in 8 MiB parts; every tool's multipart threshold is 8 MiB);
4. `--runs` rounds, each running every tool once in turn (so changes in the
   machine's load touch all tools alike), each round starting one tool later
   than the last, each tool into its own destination
   bucket, emptied before each timed run (ferry's is deleted, with ferry's
   state, so ferry creates it anew): hyperfine times the whole command;
   after the last round each destination is checked against the source
   (every key and size, the ETags of single-part objects);
5. the same again through `ferry-proxy --latency-ms L`, whose request log
   gives each tool's requests per object;
6. ferry's peak memory (/usr/bin/time) while copying, and while only planning
   (listing) a bucket of 20,000 and one of 200,000 objects;
7. prints the table, and writes it with every figure to bench/out/.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
VENV = HERE / ".venv"
# The AWS CLI (v1, the one on PyPI), pinned so runs compare.
AWSCLI = "awscli==1.46.2"
EMULATOR = REPO / "emulator" / "ferry-emulator"
MIB = 1024 * 1024
REGION = "us-east-1"
BASE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
TOOLS = ("ceiling", "listing", "rclone", "aws", "ferry")
LABELS = {
    "ceiling": "emulator ceiling",
    "listing": "ceiling + listing",
    "rclone": "rclone",
    "aws": "aws s3 sync",
    "ferry": "ferry",
}


def log(message: str) -> None:
    print(f"[s3-copy] {message}", file=sys.stderr, flush=True)


def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Runs a command, failing loudly with its output."""
    result = subprocess.run(argv, text=True, capture_output=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(
            f"[s3-copy] {shlex.join(argv)} exited {result.returncode}\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result


# --- tools ------------------------------------------------------------------


def ensure_tools(build: bool, profile: str = "release") -> dict[str, Path]:
    """rclone, hyperfine and GNU time from Debian; the AWS CLI from PyPI into
    bench/.venv; the workspace's binaries, of the cargo `profile` ("release":
    what a user runs, and what rclone and the AWS CLI are; "debug": what the
    tests build, quicker to have but slower on the client's side). Returns
    the paths used."""
    missing = [pkg for cmd, pkg in (("rclone", "rclone"), ("hyperfine", "hyperfine")) if not shutil.which(cmd)]
    if not Path("/usr/bin/time").exists():
        missing.append("time")
    if missing:
        log(f"installing {' '.join(missing)} (apt-get)")
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", *missing], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    aws = VENV / "bin" / "aws"
    stamp = VENV / ".awscli-version"
    if not aws.exists() or not stamp.exists() or stamp.read_text().strip() != AWSCLI:
        log(f"installing {AWSCLI} into {VENV}")
        run([sys.executable, "-m", "venv", str(VENV)])
        run([str(VENV / "bin" / "pip"), "install", "-q", AWSCLI])
        stamp.write_text(AWSCLI + "\n")
    if build:
        flags = ["--release"] if profile == "release" else []
        log(f"cargo build --workspace {' '.join(flags)}".rstrip())
        run(["cargo", "build", "--workspace", *flags], cwd=REPO)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / profile
    paths = {
        "aws": aws,
        "ferry": Path(os.environ.get("FERRY_BIN") or target / "ferry"),
        "proxy": target / "ferry-proxy",
        "ceiling": target / "s3-ceiling",
        "fill": target / "s3-fill",
    }
    for name, path in paths.items():
        if not path.exists():
            raise SystemExit(f"[s3-copy] {name}: {path} not found (build the workspace, or drop --no-build)")
    return paths


def version(argv: list[str]) -> str:
    result = subprocess.run(argv, text=True, capture_output=True)
    return (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "?"


# --- emulator and accounts ---------------------------------------------------


class Emulator:
    """A private emulator, stopped when the benchmark ends."""

    def __init__(self, state: Path, port: int | None) -> None:
        self.state = state
        argv = [sys.executable, str(EMULATOR), "start", "--state-file", str(state)]
        if port:
            argv += ["--port", str(port)]
        self.url = run(argv, timeout=600).stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run(
            [sys.executable, str(EMULATOR), "stop", "--state-file", str(self.state)],
            capture_output=True,
            timeout=60,
        )


def random_account() -> str:
    return str(10**11 + secrets.randbelow(9 * 10**11))


def assume(endpoint: str, account: str) -> dict[str, str]:
    """Credentials acting in `account`: moto lets AssumeRole into any account
    id (tests/conftest.py does the same). 12 hours, longer than any run."""
    import boto3

    sts = boto3.client("sts", endpoint_url=endpoint, region_name=REGION, **BASE_CREDENTIALS)
    c = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/ferry-bench",
        RoleSessionName="ferry-bench",
        DurationSeconds=43200,
    )["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
        "AWS_SESSION_TOKEN": c["SessionToken"],
    }


def s3_client(endpoint: str, creds: dict[str, str]) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=32, retries={"mode": "standard"}),
    )


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without any AWS_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_EC2_METADATA_DISABLED="true", **extra)
    return env


def listing(client: Any, bucket: str) -> dict[str, tuple[int, str]]:
    """key -> (size, ETag) of every object."""
    out: dict[str, tuple[int, str]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out[o["Key"]] = (o["Size"], o["ETag"].strip('"'))
    return out


def empty_bucket(client: Any, bucket: str, delete: bool = False) -> None:
    """Deletes every object (and, with `delete`, the bucket). A missing
    bucket is already empty."""
    try:
        keys = list(listing(client, bucket))
    except client.exceptions.NoSuchBucket:
        return
    for i in range(0, len(keys), 1000):
        client.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]], "Quiet": True},
        )
    for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    if delete:
        client.delete_bucket(Bucket=bucket)


# --- the source bucket ---------------------------------------------------------


def fill_source(
    paths: dict[str, Path],
    endpoint: str,
    creds: dict[str, str],
    bucket: str,
    reader: str,
    small: int,
    large: int,
    large_mib: int,
) -> None:
    """The source bucket, readable by the `reader` account as any
    cross-account copy needs (the emulator refuses copy sources that another
    account's policy does not grant, as AWS does). ferry adds and removes its
    own grant besides; rclone and the AWS CLI rely on this one."""
    client = s3_client(endpoint, creds)
    client.create_bucket(Bucket=bucket)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BenchReader",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{reader}:root"},
                "Action": ["s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectVersion", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    log(f"filling s3://{bucket}: {small} objects of 1 KiB (s3-fill) and {large} of {large_mib} MiB in 8 MiB parts")
    fill(paths, endpoint, creds, bucket, small, size=1024, prefix="small/")
    from boto3.s3.transfer import TransferConfig

    parts = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB)
    for i in range(large):
        body = (f"large object {i}\n".encode() * (large_mib * MIB // 15 + 1))[: large_mib * MIB]
        client.upload_fileobj(io.BytesIO(body), bucket, f"large/{i:03d}.bin", Config=parts)


def fill(
    paths: dict[str, Path],
    endpoint: str,
    creds: dict[str, str],
    bucket: str,
    count: int,
    size: int,
    prefix: str,
    start: int = 0,
) -> dict[str, Any]:
    """`count` objects of `size` bytes, keys `{prefix}{start..}`, by s3-fill."""
    result = run(
        [
            str(paths["fill"]),
            "--endpoint", endpoint,
            "--bucket", bucket,
            "--count", str(count),
            "--size", str(size),
            "--prefix", prefix,
            "--start", str(start),
            "--concurrency", "32",
        ],
        env=clean_env(creds),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the tools' commands -----------------------------------------------------


@dataclass
class Mode:
    """One pass over the tools: `direct`, or through the proxy."""

    name: str
    endpoint: str
    latency_ms: int


@dataclass
class Bench:
    args: argparse.Namespace
    paths: dict[str, Path]
    emulator: str
    src_account: str
    dst_account: str
    src_creds: dict[str, str]
    dst_creds: dict[str, str]
    source: str
    objects: int
    run_id: str

    # ferry's destination account per mode (see `destination`).
    ferry_accounts: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def destination(self, mode: Mode, tool: str) -> tuple[str, dict[str, str]]:
        """The destination account of a tool in a mode, and its credentials.
        ferry gets an account of its own per mode, as a migration target
        is: it discovers every bucket of the destination (the other tools'
        would cost it requests) and adopts a bucket that carries the source's
        `ferry:source` tag (its previous mode's copy)."""
        if tool != "ferry":
            return self.dst_account, self.dst_creds
        if mode.name not in self.ferry_accounts:
            account = random_account()
            creds = assume(self.emulator, account)
            # The emulator makes an account's S3 state on its first S3
            # request (a second or two here). The other tools' destination
            # account is warm (their buckets were made beforehand); so is
            # the source; warm this one alike.
            s3_client(self.emulator, creds).list_buckets()
            self.ferry_accounts[mode.name] = (account, creds)
        return self.ferry_accounts[mode.name]

    def credentials_file(self, mode: Mode, tool: str) -> Path:
        """The destination credentials, for the reset command."""
        path = self.workdir(mode, tool) / "destination-credentials.json"
        path.write_text(json.dumps(self.destination(mode, tool)[1]))
        return path

    def dest_bucket(self, mode: Mode, tool: str) -> str:
        return f"bench-{self.run_id}-{mode.name}-{tool}"

    def workdir(self, mode: Mode, tool: str) -> Path:
        path = OUT / f"{mode.name}-{tool}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def command(self, mode: Mode, tool: str) -> tuple[str, dict[str, str]]:
        """The shell command hyperfine times, and its environment."""
        w = self.args.workers
        dest = self.dest_bucket(mode, tool)
        work = self.workdir(mode, tool)
        output = f">>{shlex.quote(str(work / 'output.log'))} 2>&1"
        if tool in ("ceiling", "listing"):
            # listing: the same copies, keys learnt by listing the source
            # while copying, the least any copy tool must do.
            keys = ["--keys", str(OUT / "keys.txt")] if tool == "ceiling" else ["--list"]
            argv = [
                str(self.paths["ceiling"]),
                "--endpoint", mode.endpoint,
                "--source-bucket", self.source,
                "--dest-bucket", dest,
                *keys,
                "--concurrency", str(w),
            ]
            return f"{shlex.join(argv)} {output}", clean_env(self.dst_creds)
        if tool == "rclone":
            conf = work / "rclone.conf"
            conf.write_text(
                rclone_remote("src", mode.endpoint, self.src_creds) + rclone_remote("dst", mode.endpoint, self.dst_creds)
            )
            argv = [
                "rclone", "copy", f"src:{self.source}", f"dst:{dest}",
                "--server-side-across-configs",
                "--transfers", str(w), "--checkers", str(w),
                # Server-side copies above this are multipart (UploadPartCopy).
                "--s3-copy-cutoff", "8M",
                "--config", str(conf),
            ]
            return f"{shlex.join(argv)} {output}", clean_env({})
        if tool == "aws":
            conf = work / "aws.conf"
            conf.write_text(
                "[default]\n"
                f"region = {REGION}\n"
                "s3 =\n"
                f"  max_concurrent_requests = {w}\n"
                "  multipart_threshold = 8MB\n"
                "  multipart_chunksize = 8MB\n"
                "  addressing_style = path\n"
            )
            argv = [
                str(self.paths["aws"]), "s3", "sync", f"s3://{self.source}", f"s3://{dest}",
                "--endpoint-url", mode.endpoint, "--only-show-errors", "--no-progress",
            ]
            env = clean_env({**self.dst_creds, "AWS_CONFIG_FILE": str(conf), "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
            return f"{shlex.join(argv)} {output}", env
        if tool == "ferry":
            account = self.destination(mode, tool)[0]
            write_ferry_config(work, self.src_account, account, mode.endpoint, w, {self.source: dest})
            memory = work / "peak-kib.txt"
            argv = [
                "/usr/bin/time", "-a", "-o", str(memory), "-f", "%M",
                str(self.paths["ferry"]), "apply", "--yes", "--progress", "none",
                "--config", str(work / "ferry.toml"), "--state-dir", str(work / "state"),
            ]
            return f"{shlex.join(argv)} {output}", ferry_env(work)
        raise ValueError(tool)

    def reset_command(self, mode: Mode, tool: str) -> str:
        """hyperfine's --prepare: an empty destination before each timed run;
        for ferry no destination bucket and no state at all."""
        argv = [
            sys.executable, str(Path(__file__).resolve()), "reset",
            "--endpoint", self.emulator,
            "--credentials", str(self.credentials_file(mode, tool)),
            "--bucket", self.dest_bucket(mode, tool),
        ]
        if tool == "ferry":
            argv += ["--delete-bucket", "--remove", str(self.workdir(mode, tool) / "state")]
        return shlex.join(argv)


def rclone_remote(name: str, endpoint: str, creds: dict[str, str]) -> str:
    return (
        f"[{name}]\n"
        "type = s3\n"
        "provider = Other\n"
        f"access_key_id = {creds['AWS_ACCESS_KEY_ID']}\n"
        f"secret_access_key = {creds['AWS_SECRET_ACCESS_KEY']}\n"
        f"session_token = {creds['AWS_SESSION_TOKEN']}\n"
        f"region = {REGION}\n"
        f"endpoint = {endpoint}\n"
        "force_path_style = true\n\n"
    )


def ferry_env(home: Path) -> dict[str, str]:
    """As tests/conftest.py runs ferry: the emulator's base credentials (ferry
    assumes the roles in ferry.toml itself) and no AWS configuration files."""
    return clean_env(
        {
            "HOME": str(home),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": str(home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
            "NO_COLOR": "1",
        }
    )


def write_ferry_config(
    work: Path, src: str, dst: str, endpoint: str, workers: int, renames: dict[str, str]
) -> Path:
    """ferry.toml for S3 only, with explicit destination bucket names (so the
    benchmark knows what to delete between runs)."""
    names = "".join(f'"{s}" = "{d}"\n' for s, d in renames.items())
    text = (
        f'[source]\nregion = "{REGION}"\nrole_arn = "arn:aws:iam::{src}:role/ferry"\nendpoint_url = "{endpoint}"\n\n'
        f'[destination]\nregion = "{REGION}"\nrole_arn = "arn:aws:iam::{dst}:role/ferry"\nendpoint_url = "{endpoint}"\n\n'
        '[scope]\ninclude = ["s3"]\n\n'
        f"[naming.buckets]\n{names}\n"
        f'[s3]\nworkers = {workers}\nmultipart_threshold = "8 MiB"\npart_size = "8 MiB"\n'
    )
    path = work / "ferry.toml"
    path.write_text(text)
    return path


# --- measuring ---------------------------------------------------------------


@dataclass
class Result:
    tool: str
    mode: str
    ok: bool
    seconds: float = 0.0
    stddev: float = 0.0
    runs: int = 0
    objects_per_s: float = 0.0
    requests: int | None = None
    copy_requests: int | None = None
    peak_kib: int | None = None
    note: str = ""


def time_once(bench: Bench, mode: Mode, tool: str, round_: int) -> float | str:
    """One timed run of `tool` (hyperfine, after its --prepare reset): the
    wall time in seconds, or why it failed."""
    command, env = bench.command(mode, tool)
    work = bench.workdir(mode, tool)
    export = work / f"hyperfine-{round_}.json"
    result = subprocess.run(
        [
            "hyperfine", "--runs", "1", "--style", "basic",
            "--prepare", bench.reset_command(mode, tool),
            "--export-json", str(export),
            "--command-name", f"{mode.name} {LABELS[tool]} #{round_}",
            command,
        ],
        env=env,
        text=True,
        capture_output=True,
    )
    if result.returncode != 0:
        tail = (work / "output.log").read_text()[-1500:] if (work / "output.log").exists() else ""
        reason = (tail or result.stderr).strip().splitlines()
        return f"failed: {reason[-1] if reason else 'see ' + str(work)}"
    return float(json.loads(export.read_text())["results"][0]["mean"])


def summarise(bench: Bench, mode: Mode, tool: str, times: list[float], failure: str | None) -> Result:
    """The result of a tool's runs in a mode, its copy checked."""
    if failure:
        return Result(tool, mode.name, ok=False, runs=len(times), note=failure)
    seconds = statistics.fmean(times)
    res = Result(
        tool,
        mode.name,
        ok=True,
        seconds=seconds,
        stddev=statistics.stdev(times) if len(times) > 1 else 0.0,
        runs=len(times),
        objects_per_s=bench.objects / seconds,
    )
    problem = check_copy(bench, bench.destination(mode, tool)[1], bench.dest_bucket(mode, tool))
    if problem:
        res.ok = False
        res.note = f"incomplete copy: {problem}"
    work = bench.workdir(mode, tool)
    if tool == "ferry" and (work / "peak-kib.txt").exists():
        peaks = [int(line) for line in (work / "peak-kib.txt").read_text().split() if line.isdigit()]
        res.peak_kib = max(peaks) if peaks else None
    if mode.latency_ms:
        total, copies = count_requests(work / "requests.jsonl")
        res.requests, res.copy_requests = total // len(times), copies // len(times)
    return res


def check_copy(bench: Bench, creds: dict[str, str], dest: str) -> str:
    """'' when the destination holds every source key with its size, and the
    ETag of every single-part object; else what is wrong."""
    src = listing(s3_client(bench.emulator, bench.src_creds), bench.source)
    client = s3_client(bench.emulator, creds)
    try:
        dst = listing(client, dest)
    except client.exceptions.NoSuchBucket:
        return f"no bucket {dest} in the destination"
    missing = [k for k in src if k not in dst]
    extra = [k for k in dst if k not in src]
    wrong = [k for k, (size, etag) in src.items() if k in dst and (dst[k][0] != size or ("-" not in etag and dst[k][1] != etag))]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if extra:
        problems.append(f"{len(extra)} extra")
    if wrong:
        problems.append(f"{len(wrong)} differ (e.g. {wrong[0]})")
    return ", ".join(problems)


class Proxy:
    """ferry-proxy in front of the emulator, appending one tool's requests to
    its log."""

    def __init__(self, binary: Path, upstream: str, latency_ms: int, log_path: Path) -> None:
        self.process = subprocess.Popen(
            [str(binary), "--upstream", upstream, "--latency-ms", str(latency_ms), "--log", str(log_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise SystemExit(f"[s3-copy] ferry-proxy did not start (said {self.url!r})")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def count_requests(log_path: Path) -> tuple[int, int]:
    """(all requests, copy requests: CopyObject and UploadPartCopy)."""
    total = copies = 0
    with log_path.open() as f:
        for line in f:
            total += 1
            copies += json.loads(line).get("copy_source") is not None
    return total, copies


def run_mode(bench: Bench, mode: Mode, tools: list[str]) -> list[Result]:
    """`--runs` rounds; each round runs every tool once, in turn, so a change
    in the machine's load (other work on its 2 cores) touches every tool
    alike instead of all the runs of one. Each round starts one tool later
    than the one before (with as many rounds as tools, each tool runs once
    in each position), so no tool always runs first after the emulator's
    quietest moment or last after the others' copies. Through the proxy,
    each run has a proxy of its own, all logging to the tool's request
    log."""
    times: dict[str, list[float]] = {tool: [] for tool in tools}
    failures: dict[str, str] = {}
    for tool in tools:
        work = bench.workdir(mode, tool)
        for stale in ("output.log", "peak-kib.txt", "requests.jsonl", *[f.name for f in work.glob("hyperfine*.json")]):
            (work / stale).unlink(missing_ok=True)
    for round_ in range(1, bench.args.runs + 1):
        shift = (round_ - 1) % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            if tool in failures:
                continue
            log(f"{mode.name}: {LABELS[tool]}, run {round_} of {bench.args.runs}")
            proxy = None
            if mode.latency_ms:
                proxy_log = bench.workdir(mode, tool) / "requests.jsonl"
                proxy = Proxy(bench.paths["proxy"], bench.emulator, mode.latency_ms, proxy_log)
                mode.endpoint = proxy.url
            try:
                outcome = time_once(bench, mode, tool, round_)
            finally:
                if proxy:
                    proxy.stop()
            if isinstance(outcome, str):
                failures[tool] = outcome
                log(f"  {outcome}")
            else:
                times[tool].append(outcome)
                log(f"  {bench.objects / outcome:.0f} objects/s")
    return [summarise(bench, mode, tool, times[tool], failures.get(tool)) for tool in tools]


# --- listing memory -------------------------------------------------------------


def listing_memory(bench: Bench, sizes: list[int]) -> list[dict[str, Any]]:
    """ferry plan's peak memory on a source account holding one bucket of
    each size in turn (plan lists every object to summarise the bucket). One
    bucket grows from size to size (filling is the slow part), so the source
    account holds exactly one bucket of the size measured each time."""
    figures: list[dict[str, Any]] = []
    account = random_account()
    creds = assume(bench.emulator, account)
    bucket = f"bench-{bench.run_id}-list"
    s3_client(bench.emulator, creds).create_bucket(Bucket=bucket)
    stored = 0
    for count in sorted(sizes):
        log(f"listing: filling s3://{bucket} up to {count} empty objects (s3-fill, PutObject x32)")
        try:
            filled = fill(bench.paths, bench.emulator, creds, bucket, count - stored, size=0, prefix="obj/", start=stored)
        except SystemExit as e:  # run() failing: record it and stop growing
            figures.append({"objects": count, "ok": False, "note": f"filling failed: {str(e)[:200]}"})
            break
        stored = count
        work = OUT / f"list-{count}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        # A destination account of its own: plan discovers every bucket there.
        write_ferry_config(work, account, random_account(), bench.emulator, bench.args.workers, {})
        log(f"listing: ferry plan on {count} objects")
        start = time.monotonic()
        result = subprocess.run(
            [
                "/usr/bin/time", "-o", str(work / "peak-kib.txt"), "-f", "%M",
                str(bench.paths["ferry"]), "plan", "--progress", "none",
                "--config", str(work / "ferry.toml"), "--state-dir", str(work / "state"),
            ],
            env=ferry_env(work),
            text=True,
            capture_output=True,
        )
        seconds = time.monotonic() - start
        (work / "output.log").write_text(result.stdout + result.stderr)
        peak = (work / "peak-kib.txt").read_text().split()
        figure = {
            "objects": count,
            "fill_objects_per_s": round(filled["objects_per_s"]),
            "ok": result.returncode == 0,
            "seconds": round(seconds, 1),
            "peak_kib": int(peak[-1]) if peak and peak[-1].isdigit() else None,
        }
        if result.returncode != 0:
            figure["note"] = (result.stderr.strip().splitlines() or ["?"])[-1]
        log(f"  {count} objects: " + (f"{figure['peak_kib'] / 1024:.1f} MiB peak" if figure["ok"] else figure["note"]))
        figures.append(figure)
    return figures


# --- the report -----------------------------------------------------------------


def table(bench: Bench, modes: list[Mode], results: list[Result], memory: list[dict[str, Any]]) -> str:
    a = bench.args
    lines = [
        f"S3 copy between two accounts on the emulator, {datetime.date.today().isoformat()}, {os.cpu_count()} cores",
        f"{a.objects} objects of 1 KiB + {a.large} of {a.large_mib} MiB (multipart, 8 MiB parts; every tool's "
        f"multipart threshold 8 MiB), {a.workers} workers, {a.runs} timed run(s) per tool (hyperfine; wall time of "
        "the whole command, listing included)",
        "",
    ]
    by = {(r.mode, r.tool): r for r in results}
    for mode in modes:
        title = "direct to the emulator" if not mode.latency_ms else f"through ferry-proxy, +{mode.latency_ms} ms per request"
        lines.append(title)
        header = f"  {'tool':<18}{'objects/s':>10}{'x ceiling':>11}{'x c+list':>10}{'ferry x':>9}{'seconds':>15}"
        if mode.latency_ms:
            header += f"{'requests':>10}{'req/obj':>9}{'copies':>8}"
        lines.append(header)
        ceiling = by.get((mode.name, "ceiling"))
        ferry = by.get((mode.name, "ferry"))
        for tool in a.tools:
            r = by.get((mode.name, tool))
            if r is None:
                continue
            if not r.ok and not r.objects_per_s:
                lines.append(f"  {LABELS[tool]:<18}{r.note}")
                continue
            ratio = f"{r.objects_per_s / ceiling.objects_per_s:.2f}" if ceiling and ceiling.ok else "-"
            listed = by.get((mode.name, "listing"))
            ratio_listed = f"{r.objects_per_s / listed.objects_per_s:.2f}" if listed and listed.ok else "-"
            versus = (
                f"{ferry.objects_per_s / r.objects_per_s:.2f}"
                if ferry and ferry.ok and tool not in ("ferry", "ceiling", "listing")
                else ""
            )
            spread = f"{r.seconds:.2f}" + (f"±{r.stddev:.2f}" if r.runs > 1 else "")
            row = f"  {LABELS[tool]:<18}{r.objects_per_s:>10.0f}{ratio:>11}{ratio_listed:>10}{versus:>9}{spread:>15}"
            if mode.latency_ms and r.requests is not None:
                row += f"{r.requests:>10}{r.requests / bench.objects:>9.2f}{r.copy_requests:>8}"
            if r.note:
                row += f"  ({r.note})"
            lines.append(row)
        lines.append("")
    peaks = [r for r in results if r.tool == "ferry" and r.peak_kib]
    if peaks:
        lines.append(
            "ferry peak memory while copying: "
            + ", ".join(f"{r.peak_kib / 1024:.1f} MiB ({r.mode})" for r in peaks)
        )
    if memory:
        lines.append("ferry peak memory while planning (listing every object of the source bucket):")
        for m in memory:
            if m["ok"]:
                lines.append(f"  {m['objects']:>8} objects: {m['peak_kib'] / 1024:6.1f} MiB, {m['seconds']:.1f} s")
            else:
                lines.append(f"  {m['objects']:>8} objects: {m.get('note')}")
        ok = [m for m in memory if m["ok"]]
        if len(ok) >= 2:
            lo, hi = ok[0], ok[-1]
            lines.append(
                f"  {hi['objects'] / lo['objects']:.0f}x the objects, {hi['peak_kib'] / lo['peak_kib']:.2f}x the peak memory"
            )
    return "\n".join(lines) + "\n"


# --- entry points ---------------------------------------------------------------


def reset(args: argparse.Namespace) -> None:
    """hyperfine's --prepare between timed runs (see Bench.reset_command)."""
    creds = json.loads(Path(args.credentials).read_text())
    empty_bucket(s3_client(args.endpoint, creds), args.bucket, delete=args.delete_bucket)
    if args.remove:
        shutil.rmtree(args.remove, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    r = sub.add_parser("reset", help="(internal) empty a destination bucket between timed runs")
    r.add_argument("--endpoint", required=True)
    r.add_argument("--credentials", required=True)
    r.add_argument("--bucket", required=True)
    r.add_argument("--delete-bucket", action="store_true")
    r.add_argument("--remove")
    parser.add_argument("--objects", type=int, default=3000, help="small objects (2000-10000; default 3000)")
    parser.add_argument("--large", type=int, default=3, help="multipart-sized objects (default 3)")
    parser.add_argument("--large-mib", type=int, default=12, help="their size in MiB (default 12)")
    parser.add_argument("--workers", type=int, default=16, help="concurrency of every tool (default 16)")
    parser.add_argument("--runs", type=int, default=1, help="timed runs per tool and mode (default 1)")
    parser.add_argument("--latency-ms", type=int, default=50, help="the proxy's added latency (default 50)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"subset of {','.join(TOOLS)}")
    parser.add_argument("--modes", default="direct,proxy", help="direct, proxy or both (default)")
    parser.add_argument(
        "--listing", default="20000,200000", help="bucket sizes for ferry plan's memory ('' to skip; default 20000,200000)"
    )
    parser.add_argument("--port", type=int, help="the emulator's port (default: a free one)")
    parser.add_argument(
        "--profile",
        choices=["release", "debug"],
        default="release",
        help="cargo profile of ferry and the bench's own tools (default release: what users run; debug is what the tests build)",
    )
    parser.add_argument("--no-build", action="store_true", help="use the binaries already in target/<profile>")
    args = parser.parse_args()
    if args.command == "reset":
        reset(args)
        return
    args.tools = [t for t in args.tools.split(",") if t]
    unknown = set(args.tools) - set(TOOLS)
    if unknown or not 1 <= args.objects <= 100_000:
        parser.error(f"unknown tools {sorted(unknown)}" if unknown else "--objects must be 1..100000")
    listing_sizes = [int(n) for n in args.listing.split(",") if n]

    OUT.mkdir(exist_ok=True)
    paths = ensure_tools(build=not args.no_build, profile=args.profile)
    emulator = Emulator(OUT / "emulator.env", args.port)
    try:
        run_id = secrets.token_hex(3)
        src_account = random_account()
        dst_account = random_account()
        src_creds = assume(emulator.url, src_account)
        dst_creds = assume(emulator.url, dst_account)
        source = f"bench-{run_id}-source"
        fill_source(paths, emulator.url, src_creds, source, dst_account, args.objects, args.large, args.large_mib)
        keys = sorted(listing(s3_client(emulator.url, src_creds), source))
        (OUT / "keys.txt").write_text("".join(k + "\n" for k in keys))
        bench = Bench(args, paths, emulator.url, src_account, dst_account, src_creds, dst_creds, source, len(keys), run_id)

        modes = []
        if "direct" in args.modes:
            modes.append(Mode("direct", emulator.url, 0))
        if "proxy" in args.modes:
            modes.append(Mode("proxy", emulator.url, args.latency_ms))
        dst = s3_client(emulator.url, dst_creds)
        for mode in modes:
            for tool in args.tools:
                if tool != "ferry":  # ferry creates its own
                    dst.create_bucket(Bucket=bench.dest_bucket(mode, tool))
        results: list[Result] = []
        for mode in modes:
            results += run_mode(bench, mode, args.tools)
        # The copy figures are written before the (long) listing part, so
        # they survive an interrupted listing.
        report(bench, modes, results, [])
        memory = listing_memory(bench, listing_sizes) if listing_sizes else []
    finally:
        emulator.stop()
    print(report(bench, modes, results, memory), end="")


def report(bench: Bench, modes: list[Mode], results: list[Result], memory: list[dict[str, Any]]) -> str:
    """The table, written to bench/out/results.txt (and every figure to
    results.json); returned for printing."""
    text = table(bench, modes, results, memory)
    versions = {
        "rclone": version(["rclone", "version"]),
        "aws": version([str(bench.paths["aws"]), "--version"]),
        "hyperfine": version(["hyperfine", "--version"]),
    }
    text += "tools: " + "; ".join(versions.values()) + "\n"
    (OUT / "results.txt").write_text(text)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "date": datetime.date.today().isoformat(),
                "cores": os.cpu_count(),
                "arguments": {k: v for k, v in vars(bench.args).items() if k != "command"},
                "objects": bench.objects,
                "results": [r.__dict__ for r in results],
                "listing_memory": memory,
                "versions": versions,
            },
            indent=2,
        )
        + "\n"
    )
    return text

if __name__ == "__main__":
    main()
