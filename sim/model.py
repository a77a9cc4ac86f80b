"""LinkageModel: W parallel worlds of US-Mexico negotiation, one Mesa step per episode.

An episode (docs/model.md §8): apply the scenario's dated events, form the tables (the
framework), negotiate every table (``sim.bargaining``), execute threats on failed threat
tables, implement the agreements (keeping or reneging on commitments), update trust and
salience, and collect the metrics. Worlds are the rows of every array; cells (parameter
combinations) own consecutive blocks of ``replications`` worlds and their own generator.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import mesa
import numpy as np

from sim import (
    bargaining,
    choice,
    design,
    events,
    frameworks,
    guarantor,
    metrics,
    params,
    pressure,
    ratification,
)  # fmt: skip
from sim.agents import Country
from sim.bargaining import Tables, negotiate
from sim.cells import Block, Cell, Stream
from sim.config import Config
from sim.record import TableRecord

log = logging.getLogger(__name__)


def disabled_parts(cfg: Config) -> list[str]:
    """Parts of the model switched off because the scenario lacks the issue they need."""
    out = []
    if cfg.threat.lever not in cfg.issues:
        out.append(f"threats (no lever issue {cfg.threat.lever!r})")
    if cfg.unilateral.issue not in cfg.issues:
        out.append(f"unilateral action (no {cfg.unilateral.issue!r} issue)")
    if cfg.backlash.issue not in cfg.issues:
        out.append(f"backlash and unilateral harm (no {cfg.backlash.issue!r} issue)")
    late = [e for e in cfg.events if e.episode > cfg.episodes]
    if late:
        dated = ", ".join(f"{e.type.value} at episode {e.episode}" for e in late)
        out.append(f"events after the last episode ({cfg.episodes}): {dated}")
    return out


@dataclass
class Draws:
    """One episode's uniforms per world, drawn from each cell's own stream in this order."""

    keep_us: np.ndarray  # (W, n) does the US keep its commitment on each issue
    keep_mx: np.ndarray  # (W, n) does Mexico keep its commitment on each issue
    threat: np.ndarray  # (W,) is a failed threat executed
    unilateral: np.ndarray  # (W,) does the US act alone

    @classmethod
    def of(cls, streams: list[Stream], n: int) -> Draws:
        u = np.concatenate([s.random(2 * n + 2) for s in streams])
        return cls(u[:, :n], u[:, n : 2 * n], u[:, 2 * n], u[:, 2 * n + 1])


@dataclass
class Round:
    """What one episode's tables produced, per world and issue."""

    agreed: np.ndarray  # (W, n) the issue's table agreed
    x: np.ndarray  # (W, n) agreed positions (NaN where none)
    threat: np.ndarray  # (W,) a threat table existed
    threat_failed: np.ndarray  # (W,) ... and it failed
    rounds: np.ndarray  # (W,) mean rounds used per table
    # level II: tables agreed at the table that the US's and Mexico's ratifiers rejected, (W,)
    # each, and the issues so lost (W, n)
    unratified: tuple[np.ndarray, np.ndarray]
    lost: tuple[np.ndarray, np.ndarray]


@dataclass
class Group:
    """An episode's tables of one size, ready to bargain (``LinkageModel.open``)."""

    wi: np.ndarray  # (B,) the world of each table
    k: np.ndarray  # (B, m) its issues
    th: np.ndarray  # (B,) under a threat
    tab: Tables
    home: ratification.Home | None  # level II, when a country has ratifiers
    kept: np.ndarray  # rows whose offers the record keeps
    power: tuple  # t^(1/e) of the run and each table's rows of it (``bargaining.negotiate``)


@dataclass
class Episode:
    """An opened episode: what ``LinkageModel.close`` needs once the tables are settled."""

    forced: np.ndarray  # (W,) unilateral action an event forces
    draws: Draws
    tables: np.ndarray | None = None  # (W, n) the table of each issue, once seated
    refused: np.ndarray | None = None  # (W,) a coercive bundle refused (framework=chosen)
    groups: list[Group] = field(default_factory=list)


class LinkageModel(mesa.Model):
    """Issue-linkage negotiation between the US and Mexico over ``len(cells) * replications``
    worlds, or over the replications of ``blocks`` (parts of cells; see ``sim.cells.Block``).

    ``record_worlds``: world indices whose every table is kept, offers included, in
    ``record`` (a list of :class:`TableRecord` in the order negotiated), for the
    negotiation dance. Recording changes no number, and costs only those worlds' offers.
    """

    def __init__(
        self,
        cfg: Config,
        cells: list[Cell] | None = None,
        record_worlds: Sequence[int] = (),
        blocks: list[Block] | None = None,
    ):
        if blocks is None:
            cells = cells or [design.single(cfg)]
            blocks = [Block(c, 0, cfg.replications) for c in cells]
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.blocks = blocks
        self.cells = [b.cell for b in blocks]
        # The engine draws from each cell's own stream, never from ``self.rng``: a cell's
        # numbers must not depend on which other cells share its batch.
        paired = cfg.experiment.paired  # the frameworks of a point share their streams
        self.streams = [Stream(cfg.seed, b, cfg.replications, paired) for b in blocks]
        self.issues = list(cfg.issues)
        sizes = [b.size for b in blocks]
        W = sum(sizes)
        self.worlds = W
        # every parameter per world, (W,) or (W, n), by its dotted config name
        self.params = p = params.per_world(cfg, [c.values() for c in self.cells], sizes)
        self.us = Country(self, "US", p)
        self.mx = Country(self, "MX", p)
        self.countries = {"US": self.us, "MX": self.mx}
        # t^(1/e) of each world's concession exponents, fixed for the run: made once
        self.power, which = bargaining.powers(
            bargaining.times(cfg.rounds), np.concatenate([self.us.concession, self.mx.concession])
        )
        self.which_us, self.which_mx = which[:W], which[W:]
        self.pressure = p["pressure"].copy()  # dated events may change it
        # worlds whose weights and no-deal values are the same (events change them in all
        # worlds at once, so the runs hold for the whole run)
        self.points = metrics.Runs(
            np.hstack([p[f"countries.{s}.{v}"] for s in ("US", "MX") for v in params.VECTORS])
        )
        self.framework = np.repeat([frameworks.CODES[c.framework] for c in self.cells], sizes)
        tables = cfg.framework.tables
        self.custom = frameworks.custom_row(tables, self.issues) if tables else None
        self.level_two = [c for c in (self.us, self.mx) if c.ratifiers is not None]
        self.linked_now = np.zeros(W, bool)
        self.chosen = self.framework == frameworks.CODES["chosen"]
        self.blocked = (np.full(W, np.nan), np.full(W, np.nan))  # by the US, by Mexico

        idx = {k: i for i, k in enumerate(self.issues)}
        # Issue indices (None when the scenario lacks the issue: that part is switched off)
        self.lever_index = idx.get(cfg.threat.lever)
        self.unilateral_index = idx.get(cfg.unilateral.issue)  # where the US may act alone
        self.backlash_index = idx.get(cfg.backlash.issue)  # where Mexico feels it
        self.episode = 0
        self.metrics: dict[str, np.ndarray] = {}
        self.outcome: metrics.Implemented | None = None
        self.record_worlds = np.unique(np.asarray(record_worlds, np.intp))
        if np.any((self.record_worlds < 0) | (self.record_worlds >= W)):
            raise ValueError(f"record_worlds {list(record_worlds)} outside the worlds 0..{W - 1}")
        self.record: list[TableRecord] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={m: partial(_report, name=m) for m in metrics.names(self.issues)}
        )

    # --- one episode -------------------------------------------------------------------
    def step(self):
        """One episode: open it, bargain at every table, close it (docs/model.md §8)."""
        episode = self.open()
        self.close(episode, [self.bargain(g) for g in episode.groups])

    def open(self) -> Episode:
        """Start an episode: its dated events, its draws, the framework's tables, and each
        group of same-size tables ready to bargain. ``close`` finishes it with the outcomes
        of the groups, from ``bargain`` or from elsewhere (a student at the table)."""
        return self.seat(self.begin())

    def begin(self) -> Episode:
        """The episode's dated events and draws, before any table is set."""
        self.episode += 1
        forced = events.apply(self, self.episode)
        u = Draws.of(self.streams, len(self.issues))
        self.linked_now = frameworks.sequenced_linked(
            self.linked_now,
            self.us.trust,
            self.mx.trust,
            self.params["framework.link_at"],
            self.params["framework.hysteresis"],
        )
        return Episode(forced, u)

    def seat(self, episode: Episode, say: dict[str, np.ndarray] | None = None) -> Episode:
        """Set the episode's tables by the framework. ``say``: a side's own answer (W,) bool
        to what ``framework=chosen`` asks it (one table, or under ``coercive`` the bundle),
        in place of its rule's (``choice.choose``); None: both sides by their rule."""
        tables = frameworks.table_of(self.framework, len(self.issues), self.custom, self.linked_now)
        if self.chosen.any():
            rule, margin = self.cfg.framework.rule.value, self.params["framework.margin"]
            c = choice.choose(self, rule, margin, say)
            tables = np.where(self.chosen[:, None], c.tables, tables)
            # a side blocks when it wants separate tables and the other wants one table
            self.blocked = (
                np.where(self.chosen, ~c.wants_us & c.wants_mx, np.nan),
                np.where(self.chosen, ~c.wants_mx & c.wants_us, np.nan),
            )
            episode.refused = self.chosen & c.refused
        episode.tables = tables
        episode.groups = [self._group(tables, *g) for g in frameworks.groups(tables)]
        return episode

    def close(self, episode: Episode, outcomes: list[bargaining.Outcome]) -> None:
        """Finish an episode with each group's outcome: ratification, threats, implementation,
        backlash, trust, and the metrics."""
        u, tables = episode.draws, episode.tables
        r = self._settle(episode.groups, outcomes)
        if episode.refused is not None:  # a refused bundle: its threat is carried out
            r.threat |= episode.refused
            r.threat_failed |= episode.refused
        kappa = pressure.credibility(self.pressure, self.params["threat.audience_cost"])
        executed = r.threat_failed & (u.threat < kappa)
        out = self._implement(r, u.keep_us, u.keep_mx)
        self.outcome = out  # per world and issue, for analyses that need more than metrics
        unilateral = self._pressure(r, out, episode.forced, u.unilateral)
        self.metrics = metrics.episode(
            self, out, r, executed, unilateral, linked=(tables == 0).all(axis=1)
        )
        self.datacollector.collect(self)

    def _group(self, tables, m, wi, ji, k) -> Group:
        """The tables of size ``m`` (world ``wi``, table ``ji``, issues ``k``) as the sides
        bargain at them: weights, no-deal values, threats, reservations, trust."""
        us, mx, p = self.us, self.mx, self.params
        w_us, w_mx = us.salience[wi[:, None], k], mx.salience[wi[:, None], k]
        d_us, d_mx = us.disagreement[wi[:, None], k], mx.disagreement[wi[:, None], k]
        pi = self.pressure[wi]
        if self.lever_index is None:
            has_lever = np.zeros(len(wi), bool)
            lw_us = lw_mx = np.zeros(len(wi))
        else:
            has_lever = tables[wi, self.lever_index] == ji
            lw_us = np.where(has_lever, us.salience[wi, self.lever_index], 0.0)
            lw_mx = np.where(has_lever, mx.salience[wi, self.lever_index], 0.0)
        size_i, self_cost = p["threat.size"][wi], p["threat.self_cost"][wi]
        th = pressure.threatened(has_lever, m, pi * (size_i > 0))
        kappa = pressure.credibility(pi, p["threat.audience_cost"][wi])
        r_us, r_mx = pressure.reservations(
            w_us, w_mx, d_us, d_mx, lw_us, lw_mx, th, kappa, size_i, self_cost
        )
        vouching = p["guarantor.vouching"][wi]
        trust_us = guarantor.vouched(us.trust[wi], vouching)
        trust_mx = guarantor.vouched(mx.trust[wi], vouching)
        home = None
        if self.level_two:
            expected = np.where(th, kappa * size_i, 0.0)
            home = self._home(wi, k, w_us, w_mx, expected * self_cost, expected)
            r_us, r_mx = home.floors(r_us, r_mx, trust_us, trust_mx)
        tab = Tables(
            w_us, w_mx, d_us, d_mx, trust_us, trust_mx,
            us.concession[wi], mx.concession[wi], r_us, r_mx,
        )  # fmt: skip
        kept = np.nonzero(np.isin(wi, self.record_worlds))[0]  # rows of recorded worlds
        power = (self.power, np.concatenate([self.which_us[wi], self.which_mx[wi]]))
        return Group(wi, k, th, tab, home, kept, power)

    def bargain(self, g: Group) -> bargaining.Outcome:
        """The agents at one group's tables (docs/model.md §3): a negotiator signs only what
        it expects its ratifiers to pass (§4.1)."""
        cfg = self.cfg
        o = negotiate(g.tab, cfg.rounds, cfg.first_mover.value, record=g.kept, power=g.power)
        if g.home is not None:
            o = g.home.sign(g.tab, o, cfg.rounds, cfg.first_mover.value)
        return o

    def _settle(self, groups: list[Group], outcomes: list[bargaining.Outcome]) -> Round:
        """What the tables produced per world and issue; a signed agreement the ratifiers
        reject is not implemented (involuntary defection)."""
        W, n = self.worlds, len(self.issues)
        agreed = np.zeros((W, n), bool)
        x = np.full((W, n), np.nan)
        threat = np.zeros(W, bool)
        failed = np.zeros(W, bool)
        unratified = (np.zeros(W), np.zeros(W))
        lost = (np.zeros((W, n), bool), np.zeros((W, n), bool))
        rounds_sum = np.zeros(W)
        count = np.zeros(W, np.int64)  # tables per world
        rounds = self.cfg.rounds
        for g, o in zip(groups, outcomes, strict=True):
            wi, k, th = g.wi, g.k, g.th
            ok = o.agreed
            if g.home is not None:
                rejected = g.home.rejected(o)
                for side, no in enumerate(rejected):
                    unratified[side][:] += np.bincount(wi, no * 1.0, minlength=W)
                    lost[side][wi[:, None], k] = no[:, None]
                ok = o.agreed & ~rejected[0] & ~rejected[1]
            agreed[wi[:, None], k] = ok[:, None]
            x[wi[:, None], k] = o.x
            threat[wi[th]] = True
            failed[wi[th & ~ok]] = True
            # whole numbers of rounds: their sum is exact in any order
            rounds_sum += np.bincount(wi, np.minimum(o.round + 1, rounds), minlength=W)
            self._keep(g.kept, wi, k, g.tab, o)
            count += np.bincount(wi, minlength=W)
        return Round(agreed, x, threat, failed, rounds_sum / count, unratified, lost)

    def _home(self, wi, k, w_us, w_mx, penalty_us, penalty_mx) -> ratification.Home:
        lever = np.zeros(k.shape) if self.lever_index is None else (k == self.lever_index) * 1.0
        return ratification.Home(
            self.us.ratifiers, self.mx.ratifiers, wi, k, w_us, w_mx,
            self.us.disagreement[wi[:, None], k], self.mx.disagreement[wi[:, None], k],
            lever, penalty_us, penalty_mx,
        )  # fmt: skip

    def winsets(self) -> tuple[np.ndarray, np.ndarray]:
        """Each side's believed win-set on the comprehensive package (all issues on one table):
        the share of its frontier the side expects its ratifiers to ratify, (W,) each; NaN for
        a side without ratifiers (docs/model.md §4.1)."""
        W, n = self.worlds, len(self.issues)
        if not self.level_two:
            return np.full(W, np.nan), np.full(W, np.nan)
        wi, k = np.arange(W), np.tile(np.arange(n), (W, 1))
        pi, p = self.pressure, self.params
        has_lever = np.full(W, self.lever_index is not None)
        th = pressure.threatened(has_lever, n, pi * (p["threat.size"] > 0))
        kappa = pressure.credibility(pi, p["threat.audience_cost"])
        expected = np.where(th, kappa * p["threat.size"], 0.0)
        home = self._home(
            wi, k, self.us.salience, self.mx.salience, expected * p["threat.self_cost"], expected
        )
        return home.winsets()

    def _implement(self, r: Round, u_us, u_mx):
        """Keep or renege on each commitment (docs/model.md §4) and gather trust evidence."""
        d_us, d_mx = self.us.disagreement, self.mx.disagreement
        eps = 1e-12
        costly_us = r.agreed & (r.x < d_us - eps)  # the US concedes below its no-deal value
        costly_mx = r.agreed & (r.x > 1.0 - d_mx + eps)
        noise = self.params["noise"][:, None]
        watch = self.params["guarantor.monitoring"]
        broke_us = r.agreed & ~self.us.keeps(u_us, costly_us, noise, watch)
        broke_mx = r.agreed & ~self.mx.keeps(u_mx, costly_mx, noise, watch)
        # a costly commitment broken alone retreats to the reneger's rational point;
        # anything else broken leaves the issue without agreement
        x = np.where(broke_us & costly_us, d_us, r.x)
        x = np.where(broke_mx & costly_mx, 1.0 - d_mx, x)
        settled = r.agreed & ~(
            (broke_us & ~costly_us) | (broke_mx & ~costly_mx) | (broke_us & broke_mx)
        )
        cw = self.params["confidence_weight"]
        kept_us, kept_mx = r.agreed & ~broke_us, r.agreed & ~broke_mx
        bad_us, bad_mx = broke_us.sum(1), broke_mx.sum(1)
        if self.level_two:  # a failed ratification, read partly as reneging
            unseen = 1.0 - self.params["ratification.visible"]
            bad_us, bad_mx = bad_us + unseen * r.lost[0].sum(1), bad_mx + unseen * r.lost[1].sum(1)
        self.us.observe(  # the US learns about Mexico
            np.sum(kept_mx & costly_mx, 1) + cw * np.sum(kept_mx & ~costly_mx, 1), bad_mx
        )
        self.mx.observe(
            np.sum(kept_us & costly_us, 1) + cw * np.sum(kept_us & ~costly_us, 1), bad_us
        )
        v_us = np.where(settled, x, d_us)
        v_mx = np.where(settled, 1.0 - x, d_mx)
        implemented = r.agreed & ~broke_us & ~broke_mx
        return metrics.Implemented(v_us, v_mx, implemented, broke_us.sum(1) + broke_mx.sum(1))

    def _pressure(self, r: Round, out, forced, u):
        """Backlash from threats and unilateral US action; returns who acted alone (W,)."""
        pi, p, mx = self.pressure, self.params, self.mx
        if self.backlash_index is not None:
            mx.beta = mx.beta + r.threat * p["backlash.trust"] * pi
            mx.salience = pressure.raise_salience(
                mx.salience, self.backlash_index, r.threat * p["backlash.salience"] * pi
            )
        if self.unilateral_index is None:
            return np.zeros(self.worlds, bool)
        missing = ~out.implemented[:, self.unilateral_index]
        acts = forced | (missing & (u < pi * p["unilateral.rate"]))
        if self.backlash_index is not None:
            mx.beta = mx.beta + acts * p["unilateral.trust"]
            mx.salience = pressure.raise_salience(
                mx.salience, self.backlash_index, acts * p["unilateral.salience"]
            )
        return acts

    def _keep(self, kept, wi, k, tab: Tables, o) -> None:
        """Add the tables ``kept`` (rows of this batch; ``o.offers`` holds theirs) to the record."""
        for row, b in enumerate(kept):
            self.record.append(
                TableRecord(
                    episode=self.episode,
                    world=int(wi[b]),
                    issues=[self.issues[i] for i in k[b]],
                    w_us=tab.w_us[b] / tab.w_us[b].sum(),
                    w_mx=tab.w_mx[b] / tab.w_mx[b].sum(),
                    d_us=tab.d_us[b],
                    d_mx=tab.d_mx[b],
                    reservation=(float(tab.r_us[b]), float(tab.r_mx[b])),
                    trust=(float(tab.trust_us[b]), float(tab.trust_mx[b])),
                    first_mover=self.cfg.first_mover.value,
                    offers=o.offers[row],
                    round=int(o.round[b]),
                    agreed=bool(o.agreed[b]),
                    x=o.x[b],
                )
            )


def _report(model: LinkageModel, name: str) -> np.ndarray:
    return model.metrics[name]
