"""US coercive pressure: threats, backlash and unilateral action (docs/model.md §6).

``pressure`` (pi) is the credibility of US threats and its propensity to act alone.

- Threat (coercive linkage, Oye 1992; Davis 2004): on any table that holds the lever issue
  and at least one other, the US threatens a penalty of ``threat.size`` units of Mexico's
  lever value if the table fails, bearing ``threat.self_cost`` of that size on its own lever
  value. Reservations use the expected penalty ``kappa * size``; on failure the penalty is
  executed with probability kappa, the threat's credibility: pi, raised by the audience cost
  of backing down (``credibility``). Delinking leaves no such table: it disarms the threat.
- Backlash: each threat adds ``backlash.trust * pi`` beta evidence to Mexico's trust and
  raises Mexico's sovereignty salience by ``backlash.salience * pi``.
- Unilateral action: with no security agreement the US acts alone with probability
  ``pi * unilateral.rate`` (the Cienfuegos and Zambada arrests; Assynt 2020).
"""

from __future__ import annotations

import numpy as np


def credibility(pressure, audience_cost):
    """The probability kappa that a failed threat is carried out: pi, raised toward 1 by the
    audience cost c the US leader would pay at home for backing down (Fearon 1994),
    ``kappa = pi + (1 - pi)(1 - exp(-c))``; exactly pi at c = 0."""
    return pressure + (1.0 - pressure) * -np.expm1(-audience_cost)


def threatened(has_lever, size, pressure):
    """Tables under threat: the lever plus at least one other issue, and pi > 0 (the
    caller passes pi = 0 when the threatened penalty is nothing)."""
    return has_lever & (size >= 2) & (pressure > 0)


def reservations(w_us, w_mx, d_us, d_mx, lever_w_us, lever_w_mx, threat, pressure, size, self_cost):
    """Expected no-deal value of each side, normalised on the table: (B,), (B,).

    ``w_*`` and ``d_*`` are (B, m) for the table's issues; ``lever_w_*`` the (B,) weight of
    the lever issue (0 where the table has none); ``size`` and ``self_cost`` the threat's.
    """
    expected = np.where(threat, pressure * size, 0.0)
    return (
        reservation(w_us, d_us, lever_w_us, expected * self_cost),
        reservation(w_mx, d_mx, lever_w_mx, expected),
    )


def reservation(w, d, lever_w, penalty):
    """One side's expected no-deal value on a table, normalised on it: ``(sum_k w_k d_k -
    penalty * lever_w) / sum_k w_k`` over the last axis (the table's issues)."""
    total = w.sum(axis=-1)
    return (np.sum(w * d, axis=-1) - penalty * lever_w) / np.where(total > 0, total, 1.0)


def raise_salience(salience, k, amount):
    """Add ``amount`` (W,) to issue ``k`` of the (W, n) weights and renormalise."""
    out = salience.copy()
    out[:, k] += amount
    return out / out.sum(axis=1, keepdims=True)
