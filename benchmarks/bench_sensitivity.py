"""The sensitivity analysis at full size: Sobol' with N = 1024 over the default 16
parameters (34,816 points), both frameworks, 20 replications of 20 episodes, on all cores.

    python benchmarks/bench_sensitivity.py            # the default analysis (target <= 300 s)
    python benchmarks/bench_sensitivity.py --quick    # N = 128, to try the script

Runs ``linkage experiment=sensitivity`` as a user would (no cell store: every cell is
computed; figures left out) and prints its wall time, CPU time and peak memory.
"""

from __future__ import annotations

import argparse
import os
import platform

from bench_map import cpu, measure

TARGET = 300.0  # seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    n = 128 if a.quick else 1024
    d, points = 16, n * (2 * 16 + 2)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    c0 = cpu()
    wall, mem = measure("experiment=sensitivity", f"sensitivity.n={n}", "figures.enabled=false")
    print(
        f"Sobol', N = {n}, {d} parameters: {points:,} points x 2 frameworks = {2 * points:,} "
        f"cells, x 20 replications x 20 episodes = {2 * points * 400 / 1e6:.1f}M world-episodes"
    )
    print(
        f"  {wall:.1f} s wall (target <= {TARGET:.0f} s at N = 1024), {cpu() - c0:.1f} s CPU, "
        f"peak {mem:.0f} MiB; {1e6 * wall / (2 * points * 400):.2f} us wall per world-episode"
    )


if __name__ == "__main__":
    main()
