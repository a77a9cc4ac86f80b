"""The kernel's shortcuts against brute force and against its statement: the bisection over
turns finds the same first acceptance as checking every round, and the compiled kernel gives
the array code's numbers bit for bit."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import kernel
from sim.bargaining import TOL, Tables, aspiration, negotiate, powers, reference


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


def tied_tables(rng, B, m):
    """Tables full of the cases a sort or a sum could get wrong: equal weights (ties across
    issues), zero weights, no trust or full trust, no-deal values at the ends."""
    tab = random_tables(rng, B, m)
    tab.w_us[::3] = tab.w_mx[::3] = 1.0 / m
    tab.w_us[1::5, 0] = 0.0
    tab.d_us[::4] = rng.choice([0.0, 0.5, 1.0], (len(tab.d_us[::4]), m))
    tab.trust_us[::2] = rng.choice([0.0, 1.0], len(tab.trust_us[::2]))
    tab.trust_mx[1::3] = 1.0
    return tab


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(1, 7),  # up to 21 segments: numpy sums 8 or more in blocks
    rounds=st.integers(1, 120),
    first=st.sampled_from(["US", "MX"]),
    ties=st.booleans(),
)
def test_the_compiled_kernel_gives_the_array_codes_numbers_bit_for_bit(
    seed, m, rounds, first, ties
):
    rng = np.random.default_rng(seed)
    tab = (tied_tables if ties else random_tables)(rng, 48, m)
    fast, slow = negotiate(tab, rounds, first), reference(tab, rounds, first)
    for name in ("agreed", "x", "round", "best"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name), equal_nan=True), name


@given(n=st.integers(0, 300), seed=st.integers(0, 2**32 - 1))
def test_the_kernels_sum_adds_in_numpys_order(n, seed):
    a = np.random.default_rng(seed).lognormal(0, 4, n)  # magnitudes apart: order shows
    assert kernel._sum(a) == np.sum(a)


def test_a_tables_aspiration_does_not_depend_on_its_batch():
    # numpy's power rounds a broadcast exponent of 2 or 0.5 its own way, depending on how
    # many distinct exponents share the array
    t = np.arange(50) / 49
    alone, _ = powers(t, np.array([0.5]))
    shared, which = powers(t, np.array([0.5, 2.0, 0.3, 1.0]))
    assert np.array_equal(alone[0], shared[which[0]])


def test_a_tables_recorded_offers_do_not_depend_on_which_others_are_recorded():
    tab = random_tables(np.random.default_rng(5), 40, 4)
    every = negotiate(tab, 60, record=True).offers
    some = negotiate(tab, 60, record=np.array([3, 17, 29])).offers
    assert np.array_equal(some, every[[3, 17, 29]], equal_nan=True)
