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
    assert set(items["iam_role/web"]["depends_on"]) == {"iam_policy/app-read", "iam_policy/boundary"}

    assert ferry("apply --yes").returncode == 0
    assert ferry("verify").returncode == 0

    source, dest = read_iam(src), read_iam(dst)
    assert normalised(source, accounts.source, "us-east-1") == normalised(dest, accounts.destination, "eu-west-1")
    assert accounts.source not in json.dumps(dest), "every source account id was rewritten"
    assert third in json.dumps(dest["roles"]["deploy"]["trust"]), "third accounts are kept"
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
