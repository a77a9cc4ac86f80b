"""Level II: domestic ratification of agreements (Putnam 1988; docs/model.md §4.1).

A country may have ratifiers (``countries.<side>.ratifiers``). Ratifier j of a country
values an agreement ``x`` on a table by its own weights ``s_j`` as the country does (the US
gets ``x_k``, Mexico ``1 - x_k``), normalised on the table's issues, and approves it when

    U_j(x) >= D_j + theta_j,

``D_j`` its expected no-deal value on the table (the threat's expected penalty included, as
in a negotiator's reservation) and ``theta_j`` its threshold. A ratifier with no weight on
the table's issues has no stake and approves. The country ratifies when all its active
ratifiers approve (``all``), or when every active veto player does and the approving active
weight exceeds half the active weight (``majority``).

The win-set on a table is the part of its Pareto frontier the country would ratify. Along
the frontier, traced from the US ideal to Mexico's (``sim.issues.pareto_frontier``), every
US ratifier's value falls and every Mexican one's rises, so each country's win-set is a
stretch of the frontier that starts at its own ideal; its ``reach`` is the stretch's length
in issues moved (0 to m). The negotiator knows its ratifiers' thresholds only up to an
error (``ratification.noise``), and will not go below its own value at the end of the
win-set it believes in: that value is a floor under its reservation.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from sim import bargaining
from sim.bargaining import Aspiration, Tables
from sim.cells import seed_sequence
from sim.config import Config, RatificationRule
from sim.issues import segment_factors

TOL = 1e-9  # a ratifier approves values this far below its bar: ties must not hinge on rounding
EMPTY = 2.0  # a floor above any normalised value: no agreement is acceptable


class Ratifiers:
    """One country's ratifiers over W worlds: ``salience`` (W, J, n), ``threshold``,
    ``weight``, ``veto``, ``active`` and the negotiator's ``error`` about each threshold, (W, J).
    Dated events change them (``sim.events``)."""

    def __init__(self, cfg: Config, side: str, params, blocks, paired: bool):
        conf = getattr(cfg.countries, side)
        self.side, self.names = side, [r.name for r in conf.ratifiers]
        self.rule = conf.ratification_rule

        def stack(key):
            base = f"countries.{side}.ratifiers"
            return np.stack([params[f"{base}.{n}.{key}"] for n in self.names], 1)

        self.salience = stack("salience")
        self.threshold, self.weight = stack("threshold"), stack("weight")
        W, J = self.threshold.shape
        self.veto = np.tile([r.veto for r in conf.ratifiers], (W, 1))
        self.active = np.tile([r.active for r in conf.ratifiers], (W, 1))
        # a fixed misreading per world and ratifier, from a stream apart from the engine's
        # (so that adding ratifiers leaves every other draw as it was)
        z = [_normals(cfg, b, side, J, paired) for b in blocks]
        self.error = params["ratification.noise"][:, None] * np.concatenate(z)

    def reach(self, wi, k, x_path, bar_shift, believed: bool):
        """How far along each table's frontier (B,) the country would ratify, in issues
        moved from its own ideal: -1 when not even its ideal passes, m when all does.

        ``x_path`` (B, m+1, m): the frontier's vertices from the US ideal; ``bar_shift``
        (B, J) the ratifiers' no-deal values; ``believed``: the negotiator's reading."""
        s = self.salience[wi[:, None], :, k].transpose(0, 2, 1)  # (B, J, m)
        theta = self.threshold[wi] + (self.error[wi] if believed else 0.0)
        v = x_path if self.side == "US" else 1.0 - x_path[:, ::-1]  # from own ideal on
        u = _value(s, v)  # (B, J, m+1), falls along the path
        bar = bar_shift + theta
        m = x_path.shape[2]
        ok = u >= bar[..., None] - TOL
        last = ok.sum(axis=2) - 1  # the approved vertices are a prefix
        i = np.clip(last, 0, m - 1)
        u0 = np.take_along_axis(u, i[..., None], 2)[..., 0]
        u1 = np.take_along_axis(u, (i + 1)[..., None], 2)[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.clip(np.where(u0 > u1, (u0 - bar) / (u0 - u1), 0.0), 0.0, 1.0)
        each = np.where(last >= m, m, np.where(last < 0, -1.0, i + part))
        each = np.where(self.active[wi], each, m)  # an inactive ratifier has no say
        return _combine(each, self.weight[wi], self.veto[wi] & self.active[wi], self.active[wi],
                        self.rule, m)  # fmt: skip

    def approve(self, wi, k, x, bar_shift, believed: bool = False):
        """Which agreements ``x`` (B, m) the country ratifies (B,), by the true thresholds,
        or, ``believed``, by the negotiator's reading of them."""
        s = self.salience[wi[:, None], :, k].transpose(0, 2, 1)
        v = x if self.side == "US" else 1.0 - x
        theta = self.threshold[wi] + (self.error[wi] if believed else 0.0)
        ok = _value(s, v[:, None, :])[..., 0] >= bar_shift + theta - TOL
        ok |= ~self.active[wi]
        if self.rule is RatificationRule.all:
            return ok.all(axis=1)
        veto = self.veto[wi] & self.active[wi]
        w = self.weight[wi] * self.active[wi]
        total = w.sum(axis=1)
        return ~np.any(veto & ~ok, axis=1) & ((np.sum(w * ok, 1) > 0.5 * total) | (total <= 0))

    def no_deal(self, wi, k, d, lever, penalty):
        """Each ratifier's expected no-deal value on the tables, (B, J): ``d`` (B, m) the
        country's no-deal values, ``lever`` (B, m) where the lever is, ``penalty`` (B,)."""
        s = self.salience[wi[:, None], :, k].transpose(0, 2, 1)
        total = s.sum(axis=2)
        lever_s = np.sum(s * lever[:, None, :], axis=2)
        return (np.sum(s * d[:, None, :], 2) - penalty[:, None] * lever_s) / np.where(
            total > 0, total, 1.0
        )


def _normals(cfg, block, side, J, paired):
    """Standard normals (block.size, J) for ``side``'s ratifiers: from a child of the cell's
    seed sequence, one per side, whole replications at a time (so a world's draws do not
    depend on its block)."""
    seq = seed_sequence(cfg.seed, block.cell, paired).spawn(2)[0 if side == "US" else 1]
    z = np.random.default_rng(seq).standard_normal((cfg.replications, J))
    return z[block.start : block.stop]


def _value(s, v):
    """Each ratifier's value (B, J, P) of P packages ``v`` (B, P, m) by weights ``s`` (B, J, m);
    +inf where it has no weight on the table (no stake: it approves)."""
    total = s.sum(axis=2)
    u = np.einsum("bjm,bpm->bjp", s, v) / np.where(total > 0, total, 1.0)[..., None]
    return np.where(total[..., None] > 0, u, np.inf)


def _combine(each, weight, veto, active, rule, m):
    """The country's reach (B,) from each ratifier's (B, J) under ``rule``."""
    if rule is RatificationRule.all:
        return each.min(axis=1)
    vetoed = np.where(veto, each, m).min(axis=1)
    w = weight * active
    total = w.sum(axis=1)
    order = np.argsort(-each, axis=1, kind="stable")  # furthest reach first
    far = np.take_along_axis(each, order, 1)
    cum = np.cumsum(np.take_along_axis(w, order, 1), axis=1)
    first = np.argmax(cum > 0.5 * total[:, None], axis=1)  # a majority goes this far
    majority = np.where(total > 0, np.take_along_axis(far, first[:, None], 1)[:, 0], m)
    return np.minimum(vetoed, majority)


def frontier(w_us, w_mx):
    """The vertices (B, m+1, m) of each table's face-value Pareto frontier, from the US ideal
    (all 1) to Mexico's (all 0): issues move in increasing order of ``w_US / w_MX``, as in
    ``sim.issues.pareto_frontier``."""
    B, m = w_us.shape
    with np.errstate(divide="ignore"):
        ratio = np.where(w_mx > 0, w_us / np.where(w_mx > 0, w_mx, 1.0), np.inf)
    order = np.argsort(ratio, axis=1, kind="stable")
    rank = np.argsort(order, axis=1)  # when each issue moves
    return (rank[:, None, :] >= np.arange(m + 1)[None, :, None]).astype(float)


def point(x_path, reach, side):
    """The frontier point (B, m) ``reach`` issues from ``side``'s ideal (clipped to [0, m])."""
    m = x_path.shape[2]
    t = np.clip(reach, 0, m) if side == "US" else m - np.clip(reach, 0, m)
    i = np.minimum(np.floor(t).astype(np.intp), m - 1)
    f = (t - i)[:, None]
    rows = np.arange(len(t))
    return x_path[rows, i] * (1 - f) + x_path[rows, i + 1] * f


def floor(x_path, reach, w, d_us, d_mx, trust_us, trust_mx, side):
    """The negotiator's own value, risk-adjusted as it bargains (docs/model.md §3.1) and
    normalised on the table, at the end of the win-set it believes in (B,): ``EMPTY`` when
    the win-set is empty, -inf when it is the whole frontier."""
    m = x_path.shape[2]
    x = point(x_path, reach, side)
    lo, length, f_us, f_mx = segment_factors(d_us, d_mx, trust_us, trust_mx)  # (B, m, 3)
    if side == "US":  # the US's value accrues as x rises, Mexico's as it falls
        per_issue = np.sum(f_us * np.clip(x[..., None] - lo, 0.0, length), axis=-1)
    else:
        per_issue = np.sum(f_mx * np.clip(lo + length - x[..., None], 0.0, length), axis=-1)
    own = np.sum(w * per_issue, axis=1) / np.where(w.sum(1) > 0, w.sum(1), 1.0)
    return np.where(reach < 0, EMPTY, np.where(reach >= m, -np.inf, own))


class Home:
    """Level II on a batch of B tables (worlds ``wi``, issues ``k`` (B, m)): each side's
    ratifiers (None: a unitary actor), the tables' frontier and each ratifier's no-deal bar.

    ``penalty_us``/``penalty_mx`` (B,) are the expected threat penalties per unit of lever
    weight that each side's reservation subtracts (0 on tables under no threat)."""

    def __init__(self, rat_us, rat_mx, wi, k, w_us, w_mx, d_us, d_mx, lever, penalty_us,
                 penalty_mx):  # fmt: skip
        self.wi, self.k, self.d_us, self.d_mx = wi, k, d_us, d_mx
        self.sides = [
            (side, rats, w, rats.no_deal(wi, k, d, lever, pen) if rats is not None else None)
            for side, rats, w, d, pen in (
                ("US", rat_us, w_us, d_us, penalty_us),
                ("MX", rat_mx, w_mx, d_mx, penalty_mx),
            )
        ]
        self.path = frontier(w_us, w_mx)

    def reaches(self):
        """Each side's believed reach on the frontier (B,), or None without ratifiers."""
        return [
            None if rats is None else rats.reach(self.wi, self.k, self.path, bar, believed=True)
            for _, rats, _, bar in self.sides
        ]

    def floors(self, r_us, r_mx, trust_us, trust_mx):
        """The reservations raised to each negotiator's win-set floor, where it binds;
        ``trust_*`` (B,) the trust each side bargains with."""
        out = []
        for (side, _, w, _), reach, r in zip(self.sides, self.reaches(), (r_us, r_mx), strict=True):
            if reach is not None:
                f = floor(self.path, reach, w, self.d_us, self.d_mx, trust_us, trust_mx, side)
                r = np.where(f > r + TOL, f, r)
            out.append(r)
        return tuple(out)

    def passes(self, x, rows=None, believed=False):
        """Whether both countries ratify the agreements ``x`` (len(rows), m) of the tables
        ``rows`` (default all), by the true thresholds or the negotiators' reading."""
        rows = np.arange(len(self.wi)) if rows is None else rows
        ok = np.ones(len(rows), bool)
        for _, rats, _, bar in self.sides:
            if rats is not None:
                ok &= rats.approve(self.wi[rows], self.k[rows], x, bar[rows], believed)
        return ok

    def sign(self, tab, o, rounds: int, first_mover: str):
        """The agreements the negotiators sign: where a table's first agreement is one a
        negotiator expects its ratifiers to reject, bargaining goes on to the first later
        offer the responder accepts and both expect to pass (none: no agreement).
        Returns ``o`` with ``agreed``, ``x`` and ``round`` so amended."""
        x = np.where(o.agreed[:, None], o.x, 0.5)  # any position: only agreements count
        rows = np.nonzero(o.agreed & ~self.passes(x, believed=True))[0]
        if len(rows) == 0:
            return o
        sub = Tables(*(getattr(tab, f.name)[rows] for f in fields(tab)))

        def passes(pos, cols):
            return self.passes(pos, rows[cols], believed=True)

        found, x_new = _search(sub, o.best[rows], o.round[rows], rounds, first_mover, passes)
        agreed, x, at = o.agreed.copy(), o.x.copy(), o.round.copy()
        agreed[rows], at[rows] = found < rounds, found
        x[rows] = np.where((found < rounds)[:, None], x_new, np.nan)
        return replace(o, agreed=agreed, x=x, round=at)

    def rejected(self, o):
        """Signed agreements each side's ratifiers reject, (B,) each (none without ratifiers)."""
        x = np.where(o.agreed[:, None], o.x, 0.5)
        none = np.zeros(len(self.wi), bool)
        return tuple(
            none if rats is None else o.agreed & ~rats.approve(self.wi, self.k, x, bar)
            for _, rats, _, bar in self.sides
        )

    def winsets(self):
        """Each side's believed win-set as a share of the frontier (B,); NaN without ratifiers."""
        m = self.path.shape[2]
        return tuple(
            np.full(len(self.wi), np.nan) if reach is None else np.clip(reach, 0, m) / m
            for reach in self.reaches()
        )


def _search(tab, best, after, rounds: int, first_mover: str, passes):
    """The first offer after round ``after`` (B,) that the responder accepts (section 3.5 of
    docs/model.md) and ``passes(positions, rows)`` approves, per table: its round (``rounds``:
    none) and positions (B, m). Array code, for the few tables that need it."""
    B, m = tab.w_us.shape
    p = bargaining.paths(tab)
    t, turns_us, turns_mx = bargaining.turns(rounds, first_mover)
    a_us = Aspiration(t, tab.r_us, best[:, 0], tab.e_us).all()
    a_mx = Aspiration(t, tab.r_mx, best[:, 1], tab.e_mx).all()
    found, x = np.full(B, rounds), np.full((B, m), np.nan)
    for side, own, other, turns in (("us", a_us, a_mx, turns_us), ("mx", a_mx, a_us, turns_mx)):
        path = p[side]
        budget = path.top[:, None] - own[:, turns]
        accepts = path.partner_value(budget) >= other[:, turns] - bargaining.TOL
        accepts &= turns[None, :] > after[:, None]
        for j, r in enumerate(turns):
            rows = np.nonzero(accepts[:, j] & (found > r))[0]
            if len(rows) == 0:
                continue
            pos = bargaining.position(path, side, budget[:, j])[rows]
            ok = passes(pos, rows)
            found[rows[ok]], x[rows[ok]] = r, pos[ok]
    return found, x
