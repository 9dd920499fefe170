"""An IAM estate for the integration tests: what a two-tier web application
runs under, with documents that name the source account."""

from __future__ import annotations

import json


def trust(principal: dict, condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def build_iam_estate(session, account: str, third_account: str) -> dict[str, str]:
    """Creates in `account`: a customer-managed policy naming the account's
    resources, a web role (EC2 trust, inline + customer + AWS-managed
    policies, a permissions boundary), a deploy role trusted by the web role
    and by a third account, an instance profile holding the web role, and a
    service-linked role (which ferry must skip), and a launch configuration
    that uses the profile. Returns names by purpose."""
    iam = session.client("iam")
    read_doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": f"arn:aws:sqs:us-east-1:{account}:orders"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::assets/*",
             "Condition": {"StringEquals": {"aws:ResourceAccount": account}}},
        ],
    }
    iam.create_policy(PolicyName="app-read", Path="/app/", PolicyDocument=json.dumps(read_doc),
                      Description="what the web tier reads", Tags=[{"Key": "team", "Value": "web"}])
    boundary = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps(boundary))
    iam.create_role(RoleName="web", Path="/app/", Description="web servers",
                    AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}),
                    MaxSessionDuration=7200,
                    PermissionsBoundary=f"arn:aws:iam::{account}:policy/boundary",
                    Tags=[{"Key": "team", "Value": "web"}])
    iam.put_role_policy(RoleName="web", PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": f"arn:aws:logs:us-east-1:{account}:log-group:web:*"}],
    }))
    iam.attach_role_policy(RoleName="web", PolicyArn=f"arn:aws:iam::{account}:policy/app/app-read")
    iam.attach_role_policy(RoleName="web", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{third_account}:root"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "ci-2024"}}},
        ],
    }))
    # Two roles that trust each other: IAM checks trusted roles exist, so
    # ferry must set these trust policies once both roles are there.
    iam.create_role(RoleName="ping", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{account}:role/pong"}))
    iam.create_role(RoleName="pong", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{account}:role/ping"}))
    iam.create_instance_profile(InstanceProfileName="web", Path="/app/")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
    iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    # The web tier's launch configuration runs under the profile (the
    # configuration itself is the compute layer's to move).
    image = session.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    session.client("autoscaling").create_launch_configuration(
        LaunchConfigurationName="web", ImageId=image, InstanceType="t3.micro", IamInstanceProfile="web"
    )
    return {"policy": "app-read", "boundary": "boundary", "web": "web", "deploy": "deploy", "profile": "web"}


def read_iam(session) -> dict:
    """An independent read of roles, customer policies and instance profiles,
    with documents parsed, tags without ferry's own."""
    iam = session.client("iam")

    def tags(items):
        return {t["Key"]: t["Value"] for t in items or [] if not t["Key"].startswith("ferry:")}

    out = {"roles": {}, "policies": {}, "profiles": {}}
    for p in iam.list_policies(Scope="Local")["Policies"]:
        full = iam.get_policy(PolicyArn=p["Arn"])["Policy"]
        doc = iam.get_policy_version(PolicyArn=p["Arn"], VersionId=full["DefaultVersionId"])["PolicyVersion"]["Document"]
        out["policies"][p["PolicyName"]] = {
            "path": full["Path"], "description": full.get("Description"),
            "document": doc if isinstance(doc, dict) else json.loads(doc), "tags": tags(full.get("Tags")),
        }
    for r in iam.list_roles()["Roles"]:
        if r["Path"].startswith("/aws-service-role/"):
            continue
        role = iam.get_role(RoleName=r["RoleName"])["Role"]
        inline = {n: iam.get_role_policy(RoleName=r["RoleName"], PolicyName=n)["PolicyDocument"]
                  for n in iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"]}
        out["roles"][r["RoleName"]] = {
            "path": role["Path"], "description": role.get("Description"),
            "max_session": role.get("MaxSessionDuration"),
            "boundary": role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"),
            "trust": role["AssumeRolePolicyDocument"],
            "inline": {k: v if isinstance(v, dict) else json.loads(v) for k, v in inline.items()},
            "managed": sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"]),
            "tags": tags(role.get("Tags")),
        }
    for p in iam.list_instance_profiles()["InstanceProfiles"]:
        out["profiles"][p["InstanceProfileName"]] = {"path": p["Path"], "roles": sorted(r["RoleName"] for r in p["Roles"])}
    return out


def build_people(session, account: str) -> None:
    """A group with policies and two members, one with a console password and
    an access key, the other with an inline policy and a permissions boundary."""
    iam = session.client("iam")
    iam.create_group(GroupName="developers", Path="/people/")
    iam.put_group_policy(GroupName="developers", PolicyName="ssm", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ssm:StartSession", "Resource": f"arn:aws:ec2:us-east-1:{account}:instance/*"}],
    }))
    iam.attach_group_policy(GroupName="developers", PolicyArn=f"arn:aws:iam::{account}:policy/app/app-read")
    iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "web"}])
    iam.add_user_to_group(UserName="alice", GroupName="developers")
    iam.create_login_profile(UserName="alice", Password="Secret-Password-123!")
    iam.create_access_key(UserName="alice")
    iam.create_user(UserName="bob", Path="/people/", PermissionsBoundary=f"arn:aws:iam::{account}:policy/boundary")
    iam.add_user_to_group(UserName="bob", GroupName="developers")
    iam.put_user_policy(UserName="bob", PolicyName="own-keys", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": f"arn:aws:iam::{account}:user/people/bob"}],
    }))


def read_people(session) -> dict:
    """Groups and users, independently read; plus what secrets they hold."""
    iam = session.client("iam")
    out = {"groups": {}, "users": {}}
    for g in iam.list_groups()["Groups"]:
        name = g["GroupName"]
        out["groups"][name] = {
            "path": g["Path"],
            "inline": {n: iam.get_group_policy(GroupName=name, PolicyName=n)["PolicyDocument"]
                       for n in iam.list_group_policies(GroupName=name)["PolicyNames"]},
            "managed": sorted(p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]),
            "members": sorted(u["UserName"] for u in iam.get_group(GroupName=name)["Users"]),
        }
    for u in iam.list_users()["Users"]:
        name = u["UserName"]
        user = iam.get_user(UserName=name)["User"]
        try:
            iam.get_login_profile(UserName=name)
            password = True
        except iam.exceptions.NoSuchEntityException:
            password = False
        out["users"][name] = {
            "path": user["Path"],
            "boundary": user.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"),
            "groups": sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]),
            "inline": {n: iam.get_user_policy(UserName=name, PolicyName=n)["PolicyDocument"]
                       for n in iam.list_user_policies(UserName=name)["PolicyNames"]},
            "tags": {t["Key"]: t["Value"] for t in user.get("Tags", []) if not t["Key"].startswith("ferry:")},
            "password": password,
            "access_keys": len(iam.list_access_keys(UserName=name)["AccessKeyMetadata"]),
        }
    return out
