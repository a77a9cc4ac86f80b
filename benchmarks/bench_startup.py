"""How long the command takes to answer when it runs nothing: ``--help`` and ``--cfg job``.

    python benchmarks/bench_startup.py [--repeats 7]

Each is the whole process, as a user types it (target: <= 0.6 s). The heavy modules (Mesa,
pandas, Numba, matplotlib) are imported only on the paths that use them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

LINKAGE = str(Path(sys.executable).parent / "linkage")


def wall(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([LINKAGE, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    for args in (["--help"], ["--cfg", "job"]):
        times = [wall(*args) for _ in range(a.repeats)]
        print(
            f"linkage {' '.join(args):9s} min {min(times):.2f} s, median "
            f"{statistics.median(times):.2f} s (target <= 0.6 s)"
        )


if __name__ == "__main__":
    main()
