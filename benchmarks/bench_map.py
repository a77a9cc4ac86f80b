"""The main job's speed and memory: wall time, peak memory, growth with grid and work.

    python benchmarks/bench_map.py            # all measurements (about two minutes)
    python benchmarks/bench_map.py --quick    # the default job only

Each measurement runs the ``linkage`` command as a user would (figures included, no cell
store, so every cell is computed) and samples the resident memory of the whole process
tree (the job and its worker processes) every 20 ms from /proc.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LINKAGE = str(Path(sys.executable).parent / "linkage")


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
        stack += _children(p)
    return total


def measure(*overrides: str) -> tuple[float, float]:
    """Wall seconds and peak tree memory (MiB) of one ``linkage`` run."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [LINKAGE, *overrides, "store=null", f"hydra.run.dir={tmp}/run"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = 0
        done = threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(proc.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        _, err = proc.communicate()
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        if proc.returncode != 0:
            raise SystemExit(f"linkage failed: {err.decode()[-2000:]}")
    return wall, peak / 2**20


def grid(n: int) -> list[str]:
    values = ",".join(repr(i / (n - 1)) for i in range(n))
    return [f"map.trust=[{values}]", f"map.pressure=[{values}]"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    wall, mem = measure()
    print(
        f"default job (21x21x2 cells x 100 replications x 20 episodes = 88,200 runs, "
        f"1.76M episodes): {wall:.1f} s wall, peak {mem:.0f} MiB (target: <= 20 s, < 1024 MiB)"
    )
    if a.quick:
        return
    wall4, mem4 = measure(*grid(42))
    print(
        f"grid x4 (42x42x2 cells): {wall4:.1f} s wall, peak {mem4:.0f} MiB "
        f"({100 * (mem4 / mem - 1):+.0f}% memory vs the default; target within 10%)"
    )
    print("time against worlds x episodes (default grid):")
    sizes = [(25, 20), (50, 20), (100, 40)]
    rows = []
    for reps, episodes in sizes:
        w, _ = measure(f"replications={reps}", f"episodes={episodes}", "figures.enabled=false")
        work = 882 * reps * episodes
        rows.append((work, w))
        print(
            f"  replications={reps:3d} episodes={episodes}: {work:>10,} world-episodes "
            f"{w:6.1f} s  ({1e6 * w / work:.2f} us per world-episode)"
        )
    (w0, t0), (w1, t1) = rows[0], rows[-1]
    slope = (t1 - t0) / (w1 - w0)
    print(
        f"  marginal cost {1e6 * slope:.2f} us per world-episode; fixed cost "
        f"{t0 - slope * w0:.1f} s (start-up, pool, files)"
    )


if __name__ == "__main__":
    main()
