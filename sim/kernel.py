"""The bargaining kernel compiled: ``sim.bargaining.negotiate``'s work, one table at a time
(docs/model.md §3).

``sim.bargaining`` states the negotiation in array code over all tables at once
(``bargaining.reference``); this module does the same arithmetic, operation for operation,
in a loop over tables compiled by Numba, so that nothing is allocated per table and every
intermediate stays in the cache. The numbers are bit for bit those of the array code
(``tests/test_bargaining.py`` holds them equal): the same segments and risk factors, the
same stable order of segments, the same sequential cumulative sums, sums in numpy's own
order (``_sum``), and the same bisection.

Per table of m issues (S = 3m segments):

1. each side's segments: its own value per unit, its estimate of the partner's and the
   partner's true value per unit, and their lengths (``bargaining.sides``);
2. the tops of the aspirations (``Outcome.best``): the value a side gets when the other
   concedes, knowing the true values, exactly down to its own reservation;
3. each side's offer path (by its estimate) and the first of its turns whose offer the
   partner accepts, by bisection (``bargaining._first_acceptance``);
4. the positions of the accepted offer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_F1, _F2, _I1 = "float64[::1]", "float64[:, ::1]", "intp[::1]"
_SIGNATURE = (
    f"void({_F2}, {_F2}, {_F2}, {_F2}, {_F1}, {_F1}, {_F1}, {_F1}, "  # w, d, trust, r
    f"{_F2}, {_I1}, {_I1}, {_I1}, {_I1}, "  # t^(1/e), each side's row, each side's turns
    f"{_I1}, {_I1}, {_F1}, {_F1}, {_F2})"  # the outputs
)
OWN, EST, TRUE, LENGTH = range(4)  # rows of a side's segment table


@njit
def _sum(a):
    """``np.sum`` of a row in numpy's own order: pairwise, in blocks of 8 accumulators."""
    n = a.shape[0]
    if n < 8:
        s = -0.0
        for i in range(n):
            s += a[i]
        return s
    if n > 128:  # numpy splits long rows in two at a multiple of 8
        half = n // 2
        half -= half % 8
        return _sum(a[:half]) + _sum(a[half:])
    r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    i = 8
    while i < n - n % 8:
        r0, r1, r2, r3 = r0 + a[i], r1 + a[i + 1], r2 + a[i + 2], r3 + a[i + 3]
        r4, r5, r6, r7 = r4 + a[i + 4], r5 + a[i + 5], r6 + a[i + 6], r7 + a[i + 7]
        i += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        s += a[i]
        i += 1
    return s


@njit(inline="always")
def _sides(w_us, w_mx, d_us, d_mx, trust_us, trust_mx, seg_us, seg_mx, wn_us, wn_mx):
    """``bargaining.sides`` for one table: fills each side's (4, S) segment table, in the
    US's layout (each issue's segments from x = 1 down) and Mexico's (from x = 0 up)."""
    m = w_us.shape[0]
    t_us, t_mx = _sum(w_us), _sum(w_mx)
    for k in range(m):
        wn_us[k] = w_us[k] / (t_us if t_us > 0 else 1.0)
        wn_mx[k] = w_mx[k] / (t_mx if t_mx > 0 else 1.0)
    for k in range(m):
        # the partner's weights as each side estimates them (``bargaining.estimate``)
        e_mx = trust_us * wn_mx[k] + (1.0 - trust_us) / m
        e_us = trust_mx * wn_us[k] + (1.0 - trust_mx) / m
        p1 = min(d_us[k], 1.0 - d_mx[k])
        p2 = max(d_us[k], 1.0 - d_mx[k])
        lo0, lo1, lo2 = 0.0, p1, p2
        for s, lo, length in ((0, lo0, p1 - lo0), (1, lo1, p2 - lo1), (2, lo2, 1.0 - lo2)):
            mid = lo + 0.5 * length
            k_us = trust_us if mid > 1.0 - d_mx[k] else 1.0
            k_mx = trust_mx if mid < d_us[k] else 1.0
            u, x = 3 * k + 2 - s, 3 * k + s
            seg_us[OWN, u], seg_us[EST, u] = wn_us[k] * k_us, e_mx * k_mx
            seg_us[TRUE, u], seg_us[LENGTH, u] = wn_mx[k] * k_mx, length
            seg_mx[OWN, x], seg_mx[EST, x] = wn_mx[k] * k_mx, e_us * k_us
            seg_mx[TRUE, x], seg_mx[LENGTH, x] = wn_us[k] * k_us, length


@njit(inline="always")
def _top(seg, scratch):
    """A side's value at its own ideal: the sum of its segments' values."""
    for j in range(seg.shape[1]):
        scratch[j] = seg[OWN, j] * seg[LENGTH, j]
    return _sum(scratch)


@njit(inline="always")
def _path(seg, est, path, order, key):
    """``bargaining._path`` for one table: the segments in the order the side gives them
    up, by its estimate (``est`` = EST) or the truth (TRUE), into ``path`` (rows cost,
    gain, then the cumulative C and G, which start at 0).

    Segments the partner does not value, or that have no length, come last with no length;
    the others by decreasing ratio of gain to own cost, ties in layout order (the stable
    order numpy's sort gives).
    """
    S = seg.shape[1]
    for j in range(S):
        if seg[LENGTH, j] > 0 and seg[est, j] > 0:
            key[j] = -(seg[est, j] / seg[OWN, j]) if seg[OWN, j] != 0 else -np.inf
        else:
            key[j] = 1.0
    for j in range(S):  # rank by counting: no branch to mispredict, and it vectorises
        kj, rank = key[j], 0
        for i in range(S):
            rank += (key[i] < kj) | ((key[i] == kj) & (i < j))
        order[rank] = j
    path[2, 0] = path[3, 0] = 0.0
    for i in range(S):
        j = order[i]
        length = seg[LENGTH, j] if key[j] != 1.0 else 0.0
        path[0, i] = seg[OWN, j] * length
        path[1, i] = seg[TRUE, j] * length
        path[2, i + 1] = path[2, i] + path[0, i]
        path[3, i + 1] = path[3, i] + path[1, i]


@njit(inline="always")
def _same(a, b):
    for j in range(a.shape[0]):
        if a[j] != b[j]:
            return False
    return True


@njit(inline="always")
def _fraction(spend, cost):
    """``bargaining._fraction`` of one number."""
    if cost > 0:
        return min(max(spend / cost, 0.0), 1.0)
    return 0.0


@njit(inline="always")
def _partner_value(path, budget):
    """``bargaining.Path.partner_value`` at one budget: the partner's true value."""
    S = path.shape[1] - 1
    idx = 0
    for j in range(1, S + 1):
        idx += path[2, j] <= budget
    return path[3, idx] + _fraction(budget - path[2, idx], path[0, idx]) * path[1, idx]


@njit(inline="always")
def _aspiration(reservation, span, power, which, r):
    return reservation + span * (1.0 - power[which, r])


@njit(inline="always")
def _first(path, top, res_p, span_p, w_p, res_r, span_r, w_r, power, turns, rounds):
    """``bargaining._first_acceptance`` for one table."""
    K = turns.shape[0]
    lo, hi = 0, K
    while lo < hi:  # the same steps as the array code's log2(K) masked ones
        mid = (lo + hi) // 2
        r = turns[min(mid, K - 1)]
        value = _partner_value(path, top - _aspiration(res_p, span_p, power, w_p, r))
        if value >= _aspiration(res_r, span_r, power, w_r, r) - 1e-12:
            hi = mid
        else:
            lo = mid + 1
    return turns[min(lo, K - 1)] if lo < K else rounds


@njit(inline="always")
def _positions(seg, path, order, key, budget, us, moved, x):
    """``bargaining.position``: the offer spending ``budget``, issue by issue, into ``x``."""
    S = seg.shape[1]
    for i in range(S):
        j = order[i]
        length = seg[LENGTH, j] if key[j] != 1.0 else 0.0
        cost = path[0, i]
        moved[j] = (_fraction(budget - path[2, i], cost) if cost > 0 else 1.0) * length
    for k in range(S // 3):
        along = ((-0.0 + moved[3 * k]) + moved[3 * k + 1]) + moved[3 * k + 2]
        x[k] = 1.0 - along if us else along


@njit(_SIGNATURE, cache=True, nogil=True)
def negotiate(
    w_us, w_mx, d_us, d_mx, trust_us, trust_mx, r_us, r_mx,
    power, which_us, which_mx, turns_us, turns_mx,
    first_us, first_mx, best_us, best_mx, x,
):  # fmt: skip
    """Every table of the batch. Fills ``first_*`` (the round of each side's first
    accepted offer, ``rounds`` for none), ``best_*`` (the tops of the aspirations) and
    ``x`` (the positions agreed; left as they are where no offer is accepted)."""
    B, m = w_us.shape
    S = 3 * m
    rounds = power.shape[1]
    seg_us, seg_mx = np.empty((4, S)), np.empty((4, S))
    wn_us, wn_mx = np.empty(m), np.empty(m)
    # each side's path (exact, then by its estimate), its order and its sort keys
    p_us, p_mx = np.empty((4, S + 1)), np.empty((4, S + 1))
    for a in (p_us, p_mx):  # the free, worthless segment after the last
        a[0, S] = a[1, S] = 0.0
    o_us, o_mx = np.empty(S, np.intp), np.empty(S, np.intp)
    k_us, k_mx = np.empty(S), np.empty(S)
    moved = np.empty(S)
    for b in range(B):
        _sides(w_us[b], w_mx[b], d_us[b], d_mx[b], trust_us[b], trust_mx[b],
               seg_us, seg_mx, wn_us, wn_mx)  # fmt: skip
        top_us, top_mx = _top(seg_us, moved), _top(seg_mx, moved)
        # the tops: Mexico conceding exactly to its reservation, and the US to its own
        _path(seg_mx, TRUE, p_mx, o_mx, k_mx)
        best_us[b] = bu = _partner_value(p_mx, max(top_mx - r_mx[b], 0.0))
        _path(seg_us, TRUE, p_us, o_us, k_us)
        best_mx[b] = bm = _partner_value(p_us, max(top_us - r_us[b], 0.0))
        span_us, span_mx = max(bu, r_us[b]) - r_us[b], max(bm, r_mx[b]) - r_mx[b]
        wu, wm = which_us[b], which_mx[b]
        # each side's offer path: by its estimate, unless that is the truth (one issue,
        # full trust), when the path is already made
        if not _same(seg_us[EST], seg_us[TRUE]):
            _path(seg_us, EST, p_us, o_us, k_us)
        fu = _first(p_us, top_us, r_us[b], span_us, wu, r_mx[b], span_mx, wm, power,
                    turns_us, rounds)  # fmt: skip
        if not _same(seg_mx[EST], seg_mx[TRUE]):
            _path(seg_mx, EST, p_mx, o_mx, k_mx)
        fm = _first(p_mx, top_mx, r_mx[b], span_mx, wm, r_us[b], span_us, wu, power,
                    turns_mx, rounds)  # fmt: skip
        first_us[b], first_mx[b] = fu, fm
        if min(fu, fm) >= rounds:
            continue
        at = min(min(fu, fm), rounds - 1)
        if fu <= fm:  # the US's offer is accepted: its path, its aspiration
            budget = top_us - _aspiration(r_us[b], span_us, power, wu, at)
            _positions(seg_us, p_us, o_us, k_us, budget, True, moved, x[b])
        else:
            budget = top_mx - _aspiration(r_mx[b], span_mx, power, wm, at)
            _positions(seg_mx, p_mx, o_mx, k_mx, budget, False, moved, x[b])
