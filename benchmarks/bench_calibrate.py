"""The calibration's simulator: simulated histories per second, and peak memory.

    python benchmarks/bench_calibrate.py                  # batches of 100, 200 and 400 points
    python benchmarks/bench_calibrate.py --points 400 --batches 3

A history is one parameter point through one scenario run's episodes (one world). The
simulator of ``experiment=calibrate`` (``sim.analysis.record.margins``) runs every pattern of
``seeds/patterns.yaml`` for a batch of points drawn from the default priors, ``replications``
worlds per point (20, as ``experiment=calibrate``). It prints the histories per second, the
time 1,000,000 histories would take at that rate, and the peak resident memory after each
batch (flat memory: the peak does not grow with the number of batches).
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, nargs="*", default=[100, 200, 400])
    ap.add_argument("--batches", type=int, default=2)
    ap.add_argument("--replications", type=int, default=20)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from sim import patterns
    from sim.analysis import record
    from sim.config import PRIORS

    found = patterns.load(ROOT / "seeds" / "patterns.yaml", ROOT / "seeds" / "evidence.yaml")
    runs = {
        (r.scenario, r.framework, r.overrides)
        for p in found
        for r in (p.run, p.against)
        if isinstance(r, patterns.Run)
    }
    names = list(PRIORS)
    lo, hi = np.array([PRIORS[k] for k in names]).T
    rng = np.random.default_rng(0)
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; "
        f"{len(found)} patterns, {len(runs)} scenario runs, {args.replications} worlds a point"
    )
    for B in args.points:
        for b in range(args.batches):
            X = lo + (hi - lo) * rng.random((B, len(names)))
            start = time.perf_counter()
            record.margins(found, names, X, args.replications, seed=b)
            seconds = time.perf_counter() - start
            histories = B * args.replications * len(runs)
            rate = histories / seconds
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"  {B:5d} points, batch {b + 1}: {histories:9,d} histories in {seconds:6.1f} s "
                f"= {rate:8,.0f}/s; 10^6 in {1e6 / rate / 60:5.1f} min; peak RSS {peak:6.0f} MiB"
            )


if __name__ == "__main__":
    main()
