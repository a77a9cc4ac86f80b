"""One value per sampled row for each outcome, from the runner's ``cells.csv``.

An outcome is ``premium.<metric>`` (the metric's cell mean in the linked framework minus
in the delinked one, at the same point), ``linked.<metric>`` or ``delinked.<metric>``;
``joint_utility`` is the US's utility plus Mexico's (``sim.config.check_outcome``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.space import Design
from sim.config import Config


def of(cfg: Config, design: Design, cells: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """``names`` (columns) for every row of ``design.X`` (rows), from ``cells`` (the
    tables' rows, in the order of ``design.cells``)."""
    expected = [c.framework for c in design.cells(cfg)]
    if list(cells["framework"]) != expected:
        raise ValueError("cells.csv does not hold this design's cells in order")
    cells = cells.assign(joint_utility=cells["us_utility"] + cells["mx_utility"])
    per_framework = {
        fw: cells[cells["framework"] == fw].reset_index(drop=True) for fw in set(expected)
    }
    out = {}
    for name in names:
        kind, _, metric = name.partition(".")
        if kind == "premium":
            at_point = per_framework["linked"][metric] - per_framework["delinked"][metric]
        else:
            at_point = per_framework[kind][metric]
        out[name] = np.asarray(at_point, float)[design.row_point]
    return pd.DataFrame(out)
