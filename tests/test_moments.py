"""Block moments: one block is numpy's nanmean and nanstd bit for bit; blocks combined in
order agree with the whole; empty blocks and undefined values are left out."""

import warnings
from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.moments import Z95, Moments


def numpy_ci(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        n = np.sum(~np.isnan(x), axis=-1)
        sd = np.nanstd(x, axis=-1, ddof=1)
        return np.nanmean(x, axis=-1), np.where(n > 1, Z95 * sd / np.sqrt(np.maximum(n, 1)), np.nan)


def data(seed, shape, nan_share=0.1):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.3, 0.2, shape)
    x[rng.random(shape) < nan_share] = np.nan
    return x


def test_one_block_is_numpy_bit_for_bit():
    x = data(1, (20, 100))
    m = Moments.of(x)
    mean, ci = numpy_ci(x)
    assert np.array_equal(m.mean, mean, equal_nan=True)
    assert np.array_equal(m.ci95, ci, equal_nan=True)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10**6), cuts=st.lists(st.integers(1, 199), max_size=6, unique=True))
def test_blocks_combined_in_order_agree_with_the_whole(seed, cuts):
    x = data(seed, (3, 200), nan_share=0.2)
    edges = [0, *sorted(cuts), 200]
    parts = [Moments.of(x[:, a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    got = reduce(lambda a, b: a + b, parts)
    mean, ci = numpy_ci(x)
    assert np.array_equal(got.n, np.sum(~np.isnan(x), axis=1))
    assert np.allclose(got.mean, mean, rtol=1e-12, atol=1e-14)
    assert np.allclose(got.ci95, ci, rtol=1e-9, atol=1e-14)


def test_empty_and_single_value_blocks():
    x = np.array([[np.nan, np.nan, 0.2, 0.4, np.nan, 0.9]])
    parts = [Moments.of(x[:, :2]), Moments.of(x[:, 2:3]), Moments.of(x[:, 3:])]
    got = parts[0] + parts[1] + parts[2]
    assert got.n[0] == 3 and got.mean[0] == pytest.approx(0.5)
    assert got.var[0] == pytest.approx(np.var([0.2, 0.4, 0.9], ddof=1))
    empty = Moments.of(np.full((1, 3), np.nan))
    assert np.isnan(empty.mean[0]) and np.isnan(empty.ci95[0])
    assert np.isnan((empty + Moments.of(np.array([[0.5]]))).ci95[0])  # one value: no interval
