"""Roles, customer-managed policies and instance profiles migrated into
another account, documents rewritten (issue 3, first part)."""

from __future__ import annotations

import json

from conftest import random_account, write_config
from iam_estate import build_iam_estate, read_iam


def normalised(read: dict, account: str, region: str) -> str:
    return json.dumps(read, sort_keys=True).replace(account, "ACCOUNT").replace(region, "REGION")


def test_roles_policies_and_profiles_move_with_documents_rewritten(session, accounts, emulator, workdir, ferry):
    third = random_account(exclude=[accounts.source, accounts.destination])
    src, dst = session(accounts.source), session(accounts.destination)
    build_iam_estate(src, accounts.source, third)
    write_config(workdir, accounts.source, accounts.destination, "us-east-1", "eu-west-1", emulator, '[scope]\ninclude = ["iam"]\n')

    plan = ferry("plan --output json --strict")
    assert plan.returncode == 0, plan.stderr
    items = {i["key"]: i for i in json.loads(plan.stdout)["items"]}
    linked = [i for k, i in items.items() if k.startswith("iam_role/AWSServiceRoleFor")]
    assert linked and linked[0]["action"] == "skip" and "AWS-managed role" in linked[0]["reason"]
    assert items["iam_role/web"]["action"] == "create"
    assert items["iam_role/ping"]["contents_depend_on"] == ["iam_role/pong"], "trusted roles first"
    assert "iam_role/pong" not in items["iam_role/ping"].get("depends_on", [])
    assert set(items["iam_role/web"]["depends_on"]) == {"iam_policy/app-read", "iam_policy/boundary"}

    assert ferry("apply --yes").returncode == 0
    assert ferry("verify").returncode == 0

    source, dest = read_iam(src), read_iam(dst)
    assert normalised(source, accounts.source, "us-east-1") == normalised(dest, accounts.destination, "eu-west-1")
    assert accounts.source not in json.dumps(dest), "every source account id was rewritten"
    assert third in json.dumps(dest["roles"]["deploy"]["trust"]), "third accounts are kept"
    deploy_notes = " ".join(items["iam_role/deploy"].get("notes", []))
    assert f"third account {third}" in deploy_notes, "and reported in the plan"
    web = dest["roles"]["web"]
    assert web["inline"]["logs"]["Statement"][0]["Resource"] == f"arn:aws:logs:eu-west-1:{accounts.destination}:log-group:web:*"
    assert "arn:aws:iam::aws:policy/ReadOnlyAccess" in web["managed"]
    assert dest["profiles"]["web"]["roles"] == ["web"]

    again = ferry("apply --yes")
    assert again.returncode == 0 and "Nothing to do" in again.stdout

    assert ferry("rollback --yes").returncode == 0
    after = read_iam(dst)
    assert after == {"roles": {}, "policies": {}, "profiles": {}}


def test_a_role_name_taken_in_the_destination_is_a_conflict(session, accounts, emulator, workdir, ferry):
    src, dst = session(accounts.source), session(accounts.destination)
    build_iam_estate(src, accounts.source, random_account(exclude=[accounts.source, accounts.destination]))
    dst.client("iam").create_role(RoleName="deploy", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    write_config(workdir, accounts.source, accounts.destination, "us-east-1", "us-east-1", emulator, '[scope]\ninclude = ["iam"]\n')
    plan = ferry("plan --output json")
    items = {i["key"]: i for i in json.loads(plan.stdout)["items"]}
    assert items["iam_role/deploy"]["action"] == "conflict"
    assert "already taken" in items["iam_role/deploy"]["reason"]


def test_users_and_groups_move_without_their_secrets(session, accounts, emulator, workdir, ferry):
    from iam_estate import build_people, read_people

    src, dst = session(accounts.source), session(accounts.destination)
    build_iam_estate(src, accounts.source, random_account(exclude=[accounts.source, accounts.destination]))
    build_people(src, accounts.source)
    write_config(workdir, accounts.source, accounts.destination, "us-east-1", "us-east-1", emulator, '[scope]\ninclude = ["iam"]\n')

    plan = ferry("plan")
    assert plan.returncode == 0
    alice = next(line for line in plan.stdout.splitlines() if " alice " in line)
    assert "a console password, 1 access key" in alice and "issue new ones" in alice
    assert "Secret-Password" not in plan.stdout + plan.stderr

    assert ferry("apply --yes").returncode == 0
    assert ferry("verify").returncode == 0
    source, dest = read_people(src), read_people(dst)
    for user in dest["users"].values():
        assert not user["password"] and user["access_keys"] == 0, "no secret exists in the destination"
    for side in (source, dest):
        for user in side["users"].values():
            user.pop("password"), user.pop("access_keys")
    assert normalised(source, accounts.source, "us-east-1") == normalised(dest, accounts.destination, "us-east-1")

    assert ferry("rollback --yes").returncode == 0
    assert read_people(dst) == {"groups": {}, "users": {}}


MOTO_BASE_ACCOUNT = "123456789012"  # the account moto's base test credentials act in


def _valid_iam_document(doc: dict) -> None:
    import re

    assert doc["Version"] == "2012-10-17"
    assert isinstance(doc["Statement"], list) and doc["Statement"]
    for st in doc["Statement"]:
        assert st["Effect"] in ("Allow", "Deny")
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert actions and all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", a) for a in actions), actions
        assert "Resource" in st or "Principal" in st


def _bootstrap_config(workdir, accounts, emulator, role_account):
    write_config(workdir, accounts.source, role_account, "us-east-1", "us-east-1", emulator)
    name = f"ferry-{accounts.destination}"
    path = workdir / "ferry.toml"
    path.write_text(path.read_text().replace(f"arn:aws:iam::{role_account}:role/ferry", f"arn:aws:iam::{role_account}:role/ops/{name}"))
    return name


def test_bootstrap_prints_valid_policies_and_apply_makes_an_assumable_role(accounts, emulator, workdir, ferry):
    import boto3

    name = _bootstrap_config(workdir, accounts, emulator, MOTO_BASE_ACCOUNT)
    printed = ferry("bootstrap --output json")
    assert printed.returncode == 0, printed.stderr
    docs = json.loads(printed.stdout)
    for doc in (docs["source_policy"], docs["destination_policy"], docs["destination_role"]["trust_policy"]):
        _valid_iam_document(doc)
    source_actions = docs["source_policy"]["Statement"][0]["Action"]
    # The source side reads, and writes only what carries data across:
    # temporary shares, KMS grants and scratch images, snapshots and keys, and
    # the temporary read statement in source bucket policies.
    carrying = {"s3:PutBucketPolicy", "s3:DeleteBucketPolicy","ec2:CreateImage", "ec2:CopyImage", "ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute",
                "ec2:DeregisterImage", "ec2:DeleteSnapshot", "ec2:CreateTags", "ec2:CreateSnapshot", "ec2:CopySnapshot",
                "kms:CreateGrant", "kms:RevokeGrant", "kms:CreateKey", "kms:TagResource", "kms:ScheduleKeyDeletion"}
    writes = {a for a in source_actions if not a.split(":")[1].startswith(("Describe", "Get", "List"))}
    assert writes <= carrying, writes - carrying
    assert {"ec2:ModifyImageAttribute", "kms:CreateGrant"} <= writes
    dest_actions = docs["destination_policy"]["Statement"][0]["Action"]
    assert {"ec2:CreateVpc", "ec2:AuthorizeSecurityGroupIngress", "iam:CreateRole", "iam:PutRolePolicy"} <= set(dest_actions)
    assert docs["destination_role"]["trust_policy"]["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::{accounts.source}:root"

    applied = ferry("bootstrap --apply --output json")
    assert applied.returncode == 0, applied.stderr
    out = json.loads(applied.stdout)
    assert out["applied"] is True
    assert out["changes"][-1] == f"ferry can assume arn:aws:iam::{MOTO_BASE_ACCOUNT}:role/ops/{name}"
    iam = boto3.client("iam", endpoint_url=emulator, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    role = iam.get_role(RoleName=name)["Role"]
    assert role["Path"] == "/ops/"
    assert role["AssumeRolePolicyDocument"] == docs["destination_role"]["trust_policy"]
    assert iam.get_role_policy(RoleName=name, PolicyName="ferry")["PolicyDocument"] == docs["destination_policy"]
    again = ferry("bootstrap --apply")
    assert again.returncode == 0 and "trust policy updated" in again.stdout


def test_bootstrap_apply_refuses_credentials_of_another_account(accounts, emulator, workdir, ferry):
    _bootstrap_config(workdir, accounts, emulator, accounts.destination)
    r = ferry("bootstrap --apply")
    assert r.returncode == 2
    assert f"act in account {MOTO_BASE_ACCOUNT}" in r.stderr and accounts.destination in r.stderr
