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

from dataclasses import dataclass

import numpy as np

from sim import bargaining, frameworks, guarantor, pressure
from sim.bargaining import Tables


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
        kappa = pressure.credibility(pi, p["threat.audience_cost"][wi])
        r_us, r_mx = pressure.reservations(
            w_us, w_mx, d_us, d_mx, np.sum(w_us * lever, 1), np.sum(w_mx * lever, 1), th, kappa,
            size, p["threat.self_cost"][wi],
        )  # fmt: skip
        t = trust[wi]
        tab = Tables(w_us, w_mx, d_us, d_mx, t, t, t, t, r_us, r_mx)  # exponents unused
        u_us, u_mx = bargaining.frontier(tab)
        v_us, v_mx, found = nash(u_us, u_mx, r_us, r_mx)
        value = np.where(found, v_us, r_us) if side == "US" else np.where(found, v_mx, r_mx)
        out += np.bincount(wi, value * w_own.sum(axis=1), minlength=W)
    return out


@dataclass
class Choice:
    """A rule's verdict for every world: its tables (W, n) this episode, whether each side
    wants one table (or, under ``coercive``, the bundle), and where Mexico refused a
    bundle put under threat (the threat is then carried out as on a failed table)."""

    tables: np.ndarray
    wants_us: np.ndarray
    wants_mx: np.ndarray
    refused: np.ndarray


def choose(model, rule: str, margin, say: dict[str, np.ndarray] | None = None) -> Choice:
    """The tables of every world this episode under ``rule``; a side wants the bundle (all
    issues, or under ``coercive`` the bundle) when it expects it to pay at least ``margin``
    (W,) more than separate tables. ``say`` holds a side's own answer (W,) bool in place of
    that (a student playing it, ``sim.play``)."""
    say = say or {}
    W, n = model.worlds, len(model.issues)
    apart = np.broadcast_to(np.arange(n), (W, n))
    if rule == "coercive":
        return _coercive(model, apart, margin, say)
    one = np.zeros((W, n), np.int64)
    wants = {s: say[s] if s in say else advice(model, rule, s) >= margin for s in ("US", "MX")}
    match rule:
        case "consent":
            link = wants["US"] & wants["MX"]
        case "us_sets":
            link = wants["US"]
        case "mx_sets":
            link = wants["MX"]
        case _:
            raise ValueError(f"unknown framework.rule {rule!r}")
    tables = np.where(link[:, None], one, apart)
    return Choice(tables, wants["US"], wants["MX"], np.zeros(W, bool))


def premium(model, side: str, together: np.ndarray, apart: np.ndarray) -> np.ndarray:
    """What ``side`` expects ``together`` to give it over ``apart`` (W,)."""
    return expected(model, side, together) - expected(model, side, apart)


def bundle(model) -> np.ndarray:
    """(W, n) tables with the coercive bundle on one table, every other issue on its own:
    ``framework.bundle``, or the lever and the issue the US weighs most now."""
    W, n = model.worlds, len(model.issues)
    lever = model.lever_index
    if model.cfg.framework.bundle:
        inside = np.isin(np.arange(n), [model.issues.index(k) for k in model.cfg.framework.bundle])
        inside = np.broadcast_to(inside, (W, n))
    else:
        w = model.us.salience.copy()
        w[:, lever] = -np.inf
        inside = np.zeros((W, n), bool)
        inside[:, lever] = True
        inside[np.arange(W), np.argmax(w, axis=1)] = True
    first = np.argmax(inside, axis=1)  # the bundle's table: its first issue's index
    return np.where(inside, first[:, None], np.arange(n)[None, :])


def advice(model, rule: str, side: str) -> np.ndarray:
    """(W,) what ``side`` expects from saying yes to what ``choose`` asks it, over saying no:
    one table over separate tables; under ``coercive``, for the US offering the bundle, for
    Mexico accepting it rather than refusing and facing the threat. Its rule says yes at
    ``framework.margin`` or more."""
    W, n = model.worlds, len(model.issues)
    apart = np.broadcast_to(np.arange(n), (W, n))
    if rule != "coercive":
        return premium(model, side, np.zeros((W, n), np.int64), apart)
    gain = premium(model, side, bundle(model), apart)
    return gain if side == "US" else gain + _penalty(model)


def _penalty(model) -> np.ndarray:
    """What Mexico expects a refused bundle to cost it: the threat's credibility x
    threat.size x its lever weight."""
    lever = model.mx.salience[:, model.lever_index]
    kappa = pressure.credibility(model.pressure, model.params["threat.audience_cost"])
    return kappa * model.params["threat.size"] * lever


def _coercive(model, apart, margin, say) -> Choice:
    """The US offers the bundle under threat when it expects it to pay; Mexico accepts when
    the bundle is worth more to it than separate tables less the penalty it expects for a
    refusal. ``say``: a side's own answer in place of that."""
    tables = bundle(model)
    offer = say["US"] if "US" in say else premium(model, "US", tables, apart) >= margin
    gain_mx = premium(model, "MX", tables, apart)
    accept = say["MX"] if "MX" in say else gain_mx + _penalty(model) >= margin
    unasked = say["MX"] if "MX" in say else gain_mx >= margin  # would it want the bundle
    return Choice(
        np.where((offer & accept)[:, None], tables, apart),
        offer,
        np.where(offer, accept, unasked),
        offer & ~accept,
    )
