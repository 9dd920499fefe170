#!/usr/bin/env bash
# ferry's whole test suite: the Rust unit tests, then the black-box integration
# tests that drive the ferry binary against the local AWS emulator (moto),
# which this script installs into emulator/.venv and starts on a free loopback
# port. Nothing here reaches the internet or a real AWS endpoint.
set -euo pipefail
cd "$(dirname "$0")"

emulator/ferry-emulator install
cargo build --workspace --locked
cargo test --workspace --locked

state="$(mktemp -d)/emulator.env"
url="$(emulator/ferry-emulator start --state-file "$state")"
trap 'emulator/ferry-emulator stop --state-file "$state" >/dev/null 2>&1 || true' EXIT
FERRY_EMULATOR_URL="$url" FERRY_BIN="$PWD/target/debug/ferry" \
  emulator/.venv/bin/python -m pytest tests emulator/tests -q -p no:cacheprovider "$@"
