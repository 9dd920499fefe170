"""Fixtures and helpers shared by the emulator's own tests (test_*.py here).

They live in this plain module, imported by each test module, not in a
conftest.py: tests/ has a conftest.py that its modules import as `conftest`,
and a second one would take that name when both suites run in one pytest
invocation (test.sh). Each test module that imports `shim_emulator` starts
its own emulator (module scope) and stops it after.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

LAUNCHER = Path(__file__).resolve().parent.parent / "ferry-emulator"
MOTO_DEFAULT_ACCOUNT = "123456789012"
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"


# --- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="module")
def shim_emulator(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The URL of a freshly started emulator, stopped after this module."""
    state = tmp_path_factory.mktemp("shim-emulator") / "e.env"
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


def random_account(*exclude: str) -> str:
    while True:
        account = str(10**11 + secrets.randbelow(9 * 10**11))
        if account != MOTO_DEFAULT_ACCOUNT and account not in exclude:
            return account


@pytest.fixture
def owner() -> str:
    return random_account()


@pytest.fixture
def grantee(owner: str) -> str:
    return random_account(owner)


@pytest.fixture
def aws(shim_emulator: str):
    """``aws(service, account, region=REGION)``: a boto3 client acting in `account`."""
    credentials: dict[str, dict[str, str]] = {}

    def client(service: str, account: str, region: str = REGION) -> Any:
        if account not in credentials:
            sts = boto3.client(
                "sts",
                endpoint_url=shim_emulator,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            credentials[account] = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/shim-test", RoleSessionName="shim-test"
            )["Credentials"]
        c = credentials[account]
        return boto3.client(
            service,
            endpoint_url=shim_emulator,
            region_name=region,
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c["SessionToken"],
        )

    return client


# --- helpers ----------------------------------------------------------------------


def error_code(call: Any, *args: Any, **kwargs: Any) -> str:
    """The AWS error code `call` fails with (fails the test if it succeeds)."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]
