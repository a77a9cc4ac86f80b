"""Scenario discovery (Bryant and Lempert 2010): the region of parameter space where an
outcome of interest happens, found by PRIM (Friedman and Fisher 1999) and checked with a
CART tree (Breiman et al. 1984), both as EMA Workbench implements them (Kwakkel 2017).

A box's *coverage* is the share of all cases of interest that fall in it, its *density*
the share of the points in it that are cases, its *mass* the share of all points in it.
PRIM peels the space down to ever denser, smaller boxes; we report the box of largest
coverage whose density reaches ``discovery.density``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class Box:
    """A box: its limits (``low``, ``high`` per parameter; ``restricted`` where it is
    narrower than the sampled range) and its statistics."""

    limits: pd.DataFrame  # index: parameter; columns: low, high, restricted
    coverage: float
    density: float
    mass: float

    def restrictions(self) -> list[str]:
        """The restricted parameters' limits in plain words, in the table's order."""
        out = []
        for name, r in self.limits[self.limits.restricted].iterrows():
            lo, hi = r.low_restricted, r.high_restricted
            if lo and hi:
                out.append(f"{name} is between {r.low:.3g} and {r.high:.3g}")
            elif lo:
                out.append(f"{name} > {r.low:.3g}")
            else:
                out.append(f"{name} < {r.high:.3g}")
        return out

    def sentence(self, outcome: str) -> str:
        rules = self.restrictions()
        where = " and ".join(rules) if rules else "anywhere in the sampled space"
        return (
            f"{outcome} when {where} (coverage {self.coverage:.0%}, density "
            f"{self.density:.0%}, mass {self.mass:.0%})"
        )


def _box(lims: pd.DataFrame, initial: pd.DataFrame, stats: dict) -> Box:
    low_r = lims.loc[0] > initial.loc[0]
    high_r = lims.loc[1] < initial.loc[1]
    table = pd.DataFrame(
        {
            "low": lims.loc[0],
            "high": lims.loc[1],
            "restricted": low_r | high_r,
            "low_restricted": low_r,
            "high_restricted": high_r,
        }
    )
    table.index.name = "parameter"
    return Box(table, float(stats["coverage"]), float(stats["density"]), float(stats["mass"]))


def cases(values: np.ndarray, direction: str, threshold: float) -> np.ndarray:
    """The cases of interest: ``values`` below (or above) ``threshold``."""
    return values < threshold if direction == "below" else values > threshold


def prim(x: pd.DataFrame, y: np.ndarray, density: float, mass_min: float, peel_alpha: float):
    """PRIM's first box on ``x`` (a column per parameter) for the cases ``y``: (the chosen
    box, the peeling trajectory with ``chosen`` marked), or (None, None) without cases."""
    if not y.any() or y.all():
        return None, None
    # EMA Workbench warns of its optional back-ends and of pandas deprecations
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim as ema_prim

        alg = ema_prim.Prim(x, y.astype(int), mass_min=mass_min, peel_alpha=peel_alpha)
        found = alg.find_box()
    path = found.peeling_trajectory.reset_index(drop=True)
    dense = path.index[path.density >= density]
    # the densest box when none is dense enough
    i = int(path.loc[dense, "coverage"].idxmax()) if len(dense) else int(path.density.idxmax())
    path = path[["coverage", "density", "mass", "res_dim"]].assign(chosen=path.index == i)
    path.index.name = "box"
    stats = path.loc[i, ["coverage", "density", "mass"]].to_dict()
    return _box(found.box_lims[i], alg.box_init, stats), path


def cart(x: pd.DataFrame, y: np.ndarray, mass_min: float, seed: int) -> Box | None:
    """The densest leaf of a classification tree whose leaves hold at least ``mass_min``
    of the points (the most covering among equally dense ones)."""
    if not y.any() or y.all():
        return None
    from sklearn.tree import DecisionTreeClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import cart as ema_cart
        from ema_workbench.analysis import scenario_discovery_util as sdutil

    class Seeded(ema_cart.CART):
        def build_tree(self) -> None:  # as EMA Workbench's, with a seed: ties break alike
            leaf = int(self.mass_min * self.x.shape[0])
            self.clf = DecisionTreeClassifier(min_samples_leaf=leaf, random_state=seed)
            self.clf.fit(self._x, self.y)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = Seeded(x, y.astype(int), mass_min=mass_min)
        tree.build_tree()
        stats, boxes = tree.stats, tree.boxes
    best = max(range(len(stats)), key=lambda k: (stats[k]["density"], stats[k]["coverage"]))
    return _box(boxes[best], sdutil._make_box(x), stats[best])
