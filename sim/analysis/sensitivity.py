"""Global sensitivity indices of a model's outputs, estimated by SALib (docs/model.md §11).

- Sobol' (Saltelli 2002; Saltelli et al. 2010): first-order S1 (the share of an output's
  variance a parameter explains alone) and total ST (alone and with any others), with
  bootstrap intervals; S2 for pairs when the sample has second-order rows.
- Morris (1991; Campolongo et al. 2007): μ*, the mean absolute elementary effect (how much
  a parameter moves the output), and σ, their spread (how much that depends on the other
  parameters), with a bootstrap interval for μ*.

The functions take SALib's ``problem`` and any outputs, so a known function (Ishigami's, in
the tests) runs through exactly the code the model's outputs do.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from sim.config import SensitivityMethod

log = logging.getLogger(__name__)

CONF = 0.95  # the intervals' level


def sobol(problem: dict, Y: np.ndarray, second_order: bool, resamples: int, seed: int):
    """(first and total indices, second-order indices or None) of one output ``Y`` (one
    value per row of the Saltelli sample), as tables."""
    from SALib.analyze import sobol as salib

    names = problem["names"]
    if np.ptp(Y) == 0:  # no variance to share out: every index is undefined
        log.warning("an output is the same at every point; its indices are undefined")
        nan = np.full(len(names), np.nan)
        r = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
    else:
        # a Generator, not the int: SALib's Sobol' analysis ignores a seed of 0 (``if seed:``)
        # and would draw its bootstrap from numpy's global state
        r = salib.analyze(
            problem, Y, calc_second_order=second_order, num_resamples=resamples,
            conf_level=CONF, seed=np.random.default_rng(seed),
        )  # fmt: skip
    first = pd.DataFrame(
        {
            "parameter": names,
            "S1": r["S1"],
            "S1_low": r["S1"] - r["S1_conf"],
            "S1_high": r["S1"] + r["S1_conf"],
            "ST": r["ST"],
            "ST_low": r["ST"] - r["ST_conf"],
            "ST_high": r["ST"] + r["ST_conf"],
        }
    )
    if not second_order or "S2" not in r:
        return first, None
    i, j = np.triu_indices(len(names), 1)
    pairs = pd.DataFrame(
        {
            "parameter": np.asarray(names)[i],
            "with": np.asarray(names)[j],
            "S2": r["S2"][i, j],
            "S2_low": r["S2"][i, j] - r["S2_conf"][i, j],
            "S2_high": r["S2"][i, j] + r["S2_conf"][i, j],
        }
    )
    return first, pairs


def morris(problem: dict, X: np.ndarray, Y: np.ndarray, levels: int, resamples: int, seed: int):
    """μ*, its interval, μ and σ of one output ``Y`` over the Morris sample ``X``."""
    from SALib.analyze import morris as salib

    r = salib.analyze(
        problem, X, Y, num_resamples=resamples, conf_level=CONF, num_levels=levels, seed=seed
    )
    return pd.DataFrame(
        {
            "parameter": problem["names"],
            "mu_star": r["mu_star"],
            "mu_star_low": r["mu_star"] - r["mu_star_conf"],
            "mu_star_high": r["mu_star"] + r["mu_star_conf"],
            "mu": r["mu"],
            "sigma": r["sigma"],
        }
    )


def indices(cfg, design, Y: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Every output's indices (``indices.csv``: one row per parameter and output, the most
    influential first) and, for Sobol' with second order, its pairs (``interactions.csv``)."""
    s = cfg.sensitivity
    firsts, pairs = [], []
    for name in Y.columns:
        y = Y[name].to_numpy()
        if s.method is SensitivityMethod.sobol:
            first, pair = sobol(design.problem, y, s.second_order, s.resamples, cfg.seed)
            key = "ST"
            if pair is not None:
                pairs.append(pair.assign(output=name))
        else:
            first, key = (
                morris(design.problem, design.X, y, s.levels, s.resamples, cfg.seed),
                "mu_star",
            )
        first = first.sort_values(key, ascending=False, kind="stable")
        firsts.append(first.assign(output=name))
    table = pd.concat(firsts, ignore_index=True)
    table = table[["output", *[c for c in table.columns if c != "output"]]]
    if not pairs:
        return table, None
    inter = pd.concat(pairs, ignore_index=True)
    return table, inter[["output", *[c for c in inter.columns if c != "output"]]]
