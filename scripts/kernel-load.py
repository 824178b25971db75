"""The kernel under load, through jupyter_client as a front end would talk to it.

Run by scripts/kernel-load.sh inside the Jupyter virtualenv, with $MEMSIM the memsim to test.
Prints each figure; exits non-zero if a check fails:

  signatures  a message signed with a wrong key, one without a signature, and a replay of a
              message already run never execute
  order       replies answer their own requests whatever order they are sent in
  cells       N cells in a row (default 1,000): resident memory after a warm-up of 100 cells
              and at the end, within 10 %
  restart     a restart ends the old process; the new one is as small as a fresh kernel
  many        K kernels (default 50) started one after another: time from start to the
              first kernel_info reply, then resident memory of each, idle
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session

MEMSIM = os.environ.get("MEMSIM", "target/debug/memsim")
failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return not any(l.startswith("State:") and "Z" in l for l in f)
    except FileNotFoundError:
        return False


def run(kc, code, timeout=30):
    """Executes a cell; returns its reply content and the iopub messages it caused."""
    msg_id = kc.execute(code)
    outs = []
    while True:
        m = kc.get_iopub_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        outs.append(m)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        # Replies to requests sent around the client (a replay) are not this one's.
        if reply["parent_header"]["msg_id"] == msg_id:
            return reply["content"], outs


class Kernel:
    """`memsim kernel` on a connection file of its own, and a client connected to it."""

    def __init__(self, folder, n, key=None):
        self.file = os.path.join(folder, f"kernel-{n}.json")
        write_connection_file(self.file, ip="127.0.0.1", key=key or os.urandom(16).hex().encode())
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            [MEMSIM, "kernel", "--connection-file", self.file],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self.kc = BlockingKernelClient(connection_file=self.file)
        self.kc.load_connection_file()
        self.kc.start_channels()
        # Started: listening, and answering the first kernel_info.
        self.kc.kernel_info(reply=True, timeout=30)
        self.ready = time.perf_counter() - self.start
        # Then ready as Jupyter means it: iopub delivers too (its retries take 200 ms steps).
        self.kc.wait_for_ready(timeout=30)

    def stop(self):
        self.kc.stop_channels()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def signatures(folder):
    print("== signatures: a wrong key, no signature, a replay")
    k = Kernel(folder, "sig")
    try:
        info = k.kc.get_connection_info()
        # A client that knows the ports but not the key.
        wrong = BlockingKernelClient()
        wrong.load_connection_info({**info, "key": b"not the key"})
        wrong.start_channels()
        wrong.execute("let forged = 1")
        unsigned = BlockingKernelClient()
        unsigned.load_connection_info({**info, "key": b""})
        unsigned.start_channels()
        unsigned.execute("let unsigned = 1")
        time.sleep(1)
        # A message the kernel ran, sent again byte for byte on a socket of its own.
        session = Session(key=info["key"], signature_scheme="hmac-sha256")
        msg = session.msg("execute_request", {"code": "replays = replays + 1", "silent": False,
                                              "store_history": True, "user_expressions": {},
                                              "allow_stdin": False, "stop_on_error": True})
        run(k.kc, "let replays = 0")
        frames = session.serialize(msg)
        shell = k.kc.shell_channel.socket
        shell.send_multipart(frames)
        first = k.kc.get_shell_msg(timeout=30)
        check(first["content"]["status"] == "ok", "a signed message runs")
        shell.send_multipart(frames)
        time.sleep(1)
        for name in ["forged", "unsigned"]:
            reply, _ = run(k.kc, f"print {name}")
            check(reply["status"] == "error" and reply["ename"] == "mem::check::unknown_name",
                  f"the {name} cell never ran ({reply.get('ename')})")
        reply, outs = run(k.kc, "print replays")
        text = "".join(m["content"].get("text", "") for m in outs if m["msg_type"] == "stream")
        check(text.strip() == "1", f"the replayed cell ran once (replays = {text.strip()})")
        k.proc.terminate()
        err = k.proc.communicate(timeout=10)[1].decode()
        check(err.count("bad or missing signature") >= 2, "the kernel logged the bad signatures")
        check("replayed" in err, "the kernel logged the replay")
        wrong.stop_channels()
        unsigned.stop_channels()
    finally:
        if k.proc.poll() is None:
            k.stop()


def order(folder):
    print("== order: replies answer their own requests")
    k = Kernel(folder, "order")
    try:
        ids = [k.kc.execute(f"let v{i} = {i}") for i in range(5)]
        ids.append(k.kc.kernel_info())
        ids.append(k.kc.complete("mall", 4))
        got = [k.kc.get_shell_msg(timeout=30)["parent_header"]["msg_id"] for _ in ids]
        check(got == ids, "seven requests sent at once: seven replies, in order, each to its own")
    finally:
        k.stop()


def cells(folder, n):
    print(f"== cells: {n:,} in a row")
    k = Kernel(folder, "cells")
    try:
        cell = ("let p = malloc(4 KiB)\nwrite p[0..4 KiB] step 1 KiB = 7\nlet q = realloc(p, 8 KiB)\n"
                "print q[100]\nfree(q)\nshow heap\nstats.faults")
        warm = min(100, n // 10)
        rss = {}
        t0 = time.perf_counter()
        for i in range(1, n + 1):
            reply, _ = run(k.kc, cell)
            if reply["status"] != "ok":
                check(False, f"cell {i} failed: {reply.get('evalue')}")
                return
            if i == warm or i == n or i % (n // 5) == 0:
                rss[i] = rss_kib(k.proc.pid)
        elapsed = time.perf_counter() - t0
        print(f"  {n:,} cells in {elapsed:.1f} s ({elapsed / n * 1000:.1f} ms a cell)")
        print("  resident: " + ", ".join(f"cell {i}: {v / 1024:.1f} MiB" for i, v in rss.items()))
        growth = (rss[n] - rss[warm]) / rss[warm]
        check(growth <= 0.10, f"after warm-up the kernel grew {growth * 100:+.1f} % (at most 10 %)")
    finally:
        k.stop()


def restart(folder):
    print("== restart: a fresh process, as small as a new kernel")
    km = KernelManager(kernel_name="mem")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=30)
    try:
        fresh = rss_kib(km.provisioner.process.pid)
        run(kc, "let big = malloc(64 MiB)\nbig[0..64 MiB] = 1", timeout=120)
        old = km.provisioner.process.pid
        used = rss_kib(old)
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=30)
        new = km.provisioner.process.pid
        time.sleep(0.5)
        after = rss_kib(new)
        print(f"  fresh {fresh / 1024:.1f} MiB, after a 64 MiB cell {used / 1024:.1f} MiB, "
              f"after restart {after / 1024:.1f} MiB")
        check(new != old and not alive(old), "the old process is gone")
        check(after <= fresh * 1.10, "the restarted kernel is as small as a fresh one")
        reply, _ = run(kc, "print big")
        check(reply["status"] == "error", "nothing of the old session is left")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def many(folder, n):
    print(f"== many: {n} kernels side by side")
    kernels = []
    try:
        for i in range(n):
            kernels.append(Kernel(folder, i))
        starts = sorted(k.ready * 1000 for k in kernels)
        time.sleep(2)
        rss = sorted(rss_kib(k.proc.pid) / 1024 for k in kernels)
        print(f"  start to first reply: median {starts[n // 2]:.0f} ms, "
              f"max {starts[-1]:.0f} ms")
        print(f"  resident when idle: median {rss[n // 2]:.1f} MiB, max {rss[-1]:.1f} MiB, "
              f"total {sum(rss):.0f} MiB")
        check(starts[-1] < 200, "each started in under 200 ms")
        check(rss[-1] < 20, "each stays under 20 MiB resident")
    finally:
        for k in kernels:
            k.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--kernels", type=int, default=50)
    ap.add_argument("parts", nargs="*", default=["signatures", "order", "cells", "restart", "many"])
    a = ap.parse_args()
    print(f"memsim: {MEMSIM}")
    with tempfile.TemporaryDirectory() as folder:
        for part in a.parts:
            if part == "cells":
                cells(folder, a.cells)
            elif part == "many":
                many(folder, a.kernels)
            else:
                globals()[part](folder)
    if failures:
        print(f"kernel load: {len(failures)} failed")
        sys.exit(1)
    print("kernel load: all passed")


if __name__ == "__main__":
    main()
