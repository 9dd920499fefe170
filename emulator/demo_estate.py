"""Builds the demo estate in a fresh source account on the emulator and writes
.demo/ferry.toml (cwd) for a migration into a fresh destination account.

Usage: demo_estate.py EMULATOR_URL DEST_REGION; prints "SOURCE DEST".
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import estate  # noqa: E402
from conftest import emulator_session, random_account, write_config  # noqa: E402


def main() -> None:
    url, dest_region = sys.argv[1], sys.argv[2]
    source = random_account()
    dest = random_account(exclude=[source])
    estate.build_network_estate(lambda region: emulator_session(url, source, region), "us-east-1")
    write_config(Path.cwd(), source, dest, "us-east-1", dest_region, url)
    print(source, dest)


if __name__ == "__main__":
    main()
