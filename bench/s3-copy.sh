#!/usr/bin/env bash
# The S3 copy benchmark in one command (see bench/README.md); arguments go to
# bench/s3_copy.py, e.g. `bench/s3-copy.sh --objects 5000 --runs 3`.
set -euo pipefail
cd "$(dirname "$0")/.."
emulator/ferry-emulator install
exec emulator/.venv/bin/python bench/s3_copy.py "$@"
