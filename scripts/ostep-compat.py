#!/usr/bin/env python3
"""Compares memsim under `conventions ostep` with OSTEP's homework simulators.

Usage: scripts/ostep-compat.py OSTEP_DIR [--cases N] [--seed S] [--memsim PATH] [--only NAME]

NAME is any part of a check's name: `malloc`, `policy`, `CLOCK`, `linear`, `multilevel`,
`relocation`, `segmentation`.

OSTEP_DIR is a local checkout of the public `ostep-homework` repository; nothing of it is
copied here. For each simulator, policy and setting the script draws random cases, runs the
simulator with `-c` and memsim on the same case written as a .mem file, compares the answers
line by line, and prints how many cases agree. The exit status is 1 when any case differs.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

BATCH = 50


def run_python(script, args):
    out = subprocess.run(
        [sys.executable, script] + args, capture_output=True, text=True, check=True
    )
    return out.stdout


def run_memsim(memsim, texts, tmp):
    """Runs memsim on each scenario text; returns each one's trace lines (prefix removed)."""
    paths = []
    for i, t in enumerate(texts):
        p = os.path.join(tmp, f"case{i}.mem")
        with open(p, "w") as f:
            f.write(t)
        paths.append(p)
    out = subprocess.run(
        [memsim, "run", "--color", "never"] + paths, capture_output=True, text=True
    )
    per = [[] for _ in paths]
    i = 0
    for line in out.stdout.splitlines():
        if i < len(paths) and line.startswith(paths[i] + ":"):
            i += 1
            continue
        if i < len(paths):
            per[i].append(re.sub(r"^\s*\d*\s*\|\s?\s?\s?", "", line))
    if i != len(paths):
        raise SystemExit(f"memsim did not finish every case:\n{out.stdout}\n{out.stderr}")
    return per


# ---- malloc.py ----------------------------------------------------------------------------

FITS = {"FIRST": "first_fit", "BEST": "best_fit", "WORST": "worst_fit"}
ORDERS = {
    "ADDRSORT": "address",
    "SIZESORT+": "size_asc",
    "SIZESORT-": "size_desc",
    "INSERT-FRONT": "insert_front",
    "INSERT-BACK": "insert_back",
}


def malloc_case(rng):
    return {
        "policy": rng.choice(list(FITS)),
        "order": rng.choice(list(ORDERS)),
        "coalesce": rng.random() < 0.5,
        "header": rng.choice([0, 0, 1, 4, 8]),
        "align": rng.choice([-1, -1, 2, 4, 8]),
        "size": rng.choice([64, 100, 128]),
        "base": rng.choice([100, 1000, 4096]),
        "seed": rng.randrange(1_000_000),
        "ops": rng.randrange(5, 40),
        "range": rng.randrange(5, 30),
        "percent": rng.choice([30, 50, 70]),
    }


def malloc_args(c):
    a = [
        "-s", str(c["seed"]), "-S", str(c["size"]), "-b", str(c["base"]),
        "-H", str(c["header"]), "-a", str(c["align"]), "-p", c["policy"],
        "-l", c["order"], "-n", str(c["ops"]), "-r", str(c["range"]),
        "-P", str(c["percent"]), "-c",
    ]
    if c["coalesce"]:
        a.append("-C")
    return a


def malloc_expected(c, out):
    """The simulator's answers, and the operations to replay, from its `-c` output."""
    ops, answers = [], []
    for line in out.splitlines():
        m = re.match(r"ptr\[(\d+)\] = Alloc\((\d+)\) returned (-?\d+)", line)
        if m:
            ops.append(("malloc", int(m.group(1)), int(m.group(2))))
            r = int(m.group(3))
            answers.append(f"malloc -> {'NULL' if r == -1 + c['header'] else r}")
            continue
        m = re.match(r"Free\(ptr\[(\d+)\]\)", line)
        if m:
            ops.append(("free", int(m.group(1)), 0))
            continue
        if line.startswith("Free List"):
            answers.append(line.strip())
    return ops, answers


def malloc_mem(c, ops):
    align = "" if c["align"] == -1 else f"; align {c['align']}"
    lines = [
        "machine { allocator %s; heap %d B at %d; header %d; coalesce %s; order %s; "
        "conventions ostep%s }"
        % (
            FITS[c["policy"]], c["size"], c["base"], c["header"],
            "on" if c["coalesce"] else "off", ORDERS[c["order"]], align,
        )
    ]
    for kind, i, n in ops:
        if kind == "malloc":
            lines.append(f"let p{i} = malloc({n})")
        else:
            lines.append(f"free(p{i})")
        lines.append("show heap")
    return "\n".join(lines) + "\n"


def malloc_actual(c, trace):
    answers = []
    for line in trace:
        m = re.match(r"malloc\(\d+\) = (\d+)", line)
        if m:
            r = int(m.group(1))
            answers.append(f"malloc -> {'NULL' if r == 0 else r}")
        elif line.startswith("Free List"):
            answers.append(line.strip())
    return answers


# ---- paging-policy.py ---------------------------------------------------------------------

POLICIES = {
    "FIFO": "fifo", "LRU": "lru", "OPT": "opt", "MRU": "mru",
    "UNOPT": "unopt", "RAND": "random", "CLOCK": "clock",
}


def policy_case(rng, policy):
    maxpage = rng.randrange(2, 13)
    return {
        "policy": policy,
        "cache": rng.randrange(1, 7),
        "seed": rng.randrange(1_000_000),
        "bits": rng.randrange(0, 5) if policy == "CLOCK" else 2,
        "refs": [rng.randrange(maxpage) for _ in range(rng.randrange(1, 60))],
    }


def policy_args(c):
    return [
        "-a", ",".join(map(str, c["refs"])), "-p", c["policy"], "-C", str(c["cache"]),
        "-s", str(c["seed"]), "-b", str(c["bits"]), "-c",
    ]


def policy_mem(c):
    return (
        "machine { memory %d pages; replace %s; conventions ostep; seed %d; clock_bits %d }\n"
        "refs %s\n"
        % (c["cache"], POLICIES[c["policy"]], c["seed"], c["bits"], " ".join(map(str, c["refs"])))
    )


def access_lines(lines):
    return [l.strip() for l in lines if l.strip().startswith("Access:")]


# ---- paging-linear-translate.py ----------------------------------------------------------


def linear_case(rng):
    page = rng.choice([256, 512, 1024, 4096])
    asize = page * rng.choice([4, 8, 16, 64])
    return {
        "seed": rng.randrange(1_000_000),
        "asize": asize,
        "page": page,
        "phys": asize * rng.choice([2, 4, 8]),
        "used": rng.choice([10, 50, 90]),
        "num": rng.randrange(1, 15),
    }


def linear_args(c):
    return [
        "-s", str(c["seed"]), "-a", str(c["asize"]), "-P", str(c["page"]),
        "-p", str(c["phys"]), "-u", str(c["used"]), "-n", str(c["num"]), "-c",
    ]


def linear_expected(out):
    """The page table's entries and the trace's addresses, then the simulator's answers."""
    entries, vas, answers = [], [], []
    for line in out.splitlines():
        m = re.match(r"\s+0x([0-9a-f]{8})$", line)
        if m:
            entries.append(int(m.group(1), 16))
        m = re.match(r"\s+VA 0x([0-9a-f]+) ", line)
        if m:
            vas.append(int(m.group(1), 16))
            answers.append(line.strip())
    return (entries, vas), answers


def linear_mem(c, e):
    entries, vas = e[0]
    va_bits = c["asize"].bit_length() - 1
    lines = [
        "machine { page_size %d B; va_bits %d; levels 1; pte_size 4; memory %d B; "
        "conventions ostep }" % (c["page"], va_bits, c["phys"])
    ]
    for vpn, w in enumerate(entries):
        if w & 0x80000000:
            lines.append(f"set_pte({vpn}, {w & 0x7fffffff})")
        else:
            lines.append(f"clear_pte({vpn})")
    lines += [f"print translate({va})" for va in vas]
    return "\n".join(lines) + "\n"


def va_lines(lines):
    return [l.strip() for l in lines if l.strip().startswith("VA 0x")]


# ---- relocation.py and segmentation.py ----------------------------------------------------


def seg_case(rng):
    asize = rng.choice([512, 1024, 2048, 4096])
    return {
        "seed": rng.randrange(1_000_000),
        "asize": asize,
        "phys": asize * rng.choice([4, 8, 16]),
        "num": rng.randrange(1, 15),
    }


def seg_args(c):
    return [
        "-s", str(c["seed"]), "-a", str(c["asize"]), "-p", str(c["phys"]),
        "-n", str(c["num"]), "-c",
    ]


def seg_expected(out):
    """The registers and addresses, then the simulator's answers."""
    regs, vas, answers = {}, [], []
    for line in out.splitlines():
        m = re.match(r"\s+(Base|Segment \d base)\D.*\(decimal (\d+)\)", line)
        if m:
            regs[m.group(1).split()[-2] if m.group(1) != "Base" else "b"] = int(m.group(2))
        m = re.match(r"\s+(Limit|Segment (\d) limit)\s*: (\d+)", line)
        if m:
            regs["l" + (m.group(2) or "")] = int(m.group(3))
        m = re.match(r"\s+VA\s+\d+: 0x([0-9a-f]+) ", line)
        if m:
            vas.append(int(m.group(1), 16))
            answers.append(line.strip())
    return (regs, vas), answers


def seg_mem(c, e):
    regs, vas = e[0]
    va_bits = c["asize"].bit_length() - 1
    if "b" in regs:
        kind = "base_bounds %d %d" % (regs["b"], regs["l"])
    else:
        kind = "seg0 %d %d; seg1 %d %d" % (regs["0"], regs["l0"], regs["1"], regs["l1"])
    lines = [
        "machine { page_size 256 B; va_bits %d; levels 1; pte_size 4; memory %d B; %s; "
        "conventions ostep }" % (va_bits, c["phys"], kind)
    ]
    lines += [f"print translate({va})" for va in vas]
    return "\n".join(lines) + "\n"


def seg_lines(lines):
    return [l.strip() for l in lines if re.match(r"VA\s+\d+: ", l.strip())]


# ---- paging-multilevel-translate.py -------------------------------------------------------


def multi_case(rng, n):
    return {
        "id": n,
        "seed": rng.randrange(1_000_000),
        "allocated": rng.choice([4, 16, 32, 64, 80]),
        "num": rng.randrange(1, 20),
    }


def multi_args(c):
    return ["-s", str(c["seed"]), "-a", str(c["allocated"]), "-n", str(c["num"]), "-c"]


def multi_expected(out, tmp, c):
    """The simulator's whole output, kept as the dump memsim reads; its PDBR; its answers."""
    dump = os.path.join(tmp, "multi%d.txt" % c["id"])
    with open(dump, "w") as f:
        f.write(out)
    pdbr = int(re.search(r"^PDBR: (\d+)", out, re.M).group(1))
    vas = [int(m, 16) for m in re.findall(r"^Virtual Address 0x([0-9a-f]+):", out, re.M)]
    return (os.path.basename(dump), pdbr, vas), walk_lines(out.splitlines())


def multi_mem(c, e):
    dump, pdbr, vas = e[0]
    lines = [f"machine ostep_multilevel {{ pdbr {pdbr} }}", f'load_dump(file "{dump}")']
    lines += [f"print translate({va})" for va in vas]
    return "\n".join(lines) + "\n"


def walk_lines(lines):
    return [
        l.strip() for l in lines if re.match(r"\s*(Virtual Address 0x[0-9a-f]+:|-->)", l)
    ]


# ---- driver -------------------------------------------------------------------------------


def compare(name, cases, memsim, tmp, expected_of, mem_of, actual_of):
    agree = 0
    first_bad = None
    for start in range(0, len(cases), BATCH):
        batch = cases[start : start + BATCH]
        exp = [expected_of(c) for c in batch]
        traces = run_memsim(memsim, [mem_of(c, e) for c, e in zip(batch, exp)], tmp)
        for c, e, t in zip(batch, exp, traces):
            got = actual_of(c, t)
            if got == e[1]:
                agree += 1
            elif first_bad is None:
                first_bad = (c, e[1], got)
    print(f"{name:<34} {agree:>5} of {len(cases):>5} agree")
    if first_bad:
        c, e, got = first_bad
        print(f"  first difference: {c}")
        for i, (x, y) in enumerate(zip(e, got)):
            if x != y:
                print(f"    simulator: {x}\n    memsim:    {y}")
                break
        else:
            print(f"    {len(e)} answers from the simulator, {len(got)} from memsim")
    return agree == len(cases)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ostep_dir")
    ap.add_argument("--cases", type=int, default=200, help="cases per simulator and setting")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--memsim", default=None, help="the memsim binary (default: target/debug)")
    ap.add_argument("--only", default=None, help="run only checks whose name contains this")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    memsim = a.memsim or os.path.join(root, "target", "debug", "memsim")
    rng = random.Random(a.seed)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        malloc_py = os.path.join(a.ostep_dir, "vm-freespace", "malloc.py")
        checks = []
        for fit in FITS:
            for order in ORDERS:
                checks.append((f"malloc.py -p {fit} -l {order}", fit, order))
        for name, fit, order in checks:
            if a.only and a.only not in name:
                continue
            cases = []
            for _ in range(a.cases):
                c = malloc_case(rng)
                c["policy"], c["order"] = fit, order
                cases.append(c)
            ok &= compare(
                name, cases, memsim, tmp,
                lambda c: malloc_expected(c, run_python(malloc_py, malloc_args(c))),
                lambda c, e: malloc_mem(c, e[0]),
                malloc_actual,
            )
        policy_py = os.path.join(a.ostep_dir, "vm-beyondphys-policy", "paging-policy.py")
        for policy in POLICIES:
            name = f"paging-policy.py -p {policy}"
            if a.only and a.only not in name:
                continue
            cases = [policy_case(rng, policy) for _ in range(a.cases)]
            ok &= compare(
                name, cases, memsim, tmp,
                lambda c: (None, access_lines(run_python(policy_py, policy_args(c)).splitlines())),
                lambda c, e: policy_mem(c),
                lambda c, t: access_lines(t),
            )
        linear_py = os.path.join(a.ostep_dir, "vm-paging", "paging-linear-translate.py")
        name = "paging-linear-translate.py"
        if not a.only or a.only in name:
            cases = [linear_case(rng) for _ in range(a.cases)]
            ok &= compare(
                name, cases, memsim, tmp,
                lambda c: linear_expected(run_python(linear_py, linear_args(c))),
                linear_mem,
                lambda c, t: va_lines(t),
            )
        multi_py = os.path.join(a.ostep_dir, "vm-smalltables", "paging-multilevel-translate.py")
        name = "paging-multilevel-translate.py"
        if not a.only or a.only in name:
            cases = [multi_case(rng, n) for n in range(a.cases)]
            ok &= compare(
                name, cases, memsim, tmp,
                lambda c: multi_expected(run_python(multi_py, multi_args(c)), tmp, c),
                multi_mem,
                lambda c, t: walk_lines(t),
            )
        for name, sub in [
            ("relocation.py", ("vm-mechanism", "relocation.py")),
            ("segmentation.py", ("vm-segmentation", "segmentation.py")),
        ]:
            if a.only and a.only not in name:
                continue
            script = os.path.join(a.ostep_dir, *sub)
            cases = [seg_case(rng) for _ in range(a.cases)]
            ok &= compare(
                name, cases, memsim, tmp,
                lambda c, script=script: seg_expected(run_python(script, seg_args(c))),
                seg_mem,
                lambda c, t: seg_lines(t),
            )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
