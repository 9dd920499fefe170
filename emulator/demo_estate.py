"""Builds the demo estate in a fresh source account on the emulator and writes
.demo/ferry.toml (cwd) for a migration into a fresh destination account.

The estate is a two-tier web application: its network (tests/estate.py: two
VPCs, public and private subnets in two zones, internet and NAT gateways,
route tables, an S3 endpoint, a network ACL, security groups, peering) and
its web tier (tests/compute_estate.py): a KMS key, an SSH key pair, instance
profiles, a golden image encrypted with the key, a bastion instance in a
public subnet, a launch configuration and auto scaling group of two web
servers with scale-up/down policies and CPU alarms, and a launch template
(three versions) for a database group; and its load balancer
(tests/lb_estate.py): an Application load balancer in the public subnets
forwarding to the web group's target group, HTTP and HTTPS listeners with
rules, and the certificates the HTTPS listener serves. As a user would before
migrating HTTPS listeners, the destination gets the same certificates (ferry
never moves private keys), so ferry maps them; `ferry verify` at the end of
the demo then covers the load balancer, listeners, rules, target groups and
the group's attachment with everything else. And its storage
(tests/s3_estate.py): an assets bucket (versioned, SSE-KMS under its own key,
a policy naming the account, CORS, lifecycle, website, logging) and its
access-log bucket, with a few hundred objects of every shape, which ferry
copies server-side and verifies object by object.

Usage: demo_estate.py EMULATOR_URL DEST_REGION; prints "SOURCE DEST".
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import compute_estate  # noqa: E402
import estate  # noqa: E402
import lb_estate  # noqa: E402
import s3_estate  # noqa: E402
from conftest import emulator_session, random_account, write_config  # noqa: E402

REGION = "us-east-1"
WEB_TIER = ("bastion", "web", "db")


def main() -> None:
    url, dest_region = sys.argv[1], sys.argv[2]
    source = random_account()
    dest = random_account(exclude=[source])
    session = lambda region: emulator_session(url, source, region)  # noqa: E731
    network = estate.build_network_estate(session, REGION)
    compute = compute_estate.build_compute_estate(session, REGION, source, network, parts=WEB_TIER)
    lb_estate.build_lb_estate(session, REGION, network, parts=["web"], web_group=compute["asg_web"])
    s3_estate.build_s3_estate(session, REGION, source)
    lb_estate.import_certificates(emulator_session(url, dest, dest_region).client("acm"))
    write_config(Path.cwd(), source, dest, REGION, dest_region, url)
    print(source, dest)


if __name__ == "__main__":
    main()
