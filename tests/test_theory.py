"""Analytic and theory tests of the bargaining engine (docs/model.md §1-§5).

Every expected number here is worked out by hand in the test or by an independent
solver (``scipy.optimize.linprog`` / ``minimize``) formulated directly in x-space; no
expectation is obtained by calling the function under test a second time.

Conventions: ``x_k`` in [0, 1], 1 = US ideal, 0 = Mexican ideal; ``v_US = x``,
``v_MX = 1 - x``; utilities are weighted sums of these values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

from sim import trust
from sim.bargaining import Tables, aspiration, negotiate, offer
from sim.issues import max_joint_utility, nash_point, pareto_frontier

ROUNDS = 50
HYP = settings(max_examples=60, deadline=None)


# --------------------------------------------------------------------------- helpers


def tables(w_us, w_mx, d_us, d_mx, trust_us=1.0, trust_mx=1.0, e_us=1.0, e_mx=1.0):
    """A batch of B tables from (B, m) arrays (a 1-D list is one table).

    Reservations are the no-threat ones, ``r_c = sum(w_c d_c) / sum(w_c)``.
    """
    w_us, w_mx, d_us, d_mx = (np.atleast_2d(np.asarray(a, float)) for a in (w_us, w_mx, d_us, d_mx))
    B = w_us.shape[0]

    def col(v):
        return np.broadcast_to(np.asarray(v, float), (B,)).copy()

    r_us = (w_us * d_us).sum(1) / w_us.sum(1)
    r_mx = (w_mx * d_mx).sum(1) / w_mx.sum(1)
    return Tables(
        w_us, w_mx, d_us, d_mx, col(trust_us), col(trust_mx), col(e_us), col(e_mx), r_us, r_mx
    )


def delinked(w_us, w_mx, d_us, d_mx, **kw):
    """One one-issue table per issue (a batch of m tables with m = 1)."""
    col = [np.asarray(a, float).reshape(-1, 1) for a in (w_us, w_mx, d_us, d_mx)]
    return tables(*col, **kw)


def face_us(x, w):
    return float(np.dot(w, x))


def face_mx(x, w):
    return float(np.dot(w, 1.0 - np.asarray(x)))


def lp_max_mx_given_us(w_us, w_mx, u_min):
    """Independent LP: max U_MX(x) = sum w_mx (1 - x) s.t. U_US(x) = sum w_us x >= u_min."""
    n = len(w_us)
    res = linprog(
        c=np.asarray(w_mx, float),  # minimise sum w_mx x  <=>  maximise sum w_mx (1 - x)
        A_ub=-np.asarray(w_us, float)[None, :],
        b_ub=[-u_min],
        bounds=[(0.0, 1.0)] * n,
        method="highs",
    )
    assert res.status == 0, res.message
    return float(np.sum(w_mx) - res.fun)


def salience(min_value=0.0):
    """Hypothesis: one raw salience weight, exactly 0 or in [max(min_value, 1e-3), 1]
    (no subnormal weights: a weight of 1e-309 is a rounding artefact, not a salience)."""
    positive = st.floats(max(min_value, 1e-3), 1.0)
    return positive if min_value > 0 else st.one_of(st.just(0.0), positive)


def weight_vector(n, min_value=0.0):
    """Hypothesis: n non-negative weights with a positive sum, normalised to sum 1."""
    return (
        st.lists(salience(min_value), min_size=n, max_size=n)
        .filter(lambda v: sum(v) > 1e-3)
        .map(lambda v: np.asarray(v) / np.sum(v))
    )


# ------------------------------------------------------------ 1. logrolling (Sebenius)


def test_logrolling_linked_gains_delinked_splits():
    """Sebenius (1983), "Negotiation arithmetic": with opposite salience, putting both
    issues on one table lets each side win the issue it cares about more (x = (0, 1)),
    so joint face-value utility reaches the frontier maximum
    max(0.3, 0.8) + max(0.7, 0.2) = 1.5; issue-by-issue talks are zero-sum splits and
    the joint utility stays at 1.0 (by symmetry of the two linear curves each issue
    is split at the same x, and U_US + U_MX = 1.0 + 0.5 (x2 - x1) = 1.0)."""
    w_us, w_mx, d0 = [0.3, 0.7], [0.8, 0.2], [0.0, 0.0]

    linked = negotiate(tables(w_us, w_mx, d0, d0), ROUNDS)
    assert linked.agreed[0]
    x = linked.x[0]
    assert np.allclose(x, [0.0, 1.0], atol=0.06), x
    joint_linked = face_us(x, w_us) + face_mx(x, w_mx)
    assert joint_linked == pytest.approx(1.5, abs=0.05)

    split = negotiate(delinked(w_us, w_mx, d0, d0), ROUNDS)
    assert split.agreed.all()
    xd = split.x[:, 0]
    joint_delinked = face_us(xd, w_us) + face_mx(xd, w_mx)
    assert joint_delinked == pytest.approx(1.0, abs=0.03)
    assert joint_linked > joint_delinked + 0.4


@pytest.mark.parametrize("w", [[0.5, 0.5], [0.3, 0.7]])
def test_equal_salience_linkage_adds_nothing(w):
    """Sebenius (1983): logrolling needs differing salience ratios. With identical
    weights U_US + U_MX = sum w (x + 1 - x) = 1 for every package, so the linked and
    delinked joint utilities coincide (both 1.0)."""
    d0 = [0.0, 0.0]
    linked = negotiate(tables(w, w, d0, d0), ROUNDS)
    split = negotiate(delinked(w, w, d0, d0), ROUNDS)
    assert linked.agreed.all() and split.agreed.all()
    j_linked = face_us(linked.x[0], w) + face_mx(linked.x[0], w)
    j_split = face_us(split.x[:, 0], w) + face_mx(split.x[:, 0], w)
    assert j_linked == pytest.approx(1.0, abs=1e-9)
    assert j_linked == pytest.approx(j_split, abs=0.03)


# ------------------------------------------------- 2. a package zone from empty issue zones


def test_package_zone_exists_when_no_issue_zone_does():
    """docs/model.md §1 / Sebenius (1983): issue k alone has the zone [d_US,k, 1 - d_MX,k];
    with d = 0.6 for both sides on both issues it is [0.6, 0.4] = empty, so both
    one-issue tables fail. Linked, with US weights (0.2, 0.8) and Mexican (0.8, 0.2):

        D_US = 0.2*0.6 + 0.8*0.6 = 0.6,   D_MX = 0.8*0.6 + 0.2*0.6 = 0.6
        x = (0, 1):  U_US = 0.8 > 0.6,    U_MX = 0.8 > 0.6

    so the package has a zone and the linked table agrees (full trust, so the costly
    commitments are valued at face value).

    Forcing in a third issue kills it. Issue 3: raw weights US 1.0, MX 0.5; d_US,3 = 1
    (the US gets its ideal without a deal) and d_MX,3 = 0.8. Raw totals: US 2.0, MX 1.5.

        D_US = 0.12 + 0.48 + 1.0 = 1.6  -> the US can give up at most 2.0 - 1.6 = 0.4
        D_MX = 0.48 + 0.12 + 0.4 = 1.0  -> Mexico needs 1.0 (it has 0 at x = (1, 1, 1))

    The most Mexico can get for a US cost of 0.4 (fractional knapsack by w_MX / w_US):
    issue 1 (ratio 4) fully: cost 0.2, gain 0.8; issue 3 (ratio 0.5) with the remaining
    0.2: gain 0.1; total 0.9 < 1.0. Issue 3 costs Mexico 0.4 of no-deal value, more than
    the 0.2 surplus it can win on issues 1-2, so the package zone is empty and the
    linked table must fail.
    """
    w_us, w_mx = [0.2, 0.8], [0.8, 0.2]
    d = [0.6, 0.6]
    # independent check of the zone arithmetic (face value = full trust)
    assert lp_max_mx_given_us(w_us, w_mx, 0.6) == pytest.approx(0.85, abs=1e-9)  # > D_MX = 0.6

    split = negotiate(delinked(w_us, w_mx, d, d), ROUNDS)
    assert not split.agreed.any()
    assert np.isnan(split.x).all() and (split.round == ROUNDS).all()

    linked = negotiate(tables(w_us, w_mx, d, d), ROUNDS)
    assert linked.agreed[0]
    x = linked.x[0]
    assert face_us(x, w_us) >= 0.6 - 1e-9 and face_mx(x, w_mx) >= 0.6 - 1e-9

    w_us3, w_mx3 = [0.2, 0.8, 1.0], [0.8, 0.2, 0.5]
    d_us3, d_mx3 = [0.6, 0.6, 1.0], [0.6, 0.6, 0.8]
    assert lp_max_mx_given_us(w_us3, w_mx3, 1.6) == pytest.approx(0.9, abs=1e-9)  # < D_MX = 1.0
    forced = negotiate(tables(w_us3, w_mx3, d_us3, d_mx3), ROUNDS)
    assert not forced.agreed[0]
    assert forced.round[0] == ROUNDS and np.isnan(forced.x[0]).all()


# ------------------------------------------- 3. frontier, max joint gain, Nash vs scipy


@st.composite
def weight_pairs(draw, min_value=0.0):
    n = draw(st.integers(1, 6))
    return draw(weight_vector(n, min_value)), draw(weight_vector(n, min_value))


@HYP
@given(weight_pairs())
def test_max_joint_utility_matches_linprog(w):
    """The utilitarian maximum of linear additive utilities (Raiffa 1982; Sebenius 1983):
    max over x in [0,1]^n of U_US + U_MX, solved by linprog in x-space."""
    w_us, w_mx = w
    n = len(w_us)
    res = linprog(c=-(w_us - w_mx), bounds=[(0, 1)] * n, method="highs")
    assert res.status == 0
    lp_best = -res.fun + w_mx.sum()
    assert float(max_joint_utility(w_us, w_mx)) == pytest.approx(lp_best, abs=1e-9)


def lp_max_us_given_mx(w_us, w_mx, u_min):
    """Independent LP, the mirror image: max U_US s.t. U_MX >= u_min."""
    return lp_max_mx_given_us(w_mx, w_us, u_min)  # swap roles: x -> 1 - x


def check_frontier_shape(w_us, w_mx):
    u_us, u_mx, order = pareto_frontier(w_us, w_mx)
    n = len(w_us)
    assert len(u_us) == len(u_mx) == n + 1
    assert sorted(order.tolist()) == list(range(n))
    # from the US ideal (sum w_US, 0) to the Mexican ideal (0, sum w_MX)
    assert u_us[0] == pytest.approx(1.0) and u_mx[0] == pytest.approx(0.0, abs=1e-12)
    assert u_us[-1] == pytest.approx(0.0, abs=1e-9) and u_mx[-1] == pytest.approx(1.0)
    return u_us, u_mx


@HYP
@given(weight_pairs(min_value=1e-3))
def test_frontier_vertices_are_pareto_optimal(w):
    """Every vertex of the face-value frontier is Pareto-optimal (Raiffa 1982; Sebenius
    1983): the largest U_MX subject to U_US >= the vertex's U_US (linprog in x-space) is
    the vertex's U_MX, and symmetrically. Strictly positive weights here."""
    w_us, w_mx = w
    u_us, u_mx = check_frontier_shape(w_us, w_mx)
    for a, b in zip(u_us, u_mx, strict=True):
        assert lp_max_mx_given_us(w_us, w_mx, a - 1e-12) == pytest.approx(b, abs=1e-8)
        assert lp_max_us_given_mx(w_us, w_mx, b - 1e-12) == pytest.approx(a, abs=1e-8)


@HYP
@given(weight_pairs())
def test_frontier_vertices_weakly_pareto_optimal_with_zero_weights(w):
    """With zero weights allowed, an issue one side ignores can be given to the other for
    free, so the end vertices (the two ideals) may be only weakly Pareto-optimal: no
    package is strictly better for both. Each vertex must still be maximal in one
    coordinate given the other (linprog), and every vertex is feasible."""
    w_us, w_mx = w
    u_us, u_mx = check_frontier_shape(w_us, w_mx)
    for a, b in zip(u_us, u_mx, strict=True):
        best_mx = lp_max_mx_given_us(w_us, w_mx, a - 1e-12)
        best_us = lp_max_us_given_mx(w_us, w_mx, b - 1e-12)
        assert best_mx >= b - 1e-9 and best_us >= a - 1e-9  # feasible
        assert abs(best_mx - b) <= 1e-8 or abs(best_us - a) <= 1e-8  # weakly optimal


@st.composite
def nash_instances(draw):
    w_us, w_mx = draw(weight_pairs())
    n = len(w_us)
    x0 = np.asarray(draw(st.lists(st.floats(0.05, 0.95), min_size=n, max_size=n)))
    s = draw(st.floats(0.0, 0.9))
    # a disagreement point strictly inside the feasible set, dominated by the package x0
    return w_us, w_mx, s * face_us(x0, w_us), s * face_mx(x0, w_mx), x0


@HYP
@given(nash_instances())
def test_nash_point_matches_scipy(inst):
    """Nash (1950): the bargaining solution maximises (U_US - D_US)(U_MX - D_MX) over the
    feasible set. In x-space log(U_US - D_US) + log(U_MX - D_MX) is concave (logs of
    affine functions), so SLSQP from a feasible interior point finds the global maximum.
    The engine's point must be feasible (on or under the frontier, by linprog) and its
    product equal scipy's maximum within 1e-6 relative."""
    w_us, w_mx, D_us, D_mx, x0 = inst
    point = nash_point(w_us, w_mx, D_us, D_mx)
    assert point is not None
    a, b = point
    assert a >= D_us - 1e-12 and b >= D_mx - 1e-12
    # feasibility: some package gives the US a and Mexico b
    assert lp_max_mx_given_us(w_us, w_mx, a - 1e-12) >= b - 1e-9

    def neg_log(x):
        ga, gb = face_us(x, w_us) - D_us, face_mx(x, w_mx) - D_mx
        if ga <= 0 or gb <= 0:
            return 1e6
        return -(math.log(ga) + math.log(gb))

    def grad(x):
        ga, gb = face_us(x, w_us) - D_us, face_mx(x, w_mx) - D_mx
        return -(w_us / ga - w_mx / gb)

    res = minimize(
        neg_log,
        x0,
        jac=grad,
        method="SLSQP",
        bounds=[(0, 1)] * len(x0),
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    x = np.clip(res.x, 0, 1)
    scipy_product = (face_us(x, w_us) - D_us) * (face_mx(x, w_mx) - D_mx)
    engine_product = (a - D_us) * (b - D_mx)
    assert engine_product == pytest.approx(scipy_product, rel=1e-6)


# ------------------------------------------------------------------- 4. offers vs linprog


def own_piece_value(side, x, w, d_us, d_mx, t_us, t_mx):
    """Risk-adjusted value per issue written as the min of two affine pieces (docs/model.md §3.1):
    US: min(x, ir + t_US (x - ir)) with ir = 1 - d_MX;
    MX: min(1 - x, 1 - d_US + t_MX (d_US - x))."""
    if side == "us":
        ir = 1.0 - d_mx
        return w * np.minimum(x, ir + t_us * (x - ir))
    return w * np.minimum(1.0 - x, 1.0 - d_us + t_mx * (d_us - x))


def lp_offer(proposer, w_own_n, w_est, d_us, d_mx, t_us, t_mx, asp):
    """The offer LP in x-space with epigraph variables, variables v = (x, y, z):
    maximise sum w_est z  s.t.  z_k <= each affine piece of the partner's value,
    y_k <= each affine piece of the proposer's own value, sum w_own y >= asp, x in [0,1]."""
    m = len(w_own_n)
    eye, zero = np.eye(m), np.zeros((m, m))
    ir = 1.0 - d_mx
    # US pieces:  y <= x  and  y <= ir (1 - t_us) + t_us x
    us_rows = [(-eye, np.zeros(m)), (-t_us * eye, ir * (1.0 - t_us))]
    # MX pieces:  y <= 1 - x  and  y <= 1 - d_us + t_mx d_us - t_mx x
    mx_rows = [(eye, np.ones(m)), (t_mx * eye, 1.0 - d_us + t_mx * d_us)]
    own_rows, partner_rows = (us_rows, mx_rows) if proposer == "us" else (mx_rows, us_rows)
    A, b = [], []
    for cx, rhs in own_rows:  # y - (affine in x) <= const
        A.append(np.hstack([cx, eye, zero]))
        b.append(rhs)
    for cx, rhs in partner_rows:
        A.append(np.hstack([cx, zero, eye]))
        b.append(rhs)
    A.append(np.hstack([np.zeros(m), -w_own_n, np.zeros(m)])[None, :])
    b.append(np.array([-asp]))
    res = linprog(
        c=np.concatenate([np.zeros(2 * m), -w_est]),
        A_ub=np.vstack(A),
        b_ub=np.concatenate(b),
        bounds=[(0, 1)] * m + [(None, None)] * (2 * m),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    assert res.status == 0, res.message
    return -res.fun


@st.composite
def offer_instances(draw):
    m = draw(st.integers(1, 5))
    raw = st.lists(salience(), min_size=m, max_size=m).filter(lambda v: sum(v) > 1e-3)
    unit = st.floats(0.0, 1.0)
    # Trust is exactly 0 or at least 0.01: with a trust of 1e-138 a segment costs the
    # proposer ~1e-138, which linprog's 1e-10 feasibility tolerance treats as free at
    # aspiration = max, a rounding knife-edge rather than a property of the engine.
    trust_value = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.01, 1.0))
    return dict(
        w_us=np.asarray(draw(raw)),
        w_mx=np.asarray(draw(raw)),
        d_us=np.asarray(draw(st.lists(st.floats(0.0, 0.6), min_size=m, max_size=m))),
        d_mx=np.asarray(draw(st.lists(st.floats(0.0, 0.6), min_size=m, max_size=m))),
        t_us=draw(trust_value),
        t_mx=draw(trust_value),
        level=draw(unit),
    )


@pytest.mark.parametrize("proposer", ["us", "mx"])
@HYP
@given(inst=offer_instances())
def test_offer_solves_the_offer_lp(proposer, inst):
    """docs/model.md §3.4 / Sebenius (1983): the proposer's offer maximises its estimate of the
    partner's risk-adjusted value subject to its own risk-adjusted value >= aspiration.
    The estimate of partner weights is iota * w_partner/sum + (1 - iota)/m with iota the
    proposer's trust; the partner's pieces use the partner's own trust. The engine's
    greedy must reach linprog's optimum of the same LP stated in x-space."""
    w_us, w_mx, d_us, d_mx = inst["w_us"], inst["w_mx"], inst["d_us"], inst["d_mx"]
    t_us, t_mx = inst["t_us"], inst["t_mx"]
    m = len(w_us)
    if proposer == "us":
        w_own, w_partner, iota, partner = w_us, w_mx, t_us, "mx"
    else:
        w_own, w_partner, iota, partner = w_mx, w_us, t_mx, "us"
    w_own_n = w_own / w_own.sum()
    w_est = iota * w_partner / w_partner.sum() + (1.0 - iota) / m

    def own(x):
        return own_piece_value(proposer, x, w_own_n, d_us, d_mx, t_us, t_mx).sum()

    def est_partner(x):
        return own_piece_value(partner, x, w_est, d_us, d_mx, t_us, t_mx).sum()

    # aspiration between the own value at the partner's ideal and the own maximum
    partner_ideal, own_ideal = (
        (np.zeros(m), np.ones(m)) if proposer == "us" else (np.ones(m), np.zeros(m))
    )
    lo, hi = own(partner_ideal), own(own_ideal)
    asp = lo + inst["level"] * (hi - lo)

    tab = tables(w_us, w_mx, d_us, d_mx, trust_us=t_us, trust_mx=t_mx)
    x = offer(tab, proposer, np.array([asp]))[0]
    assert x.shape == (m,)
    assert np.all(x >= -1e-12) and np.all(x <= 1 + 1e-12)
    assert own(x) >= asp - 1e-9
    expected = lp_offer(proposer, w_own_n, w_est, d_us, d_mx, t_us, t_mx, asp)
    assert est_partner(x) == pytest.approx(expected, abs=1e-7)


# ------------------------------------------------------------ 5. concession curves


def test_concession_curves_at_known_points():
    """Faratin, Sierra & Jennings (1998) time-dependent tactics a(t) = R + (B - R)(1 - t^(1/e))
    with R = 0.2, B = 1: Boulware (e = 0.2) holds out, linear (e = 1) concedes evenly,
    conceder (e = 2) gives way early. Values by hand:
        t = 0:   1 for all;   t = 1:  0.2 for all;
        t = 0.5: Boulware 0.2 + 0.8 (1 - 0.5^5) = 0.975, linear 0.2 + 0.8*0.5 = 0.6,
                 conceder 0.2 + 0.8 (1 - 0.5^0.5) = 0.4343145750507619."""
    t = np.array([0.0, 0.5, 1.0])
    e = np.array([0.2, 1.0, 2.0])
    got = aspiration(t, np.full(3, 0.2), np.full(3, 1.0), e)
    expected = np.array(
        [
            [1.0, 0.975, 0.2],
            [1.0, 0.6, 0.2],
            [1.0, 0.2 + 0.8 * (1 - math.sqrt(0.5)), 0.2],
        ]
    )
    assert got.shape == (3, 3)
    assert np.allclose(got, expected, atol=1e-12)
    assert expected[2, 1] == pytest.approx(0.4343145750507619)
    # Boulware stays above linear stays above conceder strictly inside (0, 1)
    mid = aspiration(np.linspace(0.01, 0.99, 50), np.full(3, 0.2), np.full(3, 1.0), e)
    assert np.all(mid[0] > mid[1]) and np.all(mid[1] > mid[2])


# ------------------------------------------------- 6. single-issue agreement time


def test_single_issue_linear_curves_meet_at_round_25():
    """Faratin et al. (1998) with AC_next acceptance (Baarslag et al. 2014), one issue,
    weights 1, d = 0, both linear, 50 rounds, t = r/49, US first. Both aspirations are
    1 - r/49. The US offers at even r with x = 1 - r/49, which Mexico values r/49 and
    accepts iff r/49 >= 1 - r/49, i.e. r >= 24.5 -> r = 26. Mexico offers at odd r with
    x = r/49, which the US accepts iff r/49 >= 1 - r/49 -> r = 25 first. So agreement
    at round 25 on Mexico's offer, x = 25/49."""
    out = negotiate(tables([1.0], [1.0], [0.0], [0.0]), ROUNDS)
    assert out.agreed[0]
    assert out.round[0] == 25
    assert out.x[0, 0] == pytest.approx(25 / 49, abs=1e-12)


def test_single_issue_boulware_us_vs_conceder_mx():
    """Boulware US (e = 0.2) against a conceder Mexico (e = 2), same single issue.
    a_US(t) = 1 - t^5, a_MX(t) = 1 - t^(1/2). The US offer at even r is x = 1 - t^5, worth
    t^5 to Mexico; Mexico's offer at odd r is x = t^(1/2), worth t^(1/2) to the US.
    Either way agreement needs t^5 + t^(1/2) >= 1; the first round meeting it is found
    from the closed form below (t* ~ 0.698, so r = 35, on Mexico's offer)."""
    first = None
    for r in range(ROUNDS):
        t = r / (ROUNDS - 1)
        a_us, a_mx = 1 - t**5, 1 - math.sqrt(t)
        if r % 2 == 0:  # US proposes x = a_us; Mexico's value is 1 - x
            ok, x = (1 - a_us) >= a_mx, a_us
        else:  # Mexico proposes 1 - x = a_mx; the US's value is x
            ok, x = (1 - a_mx) >= a_us, 1 - a_mx
        if ok and first is None:
            first = (r, x)
    assert first is not None
    r_star, x_star = first
    assert r_star == 35 and x_star == pytest.approx(math.sqrt(35 / 49))

    out = negotiate(tables([1.0], [1.0], [0.0], [0.0], e_us=0.2, e_mx=2.0), ROUNDS)
    assert out.agreed[0]
    assert out.round[0] == r_star
    assert out.x[0, 0] == pytest.approx(x_star, abs=1e-12)
    # the Boulware side gets the larger share
    assert out.x[0, 0] > 0.5


# ------------------------------------------------------------------------ 7. Beta trust


def test_beta_trust_after_known_evidence():
    """Jøsang & Ismail (2002) Beta reputation with forgetting f = 0.95:
    prior(0.5, 10) = (5, 5);
    kept costly commitment (good 1):      (0.95*5 + 1,       0.95*5)          = (5.75, 4.75)
    broken commitment (bad 1):            (0.95*5.75,        0.95*4.75 + 1)   = (5.4625, 5.5125)
    kept non-costly measure (good 0.25):  (0.95*5.4625 + .25, 0.95*5.5125)    = (5.439375, 5.236875)
    mean = 5.439375 / 10.67625 = 0.50948..."""
    a, b = trust.prior(0.5, 10)
    assert (float(a), float(b)) == pytest.approx((5.0, 5.0))
    a, b = trust.update(a, b, 1.0, 0.0, 0.95)
    assert (float(a), float(b)) == pytest.approx((5.75, 4.75))
    assert float(trust.mean(np.asarray(a), np.asarray(b))) == pytest.approx(5.75 / 10.5)
    a, b = trust.update(a, b, 0.0, 1.0, 0.95)
    assert (float(a), float(b)) == pytest.approx((5.4625, 5.5125))
    a, b = trust.update(a, b, 0.25, 0.0, 0.95)
    assert (float(a), float(b)) == pytest.approx((5.439375, 5.236875))
    m = trust.mean(np.asarray(a), np.asarray(b))
    assert float(m) == pytest.approx(5.439375 / 10.67625, abs=1e-12)
    assert float(m) == pytest.approx(0.5094836, abs=1e-7)


# ------------------------------------------------- 8. trust does not touch a one-issue table


@HYP
@given(
    w_us=st.floats(0.05, 2.0),
    w_mx=st.floats(0.05, 2.0),
    d_us=st.floats(0.0, 0.8),
    d_mx=st.floats(0.0, 0.8),
    e_us=st.sampled_from([0.2, 0.5, 1.0, 2.0]),
    e_mx=st.sampled_from([0.2, 0.5, 1.0, 2.0]),
    # Trust exactly 0 or >= 0.01. With trust ~1e-6 or below, rounding in the engine's
    # budget (top - aspiration) is amplified by the gain/cost rate 1/trust, which can
    # flip a knife-edge tie (d_US + d_MX = 1, a one-point zone) from round 0 to 1.
    trusts=st.lists(
        st.one_of(st.just(0.0), st.just(1.0), st.floats(0.01, 1.0)), min_size=4, max_size=4
    ),
)
def test_one_issue_table_is_trust_invariant(w_us, w_mx, d_us, d_mx, e_us, e_mx, trusts):
    """docs/model.md §4: a commitment is costly only when a side concedes beyond its own no-deal
    value, which on a one-issue table never happens (aspirations stay above reservations),
    so a delinked outcome (agreed, x, round) does not depend on trust_US or trust_MX."""
    t_us = np.array([1.0, trusts[0], trusts[1]])
    t_mx = np.array([1.0, trusts[2], trusts[3]])
    tab = tables(
        [[w_us]] * 3,
        [[w_mx]] * 3,
        [[d_us]] * 3,
        [[d_mx]] * 3,
        trust_us=t_us,
        trust_mx=t_mx,
        e_us=e_us,
        e_mx=e_mx,
    )
    out = negotiate(tab, ROUNDS)
    assert (out.agreed == out.agreed[0]).all()
    assert (out.round == out.round[0]).all()
    assert np.allclose(out.x, out.x[0], atol=1e-12, equal_nan=True)
    # and the zone arithmetic of docs/model.md §1: agreement iff d_US + d_MX <= 1
    if d_us + d_mx > 1 + 1e-9:
        assert not out.agreed[0]
    elif d_us + d_mx < 1 - 1e-9:
        assert out.agreed[0]
        assert d_us - 1e-9 <= out.x[0, 0] <= 1 - d_mx + 1e-9
