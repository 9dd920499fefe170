#!/usr/bin/env bash
# The scale benchmark in one command (see bench/README.md); arguments go to
# bench/scale.py, e.g. `bench/scale.sh --vpcs 5 --configurations default`.
set -euo pipefail
cd "$(dirname "$0")/.."
emulator/ferry-emulator install
exec emulator/.venv/bin/python bench/scale.py "$@"
