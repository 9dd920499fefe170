"""Fixtures and helpers for ferry's black-box integration tests.

The tests drive the real `ferry` binary against moto's server (the emulator,
see emulator/README.md) and check the result through boto3 alone.

Fixtures:
  emulator   session-wide endpoint URL: $FERRY_EMULATOR_URL, or one started here
  accounts   a fresh random source and destination account id per test
  session    ``session(account, region) -> boto3.Session`` acting in `account`
  ferry      ``ferry(args, cwd=tmp_path, input=None, timeout=120)`` runs the binary
  workdir    the test's tmp_path (the cwd and HOME of every ferry run)

Plain helpers, importable from tests (``from conftest import write_config``):
  emulator_session(endpoint, account, region), write_config(...), ferry_env(home)

Every boto3 client made here talks to the emulator: no test may reach AWS.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import boto3
import pytest
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = REPO_ROOT / "emulator" / "ferry-emulator"
BASE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
TEST_ROLE = "ferry-test"
MOTO_DEFAULT_ACCOUNT = "123456789012"


# --- the emulator -----------------------------------------------------------


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/moto-api/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def emulator(tmp_path_factory) -> Any:
    """The emulator's endpoint URL, e.g. ``http://127.0.0.1:41234``.

    Uses $FERRY_EMULATOR_URL when set (so many pytest runs can share one);
    otherwise starts a private emulator for this session and stops it after.
    """
    url = os.environ.get("FERRY_EMULATOR_URL", "").rstrip("/")
    if url:
        if not _answers(url):
            pytest.exit(f"FERRY_EMULATOR_URL={url} does not answer", returncode=2)
        yield url
        return
    state = tmp_path_factory.mktemp("emulator") / "emulator.env"
    started = subprocess.run(
        [sys.executable, str(LAUNCHER), "start", "--state-file", str(state)],
        capture_output=True,
        text=True,
        timeout=600,  # the first start may install the virtualenv
    )
    if started.returncode != 0:
        pytest.exit(f"emulator did not start:\n{started.stderr}", returncode=2)
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(
            [sys.executable, str(LAUNCHER), "stop", "--state-file", str(state)],
            capture_output=True,
            timeout=60,
        )


# --- accounts and sessions --------------------------------------------------


def random_account(exclude: Sequence[str] = ()) -> str:
    """A random 12-digit account id, never moto's default one."""
    while True:
        account = str(10**11 + secrets.randbelow(9 * 10**11))
        if account != MOTO_DEFAULT_ACCOUNT and account not in exclude:
            return account


@dataclass(frozen=True)
class Accounts:
    source: str
    destination: str


@pytest.fixture
def accounts() -> Accounts:
    """Fresh source and destination accounts: tests never share emulator state."""
    source = random_account()
    return Accounts(source=source, destination=random_account(exclude=[source]))


class EmulatorSession(boto3.Session):
    """A boto3 Session whose clients and resources all talk to the emulator."""

    def __init__(self, endpoint_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint_url = endpoint_url

    def _defaults(self, service_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        if service_name == "s3" and "config" not in kwargs:
            # Virtual-hosted addressing would put the bucket in the hostname.
            kwargs["config"] = Config(s3={"addressing_style": "path"})
        return kwargs

    def client(self, service_name: str, **kwargs: Any):  # type: ignore[override]
        return super().client(service_name, **self._defaults(service_name, kwargs))

    def resource(self, service_name: str, **kwargs: Any):  # type: ignore[override]
        return super().resource(service_name, **self._defaults(service_name, kwargs))


def emulator_session(endpoint: str, account: str, region: str) -> EmulatorSession:
    """A session acting in `account`: assumes ``role/ferry-test`` there via STS.

    moto accepts AssumeRole into any account id without the role existing, and
    the temporary credentials it returns act in that account.
    """
    base = EmulatorSession(endpoint, region_name=region, **BASE_CREDENTIALS)
    credentials = base.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{TEST_ROLE}",
        RoleSessionName="ferry-test",
    )["Credentials"]
    return EmulatorSession(
        endpoint,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


@pytest.fixture
def session(emulator):
    """``session(account, region) -> boto3.Session`` bound to the emulator."""

    def make(account: str, region: str = "us-east-1") -> EmulatorSession:
        return emulator_session(emulator, account, region)

    return make


# --- running ferry ----------------------------------------------------------


def ferry_binary() -> Path:
    """$FERRY_BIN, else the debug build in this repository's target directory."""
    return Path(os.environ.get("FERRY_BIN") or REPO_ROOT / "target" / "debug" / "ferry")


def ferry_env(home: Path) -> dict[str, str]:
    """The environment of a ferry run: test credentials only, no real AWS config.

    Every AWS_* variable of the caller is dropped (so no AWS_PROFILE, no real
    keys), and HOME plus the config file paths point into the test directory.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        NO_COLOR="1",
        RUST_BACKTRACE="1",
    )
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def ferry(tmp_path: Path):
    """``ferry(args, cwd=tmp_path, input=None, timeout=120, env=None) -> CompletedProcess``.

    `env` adds variables (FERRY_FAILPOINT for the crash tests).

    `args` is a list or a shell-like string. Output is text; it is also printed,
    so pytest shows it when the test fails.
    """
    binary = ferry_binary()
    if not binary.is_file():
        pytest.fail(f"ferry binary not found at {binary}: run `cargo build` or set FERRY_BIN")

    def run(
        args: Sequence[str] | str,
        cwd: Path | None = None,
        input: str | None = None,
        timeout: float = 120,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        argv = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
        home = Path(cwd or tmp_path)
        result = subprocess.run(
            [str(binary), *argv],
            cwd=home,
            env={**ferry_env(home), **(env or {})},
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        print(f"$ ferry {shlex.join(argv)}  -> exit {result.returncode}")
        print(result.stdout, end="")
        print(result.stderr, end="", file=sys.stderr)
        return result

    return run


def write_config(
    tmpdir: Path,
    src_account: str,
    dst_account: str,
    src_region: str,
    dst_region: str,
    endpoint: str,
    extra_toml: str = "",
) -> Path:
    """Write ``tmpdir/ferry.toml`` pointing both sides at the emulator."""
    text = (
        "[source]\n"
        f'region = "{src_region}"\n'
        f'role_arn = "arn:aws:iam::{src_account}:role/ferry"\n'
        f'endpoint_url = "{endpoint}"\n'
        "\n"
        "[destination]\n"
        f'region = "{dst_region}"\n'
        f'role_arn = "arn:aws:iam::{dst_account}:role/ferry"\n'
        f'endpoint_url = "{endpoint}"\n'
    )
    if extra_toml:
        text += "\n" + extra_toml.strip("\n") + "\n"
    path = Path(tmpdir) / "ferry.toml"
    path.write_text(text)
    return path
