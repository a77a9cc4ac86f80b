"""A game: a student at one side of the table, the model's own negotiator at the other.

The agent is ``LinkageModel`` at one world (docs/model.md): ``LinkageModel.open`` starts an
episode and hands over its tables as the model would bargain at them, the student and the
agent alternate offers on every table, and ``LinkageModel.close`` finishes the episode with
what they agreed, so reneging, threats, backlash and trust run as in the model between
episodes. The agent's offers and acceptances are the engine's own (``sim.bargaining``): its
aspiration (Faratin et al. 1998) falls with the round whatever the student offers, it offers
the package that gives it that aspiration and the most, by its estimate, to the partner
(Sebenius 1983), and it accepts an offer worth its current aspiration to it (Baarslag et al.
2014). Its estimate of the student's weights is the model's: the true weights of the side
the student plays, mixed with ignorance by its trust (docs/model.md §3.4); the model's
negotiators do not learn from offers, and neither does the agent.

A game is its :class:`Setup` and the student's moves: replaying the moves rebuilds it number
for number (``Game.replay``), which is how a stored class survives a restart.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from sim import bargaining, choice
from sim.bargaining import Aspiration, Outcome, Tables
from sim.config import validate
from sim.model import Group, LinkageModel
from sim.seminar import CHOSEN, Params, config_for, scenario_start

SIDES = ("US", "MX")
NAMES = {"US": "the United States", "MX": "Mexico"}
FRAMEWORKS = ["linked", "delinked", *CHOSEN]
RANGES = {"episodes": (1, 10), "rounds": (2, 40), "seed": (0, 2**31 - 1)}  # whole numbers


class BadMove(ValueError):
    """A move or a setup the game refuses; the message says what and why."""


@dataclass(frozen=True)
class Setup:
    """What a student picks: the scenario, the framework, the side; and the game's length.

    ``rounds`` is the deadline of every table (the model's ``rounds``): few, so that a person
    can play them; the agent concedes over them as it would over the model's 50."""

    scenario: str
    framework: str
    side: str
    episodes: int = 3
    rounds: int = 8
    seed: int = 0

    def check(self, scenarios: list[str]) -> None:
        for key, value, allowed in (
            ("scenario", self.scenario, scenarios),
            ("framework", self.framework, FRAMEWORKS),
            ("side", self.side, list(SIDES)),
        ):
            if value not in allowed:
                raise BadMove(f"{key}={value!r} is not one of {', '.join(allowed)}")
        for key, (low, top) in RANGES.items():
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= top:
                raise BadMove(f"{key}={value!r} is not a whole number in [{low}, {top}]")

    def config(self):
        """The engine's config: the scenario at its own start, one world."""
        start = scenario_start(self.scenario)
        cfg = config_for(Params(self.scenario, self.framework, start["trust"], start["pressure"],
                                self.episodes, self.seed, 1))  # fmt: skip
        cfg.rounds = self.rounds
        validate(cfg)
        return cfg


@dataclass
class Offer:
    """One offer at a table: its round, who made it, the positions (1 = US ideal) and its
    risk-adjusted value to the US and to Mexico, normalised on the table (the dance's plane)."""

    round: int
    by: str
    x: list[float]
    values: tuple[float, float]


@dataclass(eq=False)  # a table is itself: compared by identity
class Table:
    """One table of the open episode, as the student and the agent play it."""

    group: Group
    row: int  # the table's row in its group
    issues: list[str]
    tab: Tables  # this table alone (B = 1)
    aspiration: dict[str, Aspiration]  # the engine's, per side ("us", "mx")
    paths: dict
    offers: list[Offer] = field(default_factory=list)
    closed: bool = False
    agreed_round: int | None = None  # the round of the accepted offer
    note: str = ""  # why the last acceptance was not signed (level II), for the page


class Game:
    """One student's game against the agent; see the module docstring."""

    def __init__(self, setup: Setup):
        self.setup = setup
        self.cfg = setup.config()
        self.student, self.agent = setup.side, SIDES[1 - SIDES.index(setup.side)]
        self.t, *turns = bargaining.turns(self.cfg.rounds, self.cfg.first_mover.value)
        self.turns = dict(zip(SIDES, turns, strict=True))
        self.model = LinkageModel(self.cfg, record_worlds=[0])
        self.bench = self._benchmark()
        self.results: list[dict] = []  # per finished episode: what the model's metrics say
        self.moves: list[dict] = []  # the student's moves, as posted (to replay the game)
        self.log: list[tuple[int, int, list[str], Offer]] = []  # every offer: episode, table
        self.choices: list[dict] = []  # framework=chosen: what the student said, what came
        self._open()

    # --- the agent against itself: the benchmark ------------------------------------------
    def _benchmark(self) -> list[dict]:
        """The model run through before the game starts, with the agent in the student's
        seat: same config, same seed, so the same draws of reneging, threats and unilateral
        action as the student's game. Each episode's results; the run is ``bench_model``."""
        self.bench_model = bench = LinkageModel(self.cfg, record_worlds=[0])
        results = []
        for _ in range(self.cfg.episodes):
            bench.step()
            results.append(episode_result(bench))
        return results

    # --- episodes -------------------------------------------------------------------------
    def _open(self) -> None:
        """Begin an episode; under ``framework=chosen`` ask the student first."""
        self.opened = self.model.begin()
        self.round = 0
        self.tables = []
        self.question = question(self) if self.model.chosen[0] else None
        if self.question is None:
            self._seat(None)

    def _seat(self, say: bool | None) -> None:
        """Set the episode's tables (with the student's answer, if asked) and let the agent
        open where it moves first."""
        answer = None if say is None else {self.student: np.array([say])}
        self.model.seat(self.opened, answer)
        if say is not None:
            row, refused = self.opened.tables[0], self.opened.refused
            self.choices.append({
                "episode": self.episode,
                "said": say,
                "tables": [[k for k, j in zip(self.model.issues, row, strict=True) if j == t]
                           for t in sorted(set(row))],
                "refused": bool(refused is not None and refused[0]),
            })  # fmt: skip
        rounds, first = self.cfg.rounds, self.cfg.first_mover.value
        for g in self.opened.groups:
            engine = bargaining.negotiate(g.tab, rounds, first, power=g.power)  # for its tops
            for row in range(len(g.wi)):
                tab = Tables(*(getattr(g.tab, f.name)[[row]] for f in fields(g.tab)))
                best = engine.best[row]
                a = {
                    "us": Aspiration(self.t, tab.r_us, best[[0]], tab.e_us),
                    "mx": Aspiration(self.t, tab.r_mx, best[[1]], tab.e_mx),
                }
                issues = [self.model.issues[i] for i in g.k[row]]
                self.tables.append(Table(g, row, issues, tab, a, bargaining.paths(tab)))
        self._agent_turn()

    @property
    def finished(self) -> bool:
        return len(self.results) == self.cfg.episodes

    @property
    def episode(self) -> int:
        return self.model.episode

    def _agent_turn(self) -> None:
        """The agent offers on every open table in its rounds, until it is the student's turn
        or time is up; then closes the episode once every table is settled."""
        T = self.cfg.rounds
        while self.round < T and self.round in self.turns[self.agent]:
            for table in self.open_tables():
                self._offer(table, self.agent_offer(table, self.round))
            self.round += 1
        if self.round >= T and not any(self.can_accept(t) for t in self.open_tables()):
            for table in self.open_tables():  # time is up, and no offer is left to accept
                table.closed = True
        if not self.open_tables():
            self._close()

    def open_tables(self) -> list[Table]:
        return [t for t in self.tables if not t.closed]

    def can_accept(self, table: Table) -> bool:
        last = table.offers[-1] if table.offers else None
        return last is not None and last.by == self.agent and last.round == self.round - 1

    def agent_offer(self, table: Table, r: int) -> Offer:
        """The engine's offer of the agent in round ``r`` (``bargaining._offers``)."""
        side = self.agent.lower()
        path = table.paths[side]
        budget = path.top - table.aspiration[side].at(np.array([r]))
        x = bargaining.position(path, side, budget)[0]
        own = (path.top - np.minimum(budget, path.C[:, -1]))[0]
        other = path.partner_value(budget[:, None])[0, 0]
        values = (own, other) if side == "us" else (other, own)
        return Offer(r, self.agent, [float(v) for v in x], (float(values[0]), float(values[1])))

    def _offer(self, table: Table, offer: Offer) -> None:
        table.offers.append(offer)
        self.log.append((self.episode, self.tables.index(table), table.issues, offer))

    def signs(self, table: Table, x) -> bool:
        """Level II: both negotiators expect their ratifiers to pass ``x`` (docs/model.md §4.1)."""
        home = table.group.home
        return home is None or bool(
            home.passes(np.asarray(x)[None], np.array([table.row]), True)[0]
        )

    def _close(self) -> None:
        outcomes = []
        T = self.cfg.rounds
        for g in self.opened.groups:
            rows = [t for t in self.tables if t.group is g]
            offers = np.full((len(rows), T, 2), np.nan)
            for i, t in enumerate(rows):
                for o in t.offers:
                    offers[i, o.round] = o.values
            agreed = np.array([t.agreed_round is not None for t in rows])
            x = np.array([_agreed_x(t) for t in rows])
            at = np.array([T if t.agreed_round is None else t.agreed_round for t in rows])
            outcomes.append(Outcome(agreed, x, at, offers[g.kept], None))
        self.model.close(self.opened, outcomes)
        self.results.append(episode_result(self.model))
        if not self.finished:
            self._open()

    # --- the student's move ---------------------------------------------------------------
    def move(self, move: dict) -> None:
        """Play the student's move: ``{"episode": e, "round": r, "tables": {i: {"accept":
        true} | {"walk": true} | {"offer": {issue: position}}}}`` for every open table ``i``.
        Under ``framework=chosen`` an episode starts with ``{"episode": e, "choose": yes}``,
        the answer to :func:`question`. Everything is checked before anything is played: a
        refused move changes nothing."""
        if self.question is not None:
            yes = self._check_choice(move)
            self.moves.append(move)
            self.question = None
            self._seat(yes)
            return
        plays = self._check(move)
        self.moves.append(move)
        r = self.round
        for table, kind, x in plays:
            table.note = ""
            if kind == "walk":
                table.closed = True
            elif kind == "accept":
                offer = table.offers[-1]
                if self.signs(table, offer.x):
                    table.closed, table.agreed_round = True, offer.round
                else:
                    table.note = "not signed: a negotiator expects its ratifiers to reject it"
            else:
                values = bargaining.values(table.tab, np.array([x]))[0]
                offer = Offer(r, self.student, [float(v) for v in x], tuple(map(float, values)))
                self._offer(table, offer)
                mine = values[SIDES.index(self.agent)]
                wanted = table.aspiration[self.agent.lower()].at(np.array([r]))[0]
                if mine >= wanted - bargaining.TOL and self.signs(table, x):
                    table.closed, table.agreed_round = True, r
        self.round += 1
        self._agent_turn()

    def _check_choice(self, move) -> bool:
        episode = move.get("episode") if isinstance(move, dict) else None
        if episode != self.episode:
            raise BadMove(
                f"the answer is for episode {episode}, but the game is at episode "
                f"{self.episode}: was it sent twice?"
            )
        yes = move.get("choose")
        if not isinstance(yes, bool):
            raise BadMove(f"choose={yes!r}: answer the framework question with true or false")
        return yes

    def _check(self, move: dict) -> list[tuple[Table, str, list[float] | None]]:
        if self.finished:
            raise BadMove("the game is over: no more moves")
        if not isinstance(move, dict):
            raise BadMove("a move is an object with episode, round and tables")
        if "choose" in move:
            raise BadMove("choose: no framework question is open in this episode")
        at = (move.get("episode"), move.get("round"))
        if at != (self.episode, self.round):
            raise BadMove(
                f"the move is for episode {at[0]}, round {at[1]}, but the game is at episode "
                f"{self.episode}, round {self.round}: was it sent twice?"
            )
        given = move.get("tables")
        if not isinstance(given, dict):
            raise BadMove("tables: expected an object {table number: move}")
        open_ = {str(self.tables.index(t)): t for t in self.open_tables()}
        unknown = sorted(set(map(str, given)) - set(open_))
        if unknown:
            raise BadMove(f"tables: {', '.join(unknown)} not open; open: {', '.join(open_)}")
        missing = sorted(set(open_) - set(map(str, given)))
        if missing:
            raise BadMove(f"tables: no move for open table {', '.join(missing)}")
        plays = []
        for key, table in open_.items():
            m = given.get(key, given.get(int(key)))
            plays.append((table, *self._check_table(key, table, m)))
        return plays

    def _check_table(self, key: str, table: Table, m) -> tuple[str, list[float] | None]:
        if (
            not isinstance(m, dict)
            or len(m) != 1
            or next(iter(m)) not in ("offer", "accept", "walk")
        ):
            raise BadMove(f"table {key}: expected one of offer, accept, walk")
        kind, value = next(iter(m.items()))
        if kind == "accept" and not self.can_accept(table):
            raise BadMove(f"table {key}: there is no offer of the agent to accept")
        if kind != "offer":
            return kind, None
        if self.round >= self.cfg.rounds:
            raise BadMove(f"table {key}: no time left to offer; accept or walk away")
        if not isinstance(value, dict):
            raise BadMove(f"table {key}: offer: expected an object {{issue: position}}")
        off = sorted(set(value) - set(table.issues))
        if off:
            raise BadMove(
                f"table {key}: {', '.join(map(str, off))} not on this table "
                f"({', '.join(table.issues)})"
            )
        x = []
        for issue in table.issues:
            v = value.get(issue)
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if not ok or not 0.0 <= v <= 1.0:
                raise BadMove(f"table {key}: offer.{issue}={v!r} is not a number in [0, 1]")
            x.append(float(v))
        return kind, x

    @classmethod
    def replay(cls, setup: Setup, moves: list[dict]) -> Game:
        """The game after ``moves``: the same numbers as when they were first played."""
        game = cls(setup)
        for move in moves:
            game.move(move)
        return game

    def summary(self) -> dict:
        return {"setup": asdict(self.setup), "results": self.results, "bench": self.bench}


def question(game: Game) -> dict:
    """What ``framework=chosen`` asks the student's side at the start of an episode
    (docs/model.md §2.1), with what the model's rule for that side expects of a yes."""
    model, side = game.model, game.student
    rule = game.cfg.framework.rule.value
    gain = float(choice.advice(model, rule, side)[0])
    margin = float(model.params["framework.margin"][0])
    issues = model.issues
    if rule == "coercive":
        t = choice.bundle(model)[0]
        inside = [k for k, j in zip(issues, t, strict=True) if (t == j).sum() > 1]
        bundle = " and ".join(inside)
        text = (
            f"Put {bundle} on one table and tell Mexico that refusing it brings the threat?"
            if side == "US"
            else f"If the US puts {bundle} on one table under threat, accept it? Refusing "
            "brings the threat; every other issue stays on a table of its own."
        )
    else:
        text = (
            "Put every issue on one table this episode? One table needs both sides to want it."
            if rule == "consent"
            else "Put every issue on one table this episode?"
        )
    return {
        "text": text,
        "rule": rule,
        "advice": gain,
        "margin": margin,
        "rule_says": gain >= margin,
    }


def _agreed_x(t: Table) -> list[float]:
    if t.agreed_round is None:
        return [math.nan] * len(t.issues)
    return next(o.x for o in t.offers if o.round == t.agreed_round)


def episode_result(model: LinkageModel) -> dict:
    """World 0's metrics of the episode just closed, as plain numbers."""
    out = {k: float(v[0]) for k, v in model.metrics.items()}
    out["episode"] = model.episode
    out["issues_linked"] = bool(out["linked"])
    return out
