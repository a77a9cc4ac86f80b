"""Peak memory is flat in replications: one cell of 20,000 to 2,000,000 replications.

    python benchmarks/bench_memory.py            # 20k, 200k and 2M replications (a few minutes)
    python benchmarks/bench_memory.py --quick    # 20k and 200k

A cell's worlds are cut into blocks, chunks of blocks run on the local cores, and each
block is reduced as it arrives (``sim.runner``, ``sim.moments``): nothing holds all the
worlds of a cell. Each run is the ``linkage`` command (no figures, no store), with the
resident memory of the job and its workers sampled from /proc as in ``bench_map.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_map import measure  # noqa: E402

LIMIT_MIB = 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    sizes = [20_000, 200_000] if a.quick else [20_000, 200_000, 2_000_000]
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, python {platform.python_version()}")
    print("job: linkage experiment=single replications=R episodes=20 figures.enabled=false")
    peaks = []
    for reps in sizes:
        wall, peak = measure(
            "experiment=single", f"replications={reps}", "episodes=20", "figures.enabled=false"
        )
        peaks.append(peak)
        print(f"  replications {reps:>9,}: {wall:7.1f} s, peak {peak:6.0f} MiB (job and workers)")
    verdict = "met" if max(peaks) <= LIMIT_MIB else "MISSED"
    print(f"peak {max(peaks):.0f} MiB; target <= {LIMIT_MIB} MiB at any replications: {verdict}")


if __name__ == "__main__":
    main()
