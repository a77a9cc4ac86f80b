"""Regenerate every experiment: run its commands, draw its figures, print its numbers.

    python experiments/make_experiments.py                      # every experiment
    python experiments/make_experiments.py sequencing           # one (or several) by name

Each experiment is the module ``experiments/<name>/run.py``: it runs the ``linkage``
commands its README shows (with ``store=null`` and a run directory under the gitignored
``outputs/experiments/``), draws or copies its figures into ``experiments/<name>/`` and
prints the numbers the README quotes, also kept in ``experiments/<name>/numbers.txt``.
Runs are seeded: the same code gives the same numbers.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = sorted(run.parent.name for run in HERE.glob("*/run.py"))  # an experiment is a folder


def main(argv: list[str]) -> None:
    names = argv or NAMES
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        sys.exit(f"unknown experiment {unknown[0]!r}; choose from {NAMES}")
    # run as a script, this file's folder is on sys.path, not the root that holds the package
    sys.path.insert(0, str(HERE.parent))
    start = time.perf_counter()
    for name in names:
        importlib.import_module(f"experiments.{name}.run").run()
    print(f"done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
