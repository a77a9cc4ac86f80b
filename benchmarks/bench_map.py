"""The main job's speed and memory: wall time, peak memory, growth with grid and work.

    python benchmarks/bench_map.py            # all measurements (about three minutes)
    python benchmarks/bench_map.py --quick    # the default job only

Each measurement runs the ``linkage`` command as a user would (no cell store, so every
cell is computed) and samples the resident memory of the whole process tree (the job and
its worker processes) every 20 ms from /proc. The default job includes its figures; the
growth with work leaves them out, and reports the fixed cost (a run of one world for one
episode: start-up, pool, files) apart from the cost per world-episode above it.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
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


def _tree_pss(pid: int) -> int:
    """Proportional set size of ``pid`` and all its descendants: pages a forked worker
    shares with the job count once, not once per process as in the resident size."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
        stack += _children(p)
    return total


def cpu() -> float:
    """CPU seconds of every finished child process and its workers so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(*overrides: str) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB; proportional set size of the job and its
    workers) of one ``linkage`` run."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [LINKAGE, *overrides, "store=null", f"hydra.run.dir={tmp}/run"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = 0
        done = threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_pss(proc.pid))
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


def best(repeats: int, *overrides: str) -> tuple[list[float], float]:
    """Wall seconds of ``repeats`` runs, and the highest peak memory (MiB) among them."""
    runs = [measure(*overrides) for _ in range(repeats)]
    return [w for w, _ in runs], max(m for _, m in runs)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    walls, mem = best(a.repeats)
    print(
        f"default job (21x21x2 cells x 100 replications x 20 episodes = 88,200 runs, "
        f"1.76M episodes, 11 figures as PNG): min {min(walls):.1f} s, median "
        f"{statistics.median(walls):.1f} s wall ({', '.join(f'{w:.1f}' for w in walls)}; "
        f"target <= 5 s), peak {mem:.0f} MiB (target <= 1024 MiB)"
    )
    if a.quick:
        return
    wall4, mem4 = measure(*grid(42))
    print(
        f"grid x4 (42x42x2 cells): {wall4:.1f} s wall, peak {mem4:.0f} MiB "
        f"({100 * (mem4 / mem - 1):+.0f}% memory vs the default; target within 10%)"
    )
    print("time against world-episodes (one cell, 20 episodes, figures.enabled=false):")
    off = ("experiment=single", "figures.enabled=false")
    c0 = cpu()
    walls, _ = best(a.repeats, *off, "replications=1", "episodes=1")
    fixed, fixed_cpu = min(walls), (cpu() - c0) / a.repeats
    print(f"  fixed cost (1 world, 1 episode): {fixed:.2f} s wall, {fixed_cpu:.2f} s CPU")
    per = []
    for work in (10**4, 10**5, 10**6, 10**7):
        reps, n = work // 20, 1 if work >= 10**7 else a.repeats
        c0 = cpu()
        w = min(best(n, *off, f"replications={reps}")[0])
        c = (cpu() - c0) / n
        per.append((1e6 * (w - fixed) / work, 1e6 * (c - fixed_cpu) / work))
        print(
            f"  {work:>12,} world-episodes (replications={reps:,}): {w:6.2f} s wall, {c:6.2f} s "
            f"CPU; above the fixed cost {per[-1][0]:5.2f} us wall, {per[-1][1]:5.2f} us CPU "
            "per world-episode"
        )
    cpus = [c for _, c in per[1:]]
    print(
        f"  CPU per world-episode above the fixed cost, 10^5..10^7: {min(cpus):.2f}-"
        f"{max(cpus):.2f} us (max/min {max(cpus) / min(cpus):.2f}); at 10^4 the work is "
        "smaller than the fixed cost's noise: see the cost in one process below"
    )
    print("the same work in one process, on one core (no start-up, pool or output files):")
    fixed = in_process(1)
    print(f"  fixed cost (one cell of 1 world, 20 episodes): {1e3 * fixed:.1f} ms")
    costs = []
    for reps in (500, 5_000, 50_000, 500_000):
        t, work = in_process(reps), 20 * reps
        costs.append(1e6 * (t - fixed) / (work - 20))
        print(
            f"  {work:>12,} world-episodes: {1e6 * t / work:.2f} us per world-episode, "
            f"{costs[-1]:.2f} us above the fixed cost"
        )
    print(f"  above the fixed cost, max/min {max(costs) / min(costs):.2f} (target: flat)")


def in_process(replications: int) -> float:
    """Seconds to compute one cell of ``replications`` worlds (20 episodes) and store its
    rows, in this process: the best of three, small sizes repeated (at most 100 times)."""
    from sim import design, runner, summary
    from sim.config import load
    from sim.store import Store

    cfg = load(["experiment=single", f"replications={replications}", "jobs=1"])
    repeats = max(1, min(100, 50_000 // replications))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp), cfg, summary.files(cfg))
        runner.compute(cfg, design.cells(cfg), store, progress=False)  # warm: imports, kernel
        best = float("inf")
        for _ in range(3 if replications < 500_000 else 1):
            t0 = time.perf_counter()
            for _ in range(repeats):
                store.path(design.cells(cfg)[0]).unlink()
                runner.compute(cfg, design.cells(cfg), store, progress=False)
            best = min(best, (time.perf_counter() - t0) / repeats)
        return best


if __name__ == "__main__":
    main()
