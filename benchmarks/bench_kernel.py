"""Linked table-negotiations per second: the engine's kernel beside a bare numpy kernel.

    python benchmarks/bench_kernel.py [--worlds 10000] [--rounds 100] [--repeat 7]

The engine (``sim.bargaining.negotiate``, compiled in ``sim.kernel``) builds each side's
concession path from the issues (risk-adjusted segments, estimated partner weights, threat
reservations), then finds the first accepted offer by bisection over each side's turns
(acceptance is monotone in time). The same negotiation in array code
(``sim.bargaining.reference``, the engine before it was compiled) is timed beside it.
The bare kernel is the least a vectorised alternating-offers negotiation can do:
a fixed, precomputed frontier per world and linear aspirations, scanning every round (the
reference of the speed target); a second bare kernel uses the same bisection, to show what
building the paths costs. All are timed on the same number of worlds; the best of
``--repeat`` runs is reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from sim.bargaining import Tables, negotiate, reference
from sim.pressure import reservations, threatened


def engine_tables(W: int, rng) -> Tables:
    """W linked tables of the baseline's four issues, trust and pressure on, lever = trade."""
    w_us = rng.dirichlet(np.ones(4), W)
    w_mx = rng.dirichlet(np.ones(4), W)
    d_us = rng.uniform(0.2, 0.45, (W, 4))
    d_mx = rng.uniform(0.2, 0.45, (W, 4))
    trust_us, trust_mx, pi = rng.uniform(0, 1, W), rng.uniform(0, 1, W), rng.uniform(0, 1, W)
    th = threatened(np.ones(W, bool), 4, pi)
    r_us, r_mx = reservations(w_us, w_mx, d_us, d_mx, w_us[:, 0], w_mx[:, 0], th, pi, 1.5, 0.2)
    e = np.ones(W)
    return Tables(w_us, w_mx, d_us, d_mx, trust_us, trust_mx, e, e, r_us, r_mx)


def bare_frontier(W: int, rng):
    """A fixed concave frontier per world: vertices (U_US, U_MX) from the US ideal."""
    w_us = rng.dirichlet(np.ones(4), W)
    w_mx = rng.dirichlet(np.ones(4), W)
    order = np.argsort(w_us / w_mx, axis=1)
    a = np.take_along_axis(w_us, order, 1)
    b = np.take_along_axis(w_mx, order, 1)
    zero = np.zeros((W, 1))
    u_us = 1.0 - np.hstack([zero, np.cumsum(a, 1)])  # decreasing
    u_mx = np.hstack([zero, np.cumsum(b, 1)])  # increasing
    return u_us, u_mx


def bare_kernel(u_us, u_mx, rounds: int):
    """Alternating offers over a fixed frontier: the first round whose offer is accepted."""
    t = np.arange(rounds) / (rounds - 1)
    asp = 1.0 - t  # both sides linear from 1 to 0
    # US offers (even rounds): its own utility = asp; Mexico gets the frontier there
    us_r, mx_r = np.arange(0, rounds, 2), np.arange(1, rounds, 2)
    mx_gets = _interp_rows(-u_us, u_mx, -asp[us_r])
    us_gets = _interp_rows(u_mx, u_us, asp[mx_r])
    acc_mx = mx_gets >= asp[us_r]
    acc_us = us_gets >= asp[mx_r]
    first_us = np.where(acc_mx.any(1), us_r[acc_mx.argmax(1)], rounds)
    first_mx = np.where(acc_us.any(1), mx_r[acc_us.argmax(1)], rounds)
    return np.minimum(first_us, first_mx)


def bare_kernel_bisect(u_us, u_mx, rounds: int):
    """The same, finding each side's first acceptance by bisection over its turns."""
    t = np.arange(rounds) / (rounds - 1)
    asp = 1.0 - t
    W = len(u_us)
    firsts = []
    # (proposer's turns, its own utility along the frontier as an increasing axis, the
    # responder's utility there, the sign that maps the aspiration onto that axis)
    sides = (
        (np.arange(0, rounds, 2), -u_us, u_mx, -1.0),
        (np.arange(1, rounds, 2), u_mx, u_us, 1.0),
    )
    for turns, xp, fp, sign in sides:
        K = len(turns)
        lo, hi = np.zeros(W, np.intp), np.full(W, K)
        for _ in range(K.bit_length()):
            active = lo < hi
            mid = (lo + hi) // 2
            a = asp[turns[np.minimum(mid, K - 1)]]
            ok = _interp_points(xp, fp, sign * a) >= a
            hi = np.where(active & ok, mid, hi)
            lo = np.where(active & ~ok, mid + 1, lo)
        firsts.append(np.where(lo < K, turns[np.minimum(lo, K - 1)], rounds))
    return np.minimum(*firsts)


def _interp_points(xp, fp, x):
    """Row-wise linear interpolation of increasing ``xp`` (W, K) at one point per row."""
    return _interp_rows_at(xp, fp, x[:, None])[:, 0]


def _interp_rows(xp, fp, x):
    """Row-wise linear interpolation of increasing ``xp`` (W, K) at shared points ``x`` (T,)."""
    return _interp_rows_at(xp, fp, np.broadcast_to(x, (len(xp), len(x))))


def _interp_rows_at(xp, fp, x):
    """Row-wise linear interpolation of increasing ``xp`` (W, K) at points ``x`` (W, T)."""
    idx = np.clip(np.sum(xp[:, None, :] <= x[:, :, None], axis=2), 1, xp.shape[1] - 1)
    x0, x1 = np.take_along_axis(xp, idx - 1, 1), np.take_along_axis(xp, idx, 1)
    f0, f1 = np.take_along_axis(fp, idx - 1, 1), np.take_along_axis(fp, idx, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(x1 > x0, (x - x0) / (x1 - x0), 0.0)
    return f0 + np.clip(s, 0, 1) * (f1 - f0)


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worlds", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--repeat", type=int, default=7)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    tab = engine_tables(a.worlds, rng)
    u_us, u_mx = bare_frontier(a.worlds, rng)
    negotiate(tab, a.rounds)  # the first call loads the compiled kernel
    t_engine = best_time(lambda: negotiate(tab, a.rounds), a.repeat)
    t_array = best_time(lambda: reference(tab, a.rounds), a.repeat)
    t_bare = best_time(lambda: bare_kernel(u_us, u_mx, a.rounds), a.repeat)
    t_bisect = best_time(lambda: bare_kernel_bisect(u_us, u_mx, a.rounds), a.repeat)
    assert np.array_equal(
        bare_kernel(u_us, u_mx, a.rounds), bare_kernel_bisect(u_us, u_mx, a.rounds)
    )
    agreed = negotiate(tab, a.rounds).agreed.mean()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numpy {np.__version__}, python {platform.python_version()}"
    )
    print(f"worlds={a.worlds} issues=4 rounds={a.rounds} (engine agreement rate {agreed:.2f})")
    ms = t_engine * 1e3
    print(f"engine kernel: {a.worlds / t_engine:12,.0f} linked negotiations/s ({ms:.1f} ms)")
    print(
        f"array code:    {a.worlds / t_array:12,.0f} linked negotiations/s ({t_array * 1e3:.1f} ms)"
    )
    print(f"bare kernel:   {a.worlds / t_bare:12,.0f} negotiations/s ({t_bare * 1e3:.1f} ms)")
    print(f"bare, bisection: {a.worlds / t_bisect:10,.0f} negotiations/s ({t_bisect * 1e3:.1f} ms)")
    print(
        f"engine / array code: {t_array / t_engine:.2f}; engine / bare: {t_bare / t_engine:.2f}; "
        f"engine / bare with bisection: "
        f"{t_bisect / t_engine:.2f} (target >= 0.5)"
    )


if __name__ == "__main__":
    main()
