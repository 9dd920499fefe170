#!/usr/bin/env bash
# The main job, end to end, on the local AWS emulator: installs and starts the
# emulator, builds ferry, builds a sample two-tier web estate (its network:
# two VPCs, public and private subnets in two zones, internet and NAT gateways,
# route tables, an S3 endpoint, a network ACL, the lb/web/db/bastion security
# groups, peering) and its web tier (a KMS key, key pairs, a bastion instance,
# a golden image, a launch configuration and auto scaling group of two web
# servers with scale-up/down policies and CPU alarms, a launch template and
# group for the database tier) and its front door (an Application load balancer
# in the public subnets with HTTP and HTTPS listeners and rules, forwarding to
# target groups the web group is attached to; the HTTPS certificate is imported
# in both accounts, as ferry never moves private keys) and its storage (an
# assets bucket and its access-log bucket with a few hundred objects) in a
# fresh source account, then plans, applies and verifies its migration into a second account. The emulator is left running, and the
# demo directory (.demo/) keeps ferry.toml and the state, so you can go on with
# `cd .demo && ../target/debug/ferry runs | mapping | verify | rollback`.
# The dashboard (`ferry serve`) is left running too; its URL is printed last.
set -euo pipefail
cd "$(dirname "$0")"
root="$PWD"

emulator/ferry-emulator install
cargo build --workspace --locked
url="$(emulator/ferry-emulator start)"
echo "emulator: $url"

mkdir -p .demo
cd .demo
rm -rf .ferry ferry.toml
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
read -r src dst < <("$root/emulator/.venv/bin/python" "$root/emulator/demo_estate.py" "$url" "${DEMO_DEST_REGION:-us-east-1}")
echo "source account $src, destination account $dst"

ferry="$root/target/debug/ferry"
"$ferry" plan
"$ferry" apply --yes
"$ferry" verify
"$ferry" runs

# The dashboard stays up after this script, like the emulator: stop an
# earlier demo's first, then start it detached and read its URL (with the
# token) from its log, which only the user can read.
if [ -f serve.pid ]; then
  previous="$(cat serve.pid)"
  if grep -qa "serve" "/proc/$previous/cmdline" 2>/dev/null; then kill "$previous" 2>/dev/null || true; sleep 1; fi
  rm -f serve.pid
fi
start_dashboard() {
  (umask 077; setsid "$ferry" serve --port "$1" >serve.log 2>&1 </dev/null & echo $! >serve.pid)
  for _ in $(seq 100); do
    dashboard="$(sed -n 's/^ferry dashboard: //p' serve.log)"
    [ -n "$dashboard" ] && return 0
    kill -0 "$(cat serve.pid)" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
# Port 7464 (or $DEMO_PORT), else any free one.
start_dashboard "${DEMO_PORT:-7464}" || start_dashboard 0 || { cat serve.log >&2; exit 1; }

cat <<MSG

Done: the estate of account $src now also exists in account $dst, verified.
The emulator keeps running at $url (stop it with emulator/ferry-emulator stop).
Explore from .demo/:  $ferry mapping | runs | verify | rollback

The dashboard keeps running (loopback only; the URL carries its token):
  $dashboard
Stop it with: kill $(cat serve.pid)
MSG
