#!/usr/bin/env bash
# Times `memsim run --quiet` against OSTEP's paging-policy.py on the same 1,000,000 page
# references (80 % to 20 hot pages, the rest over 80 cold ones; 10 frames), in one run.
#
#   scripts/bench-ostep.sh PATH/TO/paging-policy.py [MEMSIM]
#
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
secs() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo "$(( (e - s) / 1000000 ))"; }
printf '%-6s %12s %12s %8s\n' policy "memsim ms" "OSTEP ms" ratio
for p in fifo lru clock opt; do
    m=$(secs "$memsim" run --quiet "$dir/$p.mem")
    o=$(secs python3 "$ostep" -f "$dir/addrs" -p "${p^^}" -C 10 -c -N)
    printf '%-6s %12s %12s %7sx\n' "$p" "$m" "$o" "$(( o / (m > 0 ? m : 1) ))"
done
