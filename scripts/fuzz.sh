#!/usr/bin/env bash
# Runs one fuzz target (or `all`, one after another) for a number of seconds on its corpus:
#   scripts/fuzz.sh parse_check 600
#   scripts/fuzz.sh all 30
# The corpus grows in fuzz/corpus/TARGET (not in git), seeded from fuzz/seeds/TARGET (in git);
# a crash is saved under fuzz/artifacts/TARGET. Needs the nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`). The last line of each run's log says how many inputs ran.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/../fuzz"

TARGETS=(parse_check run_ast trace_lines profile_yaml kernel_decode)
target=${1:?usage: scripts/fuzz.sh TARGET|all SECONDS}
seconds=${2:-60}
if [[ $target == all ]]; then
    for t in "${TARGETS[@]}"; do "$self" "$t" "$seconds"; done
    exit
fi

# A fresh machine has the nightly toolchain but not cargo-fuzz: install the pinned version once,
# unoptimized: it only starts cargo and the fuzzer, so its own speed does not matter.
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --debug --version 0.13.2
fi
mkdir -p "corpus/$target" "logs"
cargo +nightly fuzz build "$target" >/dev/null
# -rss_limit_mb: the host memory the simulation may hold is capped by the targets themselves;
# more than this is a leak. -timeout: one input longer than this is a hang.
cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 2>&1 | tee "logs/$target.log" | grep -E "^(#[0-9]+ *DONE|==|SUMMARY|stat::number_of_executed_units|Done)" || true
if ls "artifacts/$target"/crash-* "artifacts/$target"/timeout-* "artifacts/$target"/oom-* >/dev/null 2>&1; then
    echo "fuzz: $target found inputs that fail: fuzz/artifacts/$target" >&2
    exit 1
fi
