"""Per-world, per-episode metrics (docs/model.md §9).

Outcomes are valued with the scenario's salience weights, not the weights a country
negotiates with after backlash: backlash changes how Mexico bargains, not what an outcome is
worth, so episodes stay comparable. Gains are measured over the no-threat disagreement
utility ``D_c = sum_k w_c,k d_c,k``; efficiency divides the joint gain by the largest joint
gain on the Pareto frontier, ``sum_k max(w_US,k, w_MX,k) - D_US - D_MX``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.issues import max_joint_utility

NAMES = [
    "agreement_rate",
    "us_utility",
    "mx_utility",
    "us_gain",
    "mx_gain",
    "joint_gain",
    "efficiency",
    "mx_share",
    "nash_product",
    "trust_us",
    "trust_mx",
    "reneged",
    "threats",
    "threats_executed",
    "unilateral_actions",
    "rounds",
    "linked",
]


@dataclass
class Implemented:
    v_us: np.ndarray  # (W, n) value of each issue to the US after implementation
    v_mx: np.ndarray
    implemented: np.ndarray  # (W, n) under an agreement both sides kept
    reneged: np.ndarray  # (W,) commitments broken


def disagreement_utility(w, d):
    return float(np.dot(w, d))


def episode(model, out: Implemented, r, executed, unilateral, linked) -> dict[str, np.ndarray]:
    us, mx, cfg = model.us, model.mx, model.cfg
    w_us, w_mx = us.base_salience, mx.base_salience
    u_us = out.v_us @ w_us
    u_mx = out.v_mx @ w_mx
    lever = model.lever_index
    if lever is not None:
        u_us = u_us - executed * cfg.threat.self_cost * cfg.threat.size * w_us[lever]
        u_mx = u_mx - executed * cfg.threat.size * w_mx[lever]
    if model.unilateral_index is not None:
        u_us = u_us + unilateral * cfg.unilateral.gain * w_us[model.unilateral_index]
    if model.backlash_index is not None:
        u_mx = u_mx - unilateral * cfg.unilateral.harm * w_mx[model.backlash_index]
    D_us = disagreement_utility(w_us, us.disagreement)
    D_mx = disagreement_utility(w_mx, mx.disagreement)
    g_us, g_mx = u_us - D_us, u_mx - D_mx
    joint = g_us + g_mx
    frontier = max_joint_utility(w_us, w_mx) - D_us - D_mx
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(joint > 1e-9, g_mx / joint, np.nan)
    return {
        "agreement_rate": out.implemented.mean(axis=1),
        "us_utility": u_us,
        "mx_utility": u_mx,
        "us_gain": g_us,
        "mx_gain": g_mx,
        "joint_gain": joint,
        "efficiency": joint / frontier if frontier > 0 else np.full_like(joint, np.nan),
        "mx_share": share,
        "nash_product": np.maximum(g_us, 0.0) * np.maximum(g_mx, 0.0),
        "trust_us": us.trust,
        "trust_mx": mx.trust,
        "reneged": out.reneged.astype(float),
        "threats": r.threat.astype(float),
        "threats_executed": executed.astype(float),
        "unilateral_actions": unilateral.astype(float),
        "rounds": r.rounds,
        "linked": linked.astype(float),
    }
