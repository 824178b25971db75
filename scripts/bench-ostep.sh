#!/usr/bin/env bash
# Times `memsim run --quiet` against OSTEP's paging-policy.py on the same 1,000,000 page
# references (80 % to 20 hot pages, the rest over 80 cold ones; 10 frames), in one run.
#
#   scripts/bench-ostep.sh PATH/TO/paging-policy.py [MEMSIM]
#
# Each time is the wall clock from starting the program to its exit, taken by one Python process
# (no shell in between), and the median of several runs: MEMSIM_RUNS (11 by default) of memsim,
# OSTEP_RUNS (3) of paging-policy.py. A run of 20 ms moves by a millisecond or two from one run to
# the next, so one run would not decide a ratio.
# MEMSIM defaults to target/release/memsim. Files go to a temporary folder that is removed.
set -euo pipefail
ostep=${1:?usage: scripts/bench-ostep.sh PATH/TO/paging-policy.py [MEMSIM]}
memsim=${2:-target/release/memsim}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" "$memsim" "$ostep" "${MEMSIM_RUNS:-11}" "${OSTEP_RUNS:-3}" <<'PY'
import random, statistics, subprocess, sys, time
d, memsim, ostep, runs, ostep_runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
r = random.Random(1)
pages = [r.randrange(20) if r.random() < 0.8 else 20 + r.randrange(80) for _ in range(1_000_000)]
open(f"{d}/addrs", "w").write("\n".join(map(str, pages)) + "\n")
for p in ["fifo", "lru", "clock", "opt"]:
    open(f"{d}/{p}.mem", "w").write(
        f"machine {{ page_size 4 KiB; memory 10 pages; replace {p} }}\nrefs " + " ".join(map(str, pages)) + "\n"
    )

def median_ms(cmd, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)

print(f"memsim: median of {runs} runs; paging-policy.py: median of {ostep_runs}")
print(f"{'policy':<6} {'memsim ms':>12} {'OSTEP ms':>12} {'ratio':>8}")
for p in ["fifo", "lru", "clock", "opt"]:
    m = median_ms([memsim, "run", "--quiet", f"{d}/{p}.mem"], runs)
    o = median_ms(["python3", ostep, "-f", f"{d}/addrs", "-p", p.upper(), "-C", "10", "-c", "-N"], ostep_runs)
    print(f"{p:<6} {m:12.1f} {o:12.1f} {o / m:7.1f}x", flush=True)
PY
