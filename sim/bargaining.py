"""Bargaining on one table: alternating offers with time-dependent concession (docs/model.md §3).

A batch holds B independent negotiations ("tables"), each over the same number m of
issues; arrays have shape (B, m) or (B,). Everything is vectorised over tables and
rounds: the offers of a round depend only on the proposer's aspiration at that time,
not on the history, so all rounds are evaluated at once and the agreement is the first
round whose offer the responder accepts.

- Concession: the time-dependent tactics of Faratin, Sierra & Jennings (1998),
  ``a(t) = R + (B - R)(1 - t^(1/e))``, e < 1 Boulware, e = 1 linear, e > 1 conceder.
- Offers: the proposer maximises its estimate of the partner's value subject to its own
  value >= a(t). Values are separable, concave and piecewise linear, so this LP is a
  fractional knapsack: concede segments in decreasing order of (partner gain / own
  cost), the logrolling arithmetic of Sebenius (1983).
- Acceptance: AC_next (Baarslag et al. 2014): accept when the offer is worth at least
  one's own current aspiration.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.issues import segment_factors


@dataclass
class Tables:
    """B negotiations over m issues each. Weights are raw salience (normalised here)."""

    w_us: np.ndarray  # (B, m)
    w_mx: np.ndarray
    d_us: np.ndarray  # disagreement value per issue, (B, m)
    d_mx: np.ndarray
    trust_us: np.ndarray  # (B,)
    trust_mx: np.ndarray
    e_us: np.ndarray  # concession exponents, (B,)
    e_mx: np.ndarray
    r_us: np.ndarray  # reservation (expected no-deal value), normalised on the table, (B,)
    r_mx: np.ndarray


@dataclass
class Outcome:
    agreed: np.ndarray  # (B,) bool
    x: np.ndarray  # (B, m) agreed positions, NaN where no agreement
    round: np.ndarray  # (B,) index of the agreeing round, ``rounds`` when none
    # (US, MX) value of each round's offer, (len(recorded), rounds, 2): only for the tables
    # ``negotiate`` was asked to record, in that order; None when none were
    offers: np.ndarray | None = None
    best: np.ndarray | None = None  # (B, 2): top of each side's aspiration


class Aspiration:
    """Faratin et al. (1998) time-dependent aspiration ``R + (B - R)(1 - t^(1/e))`` of B
    tables on a grid of times ``t``; ``t^(1/e)`` is tabulated once per distinct exponent
    (a batch has few), and looked up only where the bisection asks."""

    def __init__(self, t, reservation, best, e):
        self.reservation = reservation
        self.span = np.maximum(best, reservation) - reservation
        self.power, self.which = powers(t, e)

    def at(self, r):
        """The aspiration of each table at its own round index ``r`` (B,)."""
        return self.reservation + self.span * (1.0 - self.power[self.which, r])

    def all(self):
        """The aspiration of every table at every time, (B, T)."""
        return self.reservation[:, None] + self.span[:, None] * (1.0 - self.power[self.which])


def powers(t, e):
    """``t^(1/e)`` for each distinct exponent (distinct, T), and each table's row (B,).

    Both operands are whole arrays: numpy's power has faster paths for a broadcast exponent
    such as 2 or 0.5 that round differently, and whether it takes them depends on how many
    distinct exponents the batch holds, so a table's numbers would depend on its batch.
    """
    u, which = np.unique(1.0 / e, return_inverse=True)
    T = len(t)
    return np.power(np.tile(t, (len(u), 1)), np.repeat(u[:, None], T, axis=1)), which


def aspiration(t, reservation, best, e):
    """Faratin et al. (1998) time-dependent aspiration, broadcast as (B, 1) x (T,)."""
    return Aspiration(t, reservation, best, e).all()


@dataclass
class Path:
    """One proposer's concession path: its segments in the order it gives them up."""

    cost: np.ndarray  # (B, S) own value given up per segment, sorted
    length: np.ndarray  # (B, S) position distance per segment, sorted
    order: np.ndarray  # (B, S) sorted -> original segment index
    C: np.ndarray  # (B, S+1) cumulative own cost, from 0
    G: np.ndarray  # (B, S+1) cumulative true gain to the partner, from 0
    gain: np.ndarray  # (B, S) true gain to the partner per segment, sorted
    top: np.ndarray  # (B,) own value at own ideal
    # (B, S+1) cost and gain with a free, worthless segment after the last: what an offer
    # that pays for every segment buys next (looked up at every step of the bisection)
    cost_next: np.ndarray
    gain_next: np.ndarray

    def partner_value(self, budget):
        """The partner's true value of the offer that spends ``budget`` (B, T)."""
        B, S = self.cost.shape
        idx = np.zeros(budget.shape, np.int16)  # segments fully paid for
        for j in range(1, S + 1):  # C rises along a row, so counting beats a search
            idx += self.C[:, j, None] <= budget
        flat = idx + (np.arange(B) * (S + 1))[:, None]
        cost, gain = self.cost_next.ravel()[flat], self.gain_next.ravel()[flat]
        return self.G.ravel()[flat] + _fraction(budget - self.C.ravel()[flat], cost) * gain

    def moved(self, budget):
        """Distance moved on each original segment by the offer spending ``budget`` (B,)."""
        left = budget[:, None] - self.C[:, :-1]
        used = np.where(self.cost > 0, _fraction(left, self.cost), 1.0) * self.length
        out = np.empty_like(used)
        np.put_along_axis(out, self.order, used, axis=1)
        return out


def _fraction(spend, cost):
    """Share of a segment that ``spend`` buys, in [0, 1]; 0 for a free segment."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return np.where(cost > 0, np.clip(spend / cost, 0.0, 1.0), 0.0)


def _path(own, gain_est, gain_true, length):
    """Sort segments by estimated gain ratio; segments the partner does not value are kept."""
    top = np.sum(own * length, axis=1)
    usable = (length > 0) & (gain_est > 0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        ratio = np.where(usable, gain_est / own, -1.0)
    order = np.argsort(-ratio, axis=1, kind="stable")
    B, S = order.shape
    flat = (order + (np.arange(B) * S)[:, None]).ravel()

    def sort(a):
        return a.ravel()[flat].reshape(B, S)

    length = sort(np.where(usable, length, 0.0))
    cost = sort(own) * length
    gain = sort(gain_true) * length
    zero = np.zeros((B, 1))
    return Path(
        cost_next=np.hstack([cost, zero]),
        gain_next=np.hstack([gain, zero]),
        cost=cost,
        length=length,
        order=order,
        C=np.concatenate([zero, np.cumsum(cost, axis=1)], axis=1),
        G=np.concatenate([zero, np.cumsum(gain, axis=1)], axis=1),
        gain=gain,
        top=top,
    )


def _normalise(w):
    total = w.sum(axis=1, keepdims=True)
    return w / np.where(total > 0, total, 1.0)


def estimate(w_partner, iota):
    """The proposer's estimate of the partner's weights: ``iota w + (1 - iota) uniform``."""
    m = w_partner.shape[1]
    return iota[:, None] * _normalise(w_partner) + (1.0 - iota[:, None]) / m


def sides(tab: Tables) -> dict[str, tuple]:
    """Each proposer's segments: its own cost per unit, its estimate of the partner's gain
    per unit, the partner's true gain per unit, and the lengths, each (B, 3m).

    The US concedes from x = 1 downward, Mexico from x = 0 upward; segments are laid out
    in that physical order so that ties keep it (the stable sort).
    """
    _, length, k_us, k_mx = segment_factors(tab.d_us, tab.d_mx, tab.trust_us, tab.trust_mx)
    # per-unit slopes in utility normalised on the table
    f_us = _normalise(tab.w_us)[..., None] * k_us
    f_mx = _normalise(tab.w_mx)[..., None] * k_mx
    est_mx = estimate(tab.w_mx, tab.trust_us)[..., None] * k_mx
    est_us = estimate(tab.w_us, tab.trust_mx)[..., None] * k_us
    B = length.shape[0]

    def flat(a, reverse):
        return (a[..., ::-1] if reverse else a).reshape(B, -1)

    return {
        "us": (flat(f_us, True), flat(est_mx, True), flat(f_mx, True), flat(length, True)),
        "mx": (flat(f_mx, False), flat(est_us, False), flat(f_us, False), flat(length, False)),
    }


def paths(tab: Tables):
    """Concession paths of both sides: estimated (for offers) and exact (for the best value)."""
    s = sides(tab)
    (own_us, est_mx, true_mx, len_us), (own_mx, est_us, true_us, len_mx) = s["us"], s["mx"]
    return {
        "us": _path(own_us, est_mx, true_mx, len_us),
        "us_exact": _path(own_us, true_mx, true_mx, len_us),
        "mx": _path(own_mx, est_us, true_us, len_mx),
        "mx_exact": _path(own_mx, true_us, true_us, len_mx),
    }


def position(path: Path, side: str, budget) -> np.ndarray:
    """Issue positions (B, m) of the offer that spends ``budget`` along ``path``."""
    moved = path.moved(budget)
    moved = moved.reshape(moved.shape[0], -1, 3).sum(axis=2)
    return 1.0 - moved if side == "us" else moved


def offer(tab: Tables, proposer: str, aspiration) -> np.ndarray:
    """The package ``proposer`` ("us" or "mx") offers at ``aspiration`` (B,): the LP
    optimum of its estimate of the partner's value subject to its own value >= aspiration."""
    path = paths(tab)[proposer]
    return position(path, proposer, np.maximum(path.top - aspiration, 0.0))


def values(tab: Tables, x) -> np.ndarray:
    """Each side's risk-adjusted value of the packages ``x`` (B, m), normalised on the table,
    as it judges offers (docs/model.md §3.1), (B, 2) for (US, MX): the US gains as x rises
    through each segment, Mexico as it falls."""
    lo, length, k_us, k_mx = segment_factors(tab.d_us, tab.d_mx, tab.trust_us, tab.trust_mx)
    x = np.asarray(x, float)[..., None]
    up = np.clip(x - lo, 0.0, length)  # how much of each segment lies below x
    v_us = np.sum(_normalise(tab.w_us) * np.sum(k_us * up, axis=-1), axis=1)
    v_mx = np.sum(_normalise(tab.w_mx) * np.sum(k_mx * (length - up), axis=-1), axis=1)
    return np.stack([v_us, v_mx], axis=1)


TOL = 1e-12  # acceptance tolerance: ties in exact arithmetic must not hinge on rounding


def _first_acceptance(
    path: Path, a_prop: Aspiration, a_resp: Aspiration, turns, rounds: int
) -> np.ndarray:
    """The round of the first offer in ``turns`` the responder accepts (``rounds``: none).

    The proposer's offers only improve for the responder as time passes, and the
    responder's aspiration only falls, so acceptance is monotone in time: a bisection over
    the proposer's turns finds the first acceptance in log2(rounds) vectorised steps.
    """
    B, K = len(path.top), len(turns)
    if K == 0:
        return np.full(B, rounds)
    lo, hi = np.zeros(B, np.intp), np.full(B, K)
    for _ in range(K.bit_length()):
        active = lo < hi
        mid = (lo + hi) // 2
        r = turns[np.minimum(mid, K - 1)]
        value = path.partner_value((path.top - a_prop.at(r))[:, None])[:, 0]
        ok = value >= a_resp.at(r) - TOL
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)
    return np.where(lo < K, turns[np.minimum(lo, K - 1)], rounds)


def negotiate(
    tab: Tables,
    rounds: int,
    first_mover: str = "US",
    record: bool | np.ndarray = False,
    power: tuple[np.ndarray, np.ndarray] | None = None,
) -> Outcome:
    """Run alternating offers on every table of the batch; see the module docstring.

    The work is done table by table in ``sim.kernel`` (compiled); ``reference`` is the
    same negotiation in array code, the statement the kernel is checked against.

    ``record``: the tables whose every offer to keep in ``Outcome.offers`` (True: all, or
    an array of table indices). Offers cost as much as the rest, so only ask for the few
    tables to be drawn; recording changes no other number.

    ``power``: what :func:`powers` gives for the times of ``rounds`` and the exponents
    ``e_us`` then ``e_mx``, when the caller keeps it (a model's exponents are fixed for its
    run, and with many distinct ones the table costs more than the negotiation).
    """
    from sim import kernel  # Numba: only where tables are negotiated, not where they are drawn

    B, m = tab.w_us.shape
    t, r_us, r_mx = turns(rounds, first_mover)
    power, which = power or powers(t, np.concatenate([tab.e_us, tab.e_mx]))
    first_us, first_mx = np.empty(B, np.intp), np.empty(B, np.intp)
    best_us, best_mx = np.empty(B), np.empty(B)
    x = np.full((B, m), np.nan)
    kernel.negotiate(
        *(np.ascontiguousarray(a, float) for a in (tab.w_us, tab.w_mx, tab.d_us, tab.d_mx)),
        *(np.ascontiguousarray(a, float) for a in (tab.trust_us, tab.trust_mx, tab.r_us, tab.r_mx)),
        power, which[:B], which[B:], r_us, r_mx,
        first_us, first_mx, best_us, best_mx, x,
    )  # fmt: skip
    agree_round = np.minimum(first_us, first_mx)
    agreed = agree_round < rounds

    rows = _recorded(record, B)
    offers = None
    if len(rows):  # in array code, for those tables only: a table's numbers are its own
        kept = Tables(*(getattr(tab, f.name)[rows] for f in fields(tab)))
        a_us = Aspiration(t, kept.r_us, best_us[rows], kept.e_us)
        a_mx = Aspiration(t, kept.r_mx, best_mx[rows], kept.e_mx)
        offers = _offers(paths(kept), a_us, a_mx, r_us, r_mx)
    return Outcome(agreed, x, agree_round, offers, np.stack([best_us, best_mx], axis=1))


def reference(tab: Tables, rounds: int, first_mover: str = "US") -> Outcome:
    """``negotiate`` in array code over all tables at once, without the record: the
    statement of the kernel (``tests/test_bargaining.py`` holds them equal bit for bit)."""
    p = paths(tab)
    # The top of c's aspiration: the best value c can get in a package the partner could
    # accept, i.e. the partner conceding exactly down to its own reservation.
    mx_ex, us_ex = p["mx_exact"], p["us_exact"]
    best_us = mx_ex.partner_value(np.maximum(mx_ex.top - tab.r_mx, 0)[:, None])[:, 0]
    best_mx = us_ex.partner_value(np.maximum(us_ex.top - tab.r_us, 0)[:, None])[:, 0]

    t, r_us, r_mx = turns(rounds, first_mover)
    a_us = Aspiration(t, tab.r_us, best_us, tab.e_us)
    a_mx = Aspiration(t, tab.r_mx, best_mx, tab.e_mx)
    first_us = _first_acceptance(p["us"], a_us, a_mx, r_us, rounds)  # Mexico accepts
    first_mx = _first_acceptance(p["mx"], a_mx, a_us, r_mx, rounds)  # the US accepts
    agree_round = np.minimum(first_us, first_mx)
    agreed = agree_round < rounds
    by_us = first_us <= first_mx

    # positions of the accepted offer
    B, m = tab.w_us.shape
    x = np.full((B, m), np.nan)
    at = np.minimum(agree_round, rounds - 1)
    for side, a, mask in (("us", a_us, agreed & by_us), ("mx", a_mx, agreed & ~by_us)):
        if mask.any():
            x[mask] = position(p[side], side, p[side].top - a.at(at))[mask]
    return Outcome(agreed, x, agree_round, None, np.stack([best_us, best_mx], axis=1))


def times(rounds: int) -> np.ndarray:
    """The times of the rounds in [0, 1]."""
    return np.arange(rounds) / max(rounds - 1, 1)


def turns(rounds: int, first_mover: str):
    """The times of the rounds in [0, 1], and the rounds in which each side offers."""
    r, t = np.arange(rounds), times(rounds)
    return (
        (t, r[0::2].copy(), r[1::2].copy())
        if first_mover == "US"
        else (t, r[1::2].copy(), r[0::2].copy())
    )


def _recorded(record, B: int) -> np.ndarray:
    """Indices of the tables whose offers to keep: all (True), none (False) or those given."""
    if isinstance(record, bool):
        return np.arange(B if record else 0)
    return np.asarray(record, np.intp)


def _offers(p, a_us: Aspiration, a_mx: Aspiration, r_us, r_mx) -> np.ndarray:
    """Every round's offer of every table of ``p``, valued by both sides, (tables, rounds,
    2), for the negotiation dance."""
    rounds = a_us.power.shape[1]
    offers = np.full((len(p["us"].top), rounds, 2), np.nan)
    for side, a, turns, own, other in (("us", a_us, r_us, 0, 1), ("mx", a_mx, r_mx, 1, 0)):
        path = p[side]
        budget = path.top[:, None] - a.all()[:, turns]
        offers[:, turns, own] = path.top[:, None] - np.minimum(budget, path.C[:, -1:])
        offers[:, turns, other] = path.partner_value(budget)
    return offers


def frontier(tab: Tables) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (U_US, U_MX) of each table's Pareto frontier as the sides value it now.

    Risk-adjusted values are concave, so the US conceding greedily with exact knowledge of
    Mexico's values traces the frontier; at full trust it is the face-value frontier.
    Returns two (B, S+1) arrays, from the US ideal toward the Mexican one.
    """
    p = paths(tab)["us_exact"]
    return p.top[:, None] - p.C, p.G
