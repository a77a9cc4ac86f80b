"""The kernel's shortcuts against brute force: the bisection over turns finds the same first
acceptance as checking every round."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.bargaining import TOL, Tables, aspiration, negotiate


def random_tables(rng, B, m):
    w_us, w_mx = rng.dirichlet(np.ones(m), B), rng.dirichlet(np.ones(m), B)
    d_us, d_mx = rng.uniform(0, 0.7, (B, m)), rng.uniform(0, 0.7, (B, m))
    r_us = (w_us * d_us).sum(1) - rng.uniform(0, 0.3, B) * rng.integers(0, 2, B)
    r_mx = (w_mx * d_mx).sum(1) - rng.uniform(0, 0.6, B) * rng.integers(0, 2, B)
    e = rng.choice([0.2, 1.0, 2.0], (2, B))
    return Tables(
        w_us, w_mx, d_us, d_mx, rng.uniform(0, 1, B), rng.uniform(0, 1, B), e[0], e[1], r_us, r_mx
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(1, 5),
    rounds=st.integers(1, 120),
    first=st.sampled_from(["US", "MX"]),
)
def test_bisection_finds_the_first_acceptance_of_a_full_scan(seed, m, rounds, first):
    tab = random_tables(np.random.default_rng(seed), 64, m)
    out = negotiate(tab, rounds, first, record=True)
    t = np.arange(rounds) / max(rounds - 1, 1)
    a_us = aspiration(t, tab.r_us, out.best[:, 0], tab.e_us)
    a_mx = aspiration(t, tab.r_mx, out.best[:, 1], tab.e_mx)
    us_turn = (np.arange(rounds) % 2 == 0) == (first == "US")
    accepted = np.where(
        us_turn, out.offers[:, :, 1] >= a_mx - TOL, out.offers[:, :, 0] >= a_us - TOL
    )
    brute = np.where(accepted.any(1), accepted.argmax(1), rounds)
    np.testing.assert_array_equal(out.round, brute)
    assert np.array_equal(out.agreed, brute < rounds)
