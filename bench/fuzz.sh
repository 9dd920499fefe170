#!/usr/bin/env bash
# Runs each cargo-fuzz target of fuzz/ for a bounded time and prints, per
# target, the executions, executions per second, coverage and any crash (see
# bench/README.md, "Fuzzing"). Not part of CI.
#
#   bench/fuzz.sh [SECONDS] [TARGET...]     # default: 60 s each, every target
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Inputs found are kept in fuzz/corpus/<target> (git-ignored) and grow from
# run to run; the seeds in fuzz/seeds/<target> are real ferry.toml files,
# plans and policies, and crates/ferry-core/fuzz-regressions/<target> holds
# the inputs of past crashes (each also a ferry-core unit test). A crash is
# saved under fuzz/artifacts/<target>/, what failed is printed, and the script
# exits 1 after running every target.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config plan_file policy_rewrite)
case "$seconds" in *[!0-9]* | "") echo "usage: bench/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2; exit 2; }
rustup run nightly rustc --version >/dev/null 2>&1 || { echo "a nightly toolchain is needed: rustup toolchain install nightly" >&2; exit 2; }

# Safe Rust throughout: no sanitizer, for speed; overflow and debug
# assertions stay on (cargo-fuzz's default).
flags=(--sanitizer none -O)
build_log="$(mktemp)"
cargo +nightly fuzz build "${flags[@]}" >"$build_log" 2>&1 || { cat "$build_log" >&2; exit 2; }
rm -f "$build_log"

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
crashed=0
printf '%-15s %8s %12s %9s %7s %7s %6s  %s\n' target seconds executions exec/s cov ft corpus result
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    opts=(-max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048)
    case "$t" in
        config) opts+=(-dict=fuzz/dict/config.dict -max_len=8192) ;;
        plan_file) opts+=(-dict=fuzz/dict/plan.dict -max_len=16384) ;;
        policy_rewrite) opts+=(-max_len=8192) ;;
    esac
    log="$logs/$t.log"
    status=0
    # Found inputs go to the first directory; the seeds and the inputs of
    # past crashes (ferry-core's regression tests) are replayed first.
    dirs=("fuzz/corpus/$t" "fuzz/seeds/$t")
    [ -d "crates/ferry-core/fuzz-regressions/$t" ] && dirs+=("crates/ferry-core/fuzz-regressions/$t")
    cargo +nightly fuzz run "${flags[@]}" "$t" "${dirs[@]}" -- "${opts[@]}" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        crashed=1
        result="CRASH (exit $status)"
    fi
    printf '%-15s %8s %12s %9s %7s %7s %6s  %s\n' "$t" "${took:-$seconds}" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
    if [ "$status" -ne 0 ]; then
        grep -E 'panicked at|^thread|assertion|Test unit written to|^Base64:' "$log" | head -20 | sed 's/^/    /'
    fi
done
exit "$crashed"
