#!/usr/bin/env bash
# Times `memsim run --quiet` against OSTEP's paging-policy.py on the same 1,000,000 page
# references (80 % to 20 hot pages, the rest over 80 cold ones; 10 frames), in one run.
#
#   scripts/bench-ostep.sh PATH/TO/paging-policy.py [MEMSIM]
#
# Each time is the median of several runs (MEMSIM_RUNS, 11 by default; OSTEP_RUNS, 3), the first
# of memsim's runs included, so that one slow start does not decide the ratio.
# MEMSIM defaults to target/release/memsim. Files go to a temporary folder that is removed.
set -euo pipefail
ostep=${1:?usage: scripts/bench-ostep.sh PATH/TO/paging-policy.py [MEMSIM]}
memsim=${2:-target/release/memsim}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(1)
pages = [r.randrange(20) if r.random() < 0.8 else 20 + r.randrange(80) for _ in range(1_000_000)]
open(f"{d}/addrs", "w").write("\n".join(map(str, pages)) + "\n")
for p in ["fifo", "lru", "clock", "opt"]:
    open(f"{d}/{p}.mem", "w").write(
        f"machine {{ page_size 4 KiB; memory 10 pages; replace {p} }}\nrefs " + " ".join(map(str, pages)) + "\n"
    )
PY
# Wall-clock milliseconds of one run of a command, to a tenth.
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo "$(( (e - s) / 100000 ))"; }
# The median of N runs: a run of 20 ms moves by a few milliseconds from one to the next.
median() {
    local n=$1 i; shift
    for ((i = 0; i < n; i++)); do ms "$@"; done | sort -n | sed -n "$(( (n + 1) / 2 ))p"
}
tenths() { printf '%d.%d' "$(( $1 / 10 ))" "$(( $1 % 10 ))"; }
runs=${MEMSIM_RUNS:-11}
ostep_runs=${OSTEP_RUNS:-3}
echo "memsim: median of $runs runs; paging-policy.py: median of $ostep_runs"
printf '%-6s %12s %12s %8s\n' policy "memsim ms" "OSTEP ms" ratio
for p in fifo lru clock opt; do
    m=$(median "$runs" "$memsim" run --quiet "$dir/$p.mem")
    o=$(median "$ostep_runs" python3 "$ostep" -f "$dir/addrs" -p "${p^^}" -C 10 -c -N)
    printf '%-6s %12s %12s %7sx\n' "$p" "$(tenths "$m")" "$(tenths "$o")" "$(( o / (m > 0 ? m : 1) ))"
done
