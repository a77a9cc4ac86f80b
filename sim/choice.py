"""The framework as a choice (docs/model.md §2.1): what each side expects one table or
separate tables to give it, from its own beliefs, and the rules that make a framework of
the two expectations, per world and episode.

A side values a framework as the sum over its tables of its value at the table's Nash point
(Nash 1950) on the frontier as *it* sees it: its own weights, its estimate of the partner's
(``bargaining.estimate``, weighted by its trust), its own trust on both sides of the risk
adjustment (it cannot see the partner's), the threat the table carries, and both sides'
reservations with those weights. Where no point of that frontier beats both reservations it
expects no deal: its reservation. Both sides call the one function, :func:`expected`.
"""

from __future__ import annotations

import numpy as np

from sim import bargaining, frameworks, guarantor, pressure
from sim.bargaining import Tables

RULES = ("consent", "us_sets", "mx_sets")


def nash(u_us: np.ndarray, u_mx: np.ndarray, r_us: np.ndarray, r_mx: np.ndarray):
    """The Nash point of each row's piecewise-linear frontier (vertices ``u_us``, ``u_mx``,
    (B, V)) over the disagreement point (``r_us``, ``r_mx``): (U_US, U_MX, found), with
    ``found`` False where no frontier point gives both sides at least their disagreement
    value. The product is a quadratic on each edge: its maximum is an end or the stationary
    point (as ``issues.nash_point``, for many frontiers at once)."""
    a0, a1 = u_us[:, :-1] - r_us[:, None], u_us[:, 1:] - r_us[:, None]
    b0, b1 = u_mx[:, :-1] - r_mx[:, None], u_mx[:, 1:] - r_mx[:, None]
    da, db = a1 - a0, b1 - b0
    curved = da * db != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        stationary = np.clip(-(a0 * db + b0 * da) / (2 * da * db), 0.0, 1.0)
    s = np.stack([np.zeros_like(a0), np.ones_like(a0), np.where(curved, stationary, 0.0)], -1)
    a, b = a0[..., None] + s * da[..., None], b0[..., None] + s * db[..., None]
    product = np.where((a >= 0) & (b >= 0), a * b, -np.inf).reshape(len(a0), -1)
    best = np.argmax(product, axis=1)  # the first of equal maxima, as issues.nash_point
    rows = np.arange(len(a0))
    return (
        a.reshape(len(a0), -1)[rows, best] + r_us,
        b.reshape(len(a0), -1)[rows, best] + r_mx,
        np.isfinite(product[rows, best]),
    )


def expected(model, side: str, tables: np.ndarray) -> np.ndarray:
    """(W,) what ``side`` ("US" or "MX") expects the episode's tables ``tables`` (W, n) to
    give it, in units of its own weights (see the module's docstring)."""
    own, other = (model.us, model.mx) if side == "US" else (model.mx, model.us)
    p, W = model.params, model.worlds
    trust = guarantor.vouched(own.trust, p["guarantor.vouching"])
    out = np.zeros(W)
    for m, wi, _, k in frameworks.groups(tables):
        w_own = own.salience[wi[:, None], k]
        w_other = bargaining.estimate(other.salience[wi[:, None], k], trust[wi])
        if model.lever_index is None:
            lever = np.zeros((len(wi), m), bool)
        else:
            lever = k == model.lever_index
        has_lever = lever.any(axis=1)
        pi, size = model.pressure[wi], p["threat.size"][wi]
        th = pressure.threatened(has_lever, m, pi * (size > 0))
        w_us, w_mx = (w_own, w_other) if side == "US" else (w_other, w_own)
        d_us, d_mx = model.us.disagreement[wi[:, None], k], model.mx.disagreement[wi[:, None], k]
        r_us, r_mx = pressure.reservations(
            w_us, w_mx, d_us, d_mx, np.sum(w_us * lever, 1), np.sum(w_mx * lever, 1), th, pi,
            size, p["threat.self_cost"][wi],
        )  # fmt: skip
        t = trust[wi]
        tab = Tables(w_us, w_mx, d_us, d_mx, t, t, t, t, r_us, r_mx)  # exponents unused
        u_us, u_mx = bargaining.frontier(tab)
        v_us, v_mx, found = nash(u_us, u_mx, r_us, r_mx)
        value = np.where(found, v_us, r_us) if side == "US" else np.where(found, v_mx, r_mx)
        out += np.bincount(wi, value * w_own.sum(axis=1), minlength=W)
    return out


def choose(model, rule: str, margin):
    """(linked, wants_us, wants_mx), each (W,) bool: whether each world's issues go on one
    table this episode under ``rule``, and whether each side expects linkage to pay it at
    least ``margin`` (W,)."""
    n = len(model.issues)
    linked = np.zeros((model.worlds, n), np.int64)
    apart = np.broadcast_to(np.arange(n), (model.worlds, n))
    wants = {
        s: expected(model, s, linked) - expected(model, s, apart) >= margin for s in ("US", "MX")
    }
    match rule:
        case "consent":
            link = wants["US"] & wants["MX"]
        case "us_sets":
            link = wants["US"]
        case "mx_sets":
            link = wants["MX"]
        case _:
            raise ValueError(f"unknown framework.rule {rule!r}")
    return link, wants["US"], wants["MX"]
