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
    "blocked_us",
    "blocked_mx",
    "unratified_us",
    "unratified_mx",
    "involuntary",
    "winset_us",
    "winset_mx",
]


@dataclass
class Implemented:
    v_us: np.ndarray  # (W, n) value of each issue to the US after implementation
    v_mx: np.ndarray
    implemented: np.ndarray  # (W, n) under an agreement both sides kept
    reneged: np.ndarray  # (W,) commitments broken


def names(issues: list[str]) -> list[str]:
    """Every metric: :data:`NAMES`, then per issue the share of worlds with an implemented
    agreement on it and the mean position agreed on it (docs/model.md §9)."""
    return NAMES + [f"agreement.{k}" for k in issues] + [f"position.{k}" for k in issues]


class Runs:
    """The runs of consecutive worlds whose rows of ``a`` (W, k) are equal: one per point of
    a batch, usually (points own consecutive worlds), or one for a plain config."""

    def __init__(self, a: np.ndarray):
        change = np.nonzero(np.any(a[1:] != a[:-1], axis=1))[0] + 1
        self.starts = np.concatenate([[0], change]).astype(np.intp)
        self.stops = np.concatenate([change, [len(a)]]).astype(np.intp)

    def weighted(self, v, w) -> np.ndarray:
        """``sum_k v[:, k] w[:, k]`` per world, (W,), for ``w`` constant on each run: one
        matrix-vector product per run, the same arithmetic whatever shares the batch."""
        if len(self.starts) == 1:
            return v @ w[0]
        out = np.empty(len(v))
        for a, b in zip(self.starts, self.stops, strict=True):
            out[a:b] = v[a:b] @ w[a]
        return out

    def dot(self, w, d) -> np.ndarray:
        """``sum_k w_k d_k`` per world, (W,), for ``w`` and ``d`` constant on each run."""
        per_run = [float(np.dot(w[a], d[a])) for a in self.starts]
        return np.repeat(per_run, self.stops - self.starts)


def episode(model, out: Implemented, r, executed, unilateral, linked) -> dict[str, np.ndarray]:
    us, mx, p = model.us, model.mx, model.params
    winsets = model.winsets()
    w_us, w_mx = us.base_salience, mx.base_salience
    runs = model.points  # weights and no-deal values are constant on each point's worlds
    u_us = runs.weighted(out.v_us, w_us)
    u_mx = runs.weighted(out.v_mx, w_mx)
    size = p["threat.size"]
    lever = model.lever_index
    if lever is not None:
        u_us = u_us - executed * p["threat.self_cost"] * size * w_us[:, lever]
        u_mx = u_mx - executed * size * w_mx[:, lever]
    if model.unilateral_index is not None:
        u_us = u_us + unilateral * p["unilateral.gain"] * w_us[:, model.unilateral_index]
    if model.backlash_index is not None:
        u_mx = u_mx - unilateral * p["unilateral.harm"] * w_mx[:, model.backlash_index]
    D_us = runs.dot(w_us, us.disagreement)
    D_mx = runs.dot(w_mx, mx.disagreement)
    g_us, g_mx = u_us - D_us, u_mx - D_mx
    joint = g_us + g_mx
    frontier = max_joint_utility(w_us, w_mx) - D_us - D_mx
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(joint > 1e-9, g_mx / joint, np.nan)
        efficiency = np.where(frontier > 0, joint / frontier, np.nan)
    per_issue = {}
    for k, issue in enumerate(model.issues):
        done = out.implemented[:, k]
        per_issue[f"agreement.{issue}"] = done.astype(float)
        per_issue[f"position.{issue}"] = np.where(done, r.x[:, k], np.nan)
    return {
        "agreement_rate": out.implemented.mean(axis=1),
        "us_utility": u_us,
        "mx_utility": u_mx,
        "us_gain": g_us,
        "mx_gain": g_mx,
        "joint_gain": joint,
        "efficiency": efficiency,
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
        "blocked_us": model.blocked[0],
        "blocked_mx": model.blocked[1],
        "unratified_us": r.unratified[0],
        "unratified_mx": r.unratified[1],
        "involuntary": (r.lost[0] | r.lost[1]).sum(axis=1).astype(float),
        "winset_us": winsets[0],
        "winset_mx": winsets[1],
    } | per_issue
