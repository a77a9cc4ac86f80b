"""Means and 95% intervals of the mean over worlds, from blocks of worlds combined in order.

A cell's worlds are cut into fixed blocks (``runner.BLOCK`` worlds); each block is reduced
to its count, sum and variance, and the blocks are combined in block order (Chan, Golub &
LeVeque 1979). Because the blocks depend only on the cell, never on how blocks are spread
over chunks and processes, a cell's numbers are the same bit for bit however the run is
chunked, and memory stays flat in the number of replications. A cell of a single block
gets exactly numpy's ``nanmean`` and ``nanstd``.

Values that are NaN (a metric undefined in a world) are left out, as in ``nanmean``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

Z95 = 1.96


@dataclass
class Moments:
    """Count, sum and sample variance of the defined values, per entry of the shape."""

    n: np.ndarray
    total: np.ndarray
    var: np.ndarray  # ddof=1; NaN with fewer than two values

    @classmethod
    def of(cls, x: np.ndarray, axis: int = -1) -> Moments:
        with warnings.catch_warnings():  # an all-NaN row is a legitimate empty cell
            warnings.simplefilter("ignore", RuntimeWarning)
            return cls(
                np.sum(~np.isnan(x), axis=axis),
                np.nansum(x, axis=axis),
                np.nanvar(x, axis=axis, ddof=1),
            )

    def __getitem__(self, i) -> Moments:
        return Moments(self.n[i], self.total[i], self.var[i])

    def __add__(self, other: Moments) -> Moments:
        """The moments of both blocks' values together (Chan et al. 1979)."""
        n = self.n + other.n
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = other.mean - self.mean
            m2 = self._m2() + other._m2() + delta**2 * self.n * other.n / n
            var = np.where(n > 1, m2 / (n - 1), np.nan)
        # an empty block adds nothing, and its NaN mean must not spoil the other's
        var = np.where(self.n == 0, other.var, np.where(other.n == 0, self.var, var))
        return Moments(n, self.total + other.total, var)

    def _m2(self) -> np.ndarray:
        return np.where(self.n > 1, self.var * (self.n - 1), 0.0)

    @property
    def mean(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.n > 0, self.total / np.maximum(self.n, 1), np.nan)

    @property
    def ci95(self) -> np.ndarray:
        """Half-width of the normal 95% interval of the mean."""
        with np.errstate(invalid="ignore"):
            sd = np.sqrt(self.var)
        return np.where(self.n > 1, Z95 * sd / np.sqrt(np.maximum(self.n, 1)), np.nan)


def ci95(values: np.ndarray) -> np.ndarray:
    """Half-width of the normal 95% interval of the mean over the last axis."""
    return Moments.of(values).ci95
