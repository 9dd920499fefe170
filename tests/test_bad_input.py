"""Bad input, one test each (the README's troubleshooting table lists them):
a clear message that says what and where, the documented exit code, no panic,
no credential in any output, and nothing half-written."""

from __future__ import annotations

import fcntl
import http.server
import json
import threading
from pathlib import Path

import pytest
from conftest import random_account, write_config
from migration import prepare

SECRET = "ferry-test-secret-do-not-print-4242"


def run(ferry, args, **kw):
    """Runs ferry with a recognisable secret key and checks the common promises."""
    env = {"AWS_SECRET_ACCESS_KEY": SECRET, **kw.pop("env", {})}
    r = ferry(args, env=env, **kw)
    for stream in (r.stdout, r.stderr):
        assert SECRET not in stream, "a credential was printed"
        assert "panicked" not in stream and "RUST_BACKTRACE" not in stream
    return r


def state_files(workdir: Path) -> list[Path]:
    return sorted(p for p in (workdir / ".ferry").rglob("*") if p.is_file()) if (workdir / ".ferry").exists() else []


def assert_secret_not_stored(workdir: Path):
    for p in state_files(workdir):
        assert SECRET.encode() not in p.read_bytes(), f"{p} holds a credential"


def test_missing_config(ferry, workdir):
    r = run(ferry, "plan")
    assert r.returncode == 2
    assert "ferry.toml: configuration file not found" in r.stderr and "ferry init" in r.stderr
    assert not (workdir / ".ferry").exists(), "no state is created for a failed command"


def test_malformed_config(ferry, workdir):
    (workdir / "ferry.toml").write_text('[source]\nregion = "us-east-1"\n[destination\nregion = "eu-west-1"\n')
    r = run(ferry, "plan")
    assert r.returncode == 2
    assert "ferry.toml:3:13: unclosed table, expected `]`" in r.stderr, r.stderr
    assert not (workdir / ".ferry").exists()


def test_unknown_key(ferry, workdir):
    (workdir / "ferry.toml").write_text('[source]\nregion = "us-east-1"\nregoin = "x"\n[destination]\nregion = "eu-west-1"\n')
    r = run(ferry, "plan")
    assert r.returncode == 2
    assert "ferry.toml:3:1: unknown key `regoin`, expected one of" in r.stderr, r.stderr
    assert "did you mean `region`?" in r.stderr


def test_invalid_region(ferry, workdir):
    (workdir / "ferry.toml").write_text('[source]\nregion = "us-east"\n[destination]\nregion = "eu-west-1"\n')
    r = run(ferry, "plan")
    assert r.returncode == 2
    assert 'ferry.toml:2:10: invalid region "us-east": expected a name like us-east-1' in r.stderr, r.stderr


def test_malformed_role_arn(ferry, workdir):
    (workdir / "ferry.toml").write_text(
        '[source]\nregion = "us-east-1"\nrole_arn = "arn:aws:iam::1234:role/ferry"\n[destination]\nregion = "eu-west-1"\n'
    )
    r = run(ferry, "plan")
    assert r.returncode == 2
    assert 'ferry.toml:3:12: invalid role_arn "arn:aws:iam::1234:role/ferry"' in r.stderr, r.stderr
    assert "account id must be 12 digits" in r.stderr


def test_unreachable_endpoint(ferry, workdir, accounts):
    write_config(workdir, accounts.source, accounts.destination, "us-east-1", "us-east-1", "http://127.0.0.1:9")
    r = run(ferry, "plan", timeout=120)
    assert r.returncode == 3
    assert "cannot reach the endpoint" in r.stderr and "http://127.0.0.1:9" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, "one line, no error dump"
    assert_secret_not_stored(workdir)


class _DenyingSts(http.server.BaseHTTPRequestHandler):
    """An STS that refuses every AssumeRole, as AWS does without a trust policy."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (
            b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            b"<Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole</Message>"
            b"</Error><RequestId>1</RequestId></ErrorResponse>"
        )
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_failed_role_assumption(ferry, workdir, accounts, emulator):
    server = http.server.HTTPServer(("127.0.0.1", 0), _DenyingSts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sts = f"http://127.0.0.1:{server.server_address[1]}"
        write_config(workdir, accounts.source, accounts.destination, "us-east-1", "us-east-1", emulator)
        text = (workdir / "ferry.toml").read_text().replace("[destination]", f'[source.endpoints]\nsts = "{sts}"\n\n[destination]')
        (workdir / "ferry.toml").write_text(text)
        r = run(ferry, "plan")
    finally:
        server.shutdown()
    assert r.returncode == 3
    assert "could not assume arn:aws:iam::" in r.stderr and "not authorized" in r.stderr, r.stderr
    assert_secret_not_stored(workdir)


def test_overlapping_cidr_is_a_conflict_and_apply_refuses(session, accounts, emulator, workdir, ferry):
    m = prepare(session, accounts, emulator, workdir, "us-east-1")
    theirs = m.dst.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    plan = run(ferry, "plan")
    assert plan.returncode == 0
    assert f"overlaps 10.0.0.0/16 of {theirs}" in plan.stdout
    assert run(ferry, "plan --strict").returncode == 1
    refused = run(ferry, "apply --yes")
    assert refused.returncode == 1
    assert "--skip-conflicts" in refused.stderr
    vpcs = m.dst.client("ec2").describe_vpcs()["Vpcs"]
    assert len(vpcs) == 2, "nothing was created"
    skipped = run(ferry, "apply --yes --skip-conflicts")
    assert skipped.returncode == 0, skipped.stderr
    verify = run(ferry, "verify")
    assert verify.returncode == 1
    assert "not migrated" in verify.stdout


def _defaults_only(workdir, accounts, emulator):
    write_config(workdir, accounts.source, accounts.destination, "us-east-1", "us-east-1", emulator)


def test_locked_state_directory(ferry, workdir, accounts, emulator):
    _defaults_only(workdir, accounts, emulator)
    assert run(ferry, "plan").returncode == 0
    with open(workdir / ".ferry" / "lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run(ferry, "apply --yes")
    assert r.returncode == 2
    assert "state directory .ferry is locked by another ferry" in r.stderr and "wait for it to finish" in r.stderr, r.stderr


def test_corrupted_state_database(ferry, workdir, accounts, emulator):
    _defaults_only(workdir, accounts, emulator)
    assert run(ferry, "plan").returncode == 0
    db = workdir / ".ferry" / "state.db"
    garbage = b"this is not a database" * 100
    db.write_bytes(garbage)
    r = run(ferry, "plan")
    assert r.returncode == 2
    assert "state.db is unreadable or corrupt" in r.stderr and "ferry will not reset it" in r.stderr, r.stderr
    assert db.read_bytes() == garbage, "no silent reset"


def test_apply_without_yes_when_stdin_is_not_a_terminal(ferry, workdir, accounts, emulator, session):
    _defaults_only(workdir, accounts, emulator)
    session(accounts.source).client("ec2").create_vpc(CidrBlock="10.9.0.0/16")
    r = run(ferry, "apply", timeout=60)
    assert r.returncode == 2
    assert "--yes" in r.stderr and "not a terminal" in r.stderr
    assert len(session(accounts.destination).client("ec2").describe_vpcs()["Vpcs"]) == 1


def test_rollback_of_an_unknown_run(ferry, workdir, accounts, emulator):
    _defaults_only(workdir, accounts, emulator)
    assert run(ferry, "plan").returncode == 0
    r = run(ferry, "rollback 42 --yes")
    assert r.returncode == 2
    assert "no run 42" in r.stderr and "ferry runs" in r.stderr


@pytest.mark.parametrize("command", ["verify", "rollback --yes", "runs"])
def test_read_commands_without_state(ferry, workdir, accounts, emulator, command):
    _defaults_only(workdir, accounts, emulator)
    r = run(ferry, command)
    assert r.returncode == 2
    assert "no ferry state at .ferry: the directory or its state.db does not exist" in r.stderr, r.stderr
    assert not (workdir / ".ferry").exists()


def test_same_account_and_region_is_refused(ferry, workdir, accounts, emulator):
    write_config(workdir, accounts.source, accounts.source, "us-east-1", "us-east-1", emulator)
    r = run(ferry, "plan")
    assert r.returncode == 2
    assert f"same account ({accounts.source}) and region (us-east-1)" in r.stderr, r.stderr
    assert not (workdir / ".ferry").exists(), "a refused command leaves no state"


def test_same_account_into_another_region_is_allowed(ferry, workdir, accounts, emulator, session):
    session(accounts.source).client("iam").create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    write_config(workdir, accounts.source, accounts.source, "us-east-1", "eu-west-1", emulator)
    r = run(ferry, "plan --strict --output json")
    assert r.returncode == 0
    role = next(i for i in json.loads(r.stdout)["items"] if i["key"] == "iam_role/app")
    assert role["action"] == "skip" and "global" in role["reason"], "IAM stays put when only the region changes"


def test_no_credentials(ferry, workdir, accounts, emulator):
    write_config(workdir, accounts.source, accounts.destination, "us-east-1", "us-east-1", emulator)
    r = run(ferry, "plan", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    assert r.returncode == 3
    assert "no usable credentials" in r.stderr and "credential chain" in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) <= 2, "one clear message, not a provider dump"
    assert not (workdir / ".ferry").exists()


# --- ferry.toml values: refused before any AWS call, located, with a hint --------


def assert_config_refused(ferry, workdir: Path, extra: str, *needles: str) -> None:
    """ferry.toml with source and destination on lines 1-4 and `extra` from
    line 5 on: `plan` exits 2 before any AWS call, saying each of `needles`."""
    (workdir / "ferry.toml").write_text('[source]\nregion = "us-east-1"\n[destination]\nregion = "eu-west-1"\n' + extra)
    r = run(ferry, "plan")
    assert r.returncode == 2
    for needle in needles:
        assert needle in r.stderr, r.stderr
    assert not (workdir / ".ferry").exists()


def test_access_key_in_config(ferry, workdir):
    assert_config_refused(
        ferry,
        workdir,
        f'[source.endpoints]\n[apply]\naws_secret_access_key = "{SECRET}"\n',
        "ferry.toml:7:1: `aws_secret_access_key`: access keys are not accepted in ferry.toml",
        "standard AWS credential chain",
        "rotate the key",
    )


@pytest.mark.parametrize(
    "extra, message, hint",
    [
        ('[s3]\npart_size = "1 MiB"\n', 'ferry.toml:6:13: s3.part_size must be between 5 MiB and 5 GiB (got "1 MiB" = 1048576 bytes)', "S3 parts are 5 MiB to 5 GiB"),
        ('[s3]\npart_size = "5 potatoes"\n', 'ferry.toml:6:13: invalid size "5 potatoes" for s3.part_size: unknown unit "potatoes"', '"64 MiB"'),
        ("[s3]\nworkers = 0\n", "ferry.toml:6:11: s3.workers must be between 1 and 256 (got 0)", "the default is 16"),
        ('[s3]\nversions = "some"\n', 'ferry.toml:6:12: invalid s3.versions "some": expected "current" or "all"', '"all" every version'),
        ('[s3]\nbatch = "yes"\n', 'ferry.toml:6:9: invalid type: string "yes", expected a boolean', "write true or false, without quotes"),
    ],
    ids=["part-size-range", "size-unit", "workers", "versions", "quoted-boolean"],
)
def test_invalid_s3_value(ferry, workdir, extra, message, hint):
    assert_config_refused(ferry, workdir, extra, message, "hint: ", hint)


@pytest.mark.parametrize(
    "template, message, hint",
    [
        ("{name}-{nope}", "ferry.toml:6:18: unknown placeholder {nope} in naming.bucket", "placeholders are {name}, {hash6}"),
        ("copy", "ferry.toml:6:10: naming.bucket must contain {name} or {hash6}", "every bucket would get the same name"),
        ("Copy-{name}", "ferry.toml:6:11: character 'C' is not allowed in naming.bucket", "lowercase"),
    ],
    ids=["unknown-placeholder", "constant", "uppercase"],
)
def test_invalid_naming_template(ferry, workdir, template, message, hint):
    assert_config_refused(ferry, workdir, f'[naming]\nbucket = "{template}"\n', message, hint)


def test_unknown_kind_in_scope(ferry, workdir):
    assert_config_refused(
        ferry,
        workdir,
        '[scope]\ninclude = ["vpc", "subnets"]\n',
        'ferry.toml:6:19: unknown kind or service "subnets" in scope.include: expected one of vpc, network',
        'hint: did you mean "subnet"?',
    )


def test_unknown_output_value(ferry, workdir):
    r = run(ferry, "plan --output yaml")
    assert r.returncode == 2
    assert "invalid value 'yaml' for '--output <OUTPUT>'" in r.stderr and "[possible values: text, json]" in r.stderr, r.stderr


# --- plan files (apply --plan FILE, plan --out FILE) -------------------------------


def _no_runs(ferry) -> None:
    r = run(ferry, "runs")
    assert r.returncode == 0 and "no runs yet" in r.stdout, "a refused apply records no run"


def test_plan_file_that_does_not_exist(ferry, workdir, accounts, emulator):
    _defaults_only(workdir, accounts, emulator)
    r = run(ferry, "apply --yes --plan missing.json")
    assert r.returncode == 2
    assert "cannot read plan file missing.json: No such file or directory" in r.stderr, r.stderr
    assert "write one with `ferry plan --out FILE`" in r.stderr
    _no_runs(ferry)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"Version": "2012-10-17", "Statement": []}\n', 'p.json: not a ferry plan: no "format" field at the top'),
        ("plan:\n  - vpc\n", "p.json:1:1: not a ferry plan: not JSON: expected value"),
        ('{"format": 2, "steps": []}\n', "p.json: plan format 2 is not supported by this ferry (expects 1); make a new plan"),
    ],
    ids=["json-not-a-plan", "not-json", "other-format"],
)
def test_plan_file_that_is_not_a_plan(ferry, workdir, accounts, emulator, text, message):
    _defaults_only(workdir, accounts, emulator)
    (workdir / "p.json").write_text(text)
    r = run(ferry, "apply --yes --plan p.json")
    assert r.returncode == 2
    assert message in r.stderr, r.stderr
    _no_runs(ferry)


def _saved_plan(ferry, workdir) -> dict:
    r = run(ferry, "plan --out p.json")
    assert r.returncode == 0, r.stderr
    return json.loads((workdir / "p.json").read_text())


def test_plan_file_edited_by_hand(ferry, workdir, accounts, emulator):
    _defaults_only(workdir, accounts, emulator)
    plan = _saved_plan(ferry, workdir)
    key = plan["items"][0]["key"]
    plan["items"].append(plan["items"][0])
    (workdir / "p.json").write_text(json.dumps(plan))
    r = run(ferry, "apply --yes --plan p.json")
    assert r.returncode == 2
    assert f"p.json: {key} is planned twice (item {len(plan['items']) - 1}); a plan file is written by `ferry plan --out FILE`" in r.stderr, r.stderr
    _no_runs(ferry)


def test_plan_file_for_other_accounts(ferry, workdir, accounts, emulator, session):
    _defaults_only(workdir, accounts, emulator)
    plan = _saved_plan(ferry, workdir)
    other = random_account([accounts.source, accounts.destination])
    plan["source"]["account"] = other
    (workdir / "p.json").write_text(json.dumps(plan))
    r = run(ferry, "apply --yes --plan p.json")
    assert r.returncode == 2
    assert (
        f"p.json is for {other}/us-east-1 -> {accounts.destination}/us-east-1, "
        f"but the credentials now resolve to {accounts.source}/us-east-1 -> {accounts.destination}/us-east-1; make a new plan"
    ) in r.stderr, r.stderr
    _no_runs(ferry)


def test_plan_file_from_another_config(ferry, workdir, accounts, emulator):
    _defaults_only(workdir, accounts, emulator)
    _saved_plan(ferry, workdir)
    with open(workdir / "ferry.toml", "a") as f:
        f.write('\n[scope]\nexclude = ["iam"]\n')
    r = run(ferry, "apply --yes --plan p.json")
    assert r.returncode == 2
    assert "p.json was made with a different ferry.toml (digest " in r.stderr, r.stderr
    assert "make a new plan with `ferry plan --out FILE`" in r.stderr
    _no_runs(ferry)


def test_plan_out_into_a_missing_directory(ferry, workdir, accounts, emulator):
    _defaults_only(workdir, accounts, emulator)
    r = run(ferry, "plan --out nowhere/p.json")
    assert r.returncode == 2
    assert "cannot write the plan to nowhere/p.json: nowhere does not exist" in r.stderr, r.stderr
    assert "discovered" not in r.stderr, "refused before discovery"
