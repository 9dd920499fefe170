#!/usr/bin/env bash
# ferry's whole test suite: the Rust unit tests, then the black-box integration
# tests that drive the ferry binary against the local AWS emulator (moto),
# which this script installs into emulator/.venv and starts on a free loopback
# port. Nothing here reaches the internet or a real AWS endpoint.
set -euo pipefail
cd "$(dirname "$0")"

emulator/ferry-emulator install
# The dashboard's browser test (tests/test_dashboard.py) drives Debian's
# headless Chromium through chromedriver: installed once, if missing.
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver
fi
cargo build --workspace --locked
cargo test --workspace --locked

state="$(mktemp -d)/emulator.env"
url="$(emulator/ferry-emulator start --state-file "$state")"
trap 'emulator/ferry-emulator stop --state-file "$state" >/dev/null 2>&1 || true' EXIT
FERRY_EMULATOR_URL="$url" FERRY_BIN="$PWD/target/debug/ferry" \
  emulator/.venv/bin/python -m pytest tests emulator/tests -q -p no:cacheprovider "$@"
