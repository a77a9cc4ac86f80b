"""A single run's figures against its tables alone: what drawing the negotiation dance costs.

    python benchmarks/bench_single.py              # 5 repeats of each (about two minutes)
    python benchmarks/bench_single.py --repeats 3

Each repeat runs the ``linkage`` command as a user would, one large cell (20,000 worlds, 5
episodes of 100 rounds, no cell store, so the cell is computed every time), once with its
figures (the default: trajectories and the dance of episode 1, as PNG) and once with
``figures.enabled=false``, alternating so that a drift of the machine touches both alike.
The dance comes from the record the run keeps of world 0 while it runs, so the figures cost
drawing, not a second simulation (target: with figures / without <= 1.2).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINKAGE = str(Path(sys.executable).parent / "linkage")
JOB = ["experiment=single", "replications=20000", "episodes=5", "rounds=100", "store=null"]


def measure(*overrides: str) -> float:
    """Wall seconds of one ``linkage`` run of the job, in its own process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [LINKAGE, *JOB, *overrides, f"hydra.run.dir={tmp}/run"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"linkage failed: {proc.stderr.decode()[-2000:]}")
    return wall


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    print(f"job: linkage {' '.join(JOB)} ({a.repeats} repeats each)")
    runs: dict[str, list[float]] = {"with figures": [], "figures.enabled=false": []}
    for _ in range(a.repeats):
        runs["with figures"].append(measure())
        runs["figures.enabled=false"].append(measure("figures.enabled=false"))
    for label, times in runs.items():
        print(
            f"  {label:22s} min {min(times):5.2f} s, median {statistics.median(times):5.2f} s "
            f"({', '.join(f'{t:.2f}' for t in times)})"
        )
    with_fig, without = runs.values()
    print(
        f"with figures / without: {min(with_fig) / min(without):.2f} (min), "
        f"{statistics.median(with_fig) / statistics.median(without):.2f} (median); target <= 1.2"
    )


if __name__ == "__main__":
    main()
