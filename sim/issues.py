"""The issue space: positions, risk-adjusted values, the Pareto frontier and the Nash point.

A position ``x_k`` in [0, 1] is 1 at the US ideal and 0 at the Mexican ideal, so
``v_US(x) = x`` and ``v_MX(x) = 1 - x``. Utility is linear additive in the salience
weights (Raiffa 1982, *The Art and Science of Negotiation*).

Risk adjustment (docs/model.md §3.1): the US counts the part of x_k that lies beyond Mexico's
individually rational point ``1 - d_MX,k`` at ``trust_US`` of face value, because a
Mexico that reneges retreats to that point; symmetrically for Mexico below ``d_US,k``.
Each side's value on an issue is then concave and piecewise linear with breakpoints at
``d_US,k`` and ``1 - d_MX,k``, so every issue splits into three segments on which both
slopes are constant. The bargaining kernel concedes segment by segment.

All functions broadcast over leading (world) axes; the last axis is the issue axis.
"""

from __future__ import annotations

import numpy as np

US, MX = 0, 1


def segments(d_us, d_mx):
    """Split [0, 1] at ``d_US`` and ``1 - d_MX``: lower edges and lengths, shape (..., n, 3)."""
    p1 = np.minimum(d_us, 1.0 - d_mx)
    p2 = np.maximum(d_us, 1.0 - d_mx)
    lo = np.stack([np.zeros_like(p1), p1, p2], axis=-1)
    hi = np.stack([p1, p2, np.ones_like(p2)], axis=-1)
    return lo, hi - lo


def segment_factors(d_us, d_mx, trust_us, trust_mx):
    """Risk factor of each segment: value per unit of x moved, per unit of salience weight.

    For the US (x moving up) the factor is ``trust_US`` beyond Mexico's rational point
    ``1 - d_MX`` and 1 elsewhere; for Mexico (x moving down) ``trust_MX`` below ``d_US``.
    Returns ``(lo, length, factor_us, factor_mx)``, each of shape (..., n, 3).
    """
    lo, length = segments(d_us, d_mx)
    mid = lo + 0.5 * length
    t_us = np.asarray(trust_us, float)[..., None, None]
    t_mx = np.asarray(trust_mx, float)[..., None, None]
    factor_us = np.where(mid > (1.0 - d_mx)[..., None], t_us, 1.0)
    factor_mx = np.where(mid < d_us[..., None], t_mx, 1.0)
    return lo, length, factor_us, factor_mx


def pareto_frontier(w_us, w_mx):
    """Vertices of the face-value Pareto frontier, from the US ideal to the Mexican ideal.

    With linear utilities the frontier is traced by moving issues from x = 1 to x = 0 in
    increasing order of the US/Mexico weight ratio: each step gives Mexico the most per unit
    the US gives up (Sebenius 1983, "Negotiation arithmetic").

    Returns (u_us, u_mx), each of length n + 1, and the order in which issues move.
    """
    w_us = np.asarray(w_us, float)
    w_mx = np.asarray(w_mx, float)
    ratio = np.divide(w_us, w_mx, out=np.full_like(w_us, np.inf), where=w_mx > 0)
    order = np.argsort(ratio, kind="stable")
    u_us = np.concatenate([[w_us.sum()], w_us.sum() - np.cumsum(w_us[order])])
    u_mx = np.concatenate([[0.0], np.cumsum(w_mx[order])])
    return u_us, u_mx, order


def max_joint_utility(w_us, w_mx):
    """The largest ``U_US + U_MX``: each issue goes to the side that values it more."""
    return np.sum(np.maximum(w_us, w_mx), axis=-1)


def nash_point(w_us, w_mx, d_us, d_mx):
    """The Nash bargaining solution on the face-value frontier (Nash 1950).

    ``d_us`` and ``d_mx`` are the disagreement utilities. Maximises
    ``(U_US - d_us)(U_MX - d_mx)`` exactly: on each frontier edge the product is a
    quadratic in the edge parameter, so its maximum is a vertex or a stationary point.
    Returns ``(u_us, u_mx)``, or ``None`` when no frontier point gives both sides a gain.
    """
    u_us, u_mx, _ = pareto_frontier(w_us, w_mx)
    best, best_point = -np.inf, None
    for k in range(len(u_us) - 1):
        a0, a1 = u_us[k] - d_us, u_us[k + 1] - d_us
        b0, b1 = u_mx[k] - d_mx, u_mx[k + 1] - d_mx
        # product along the edge: (a0 + s da)(b0 + s db), s in [0, 1]
        da, db = a1 - a0, b1 - b0
        candidates = [0.0, 1.0]
        if da * db != 0:
            candidates.append(np.clip(-(a0 * db + b0 * da) / (2 * da * db), 0.0, 1.0))
        for s in candidates:
            a, b = a0 + s * da, b0 + s * db
            if a >= 0 and b >= 0 and a * b > best:
                best, best_point = a * b, (a + d_us, b + d_mx)
    return best_point
