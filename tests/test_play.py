"""Play mode (sim/play/game.py): the agent a student plays against is the model's own engine.

The strongest check: a scripted student who plays the engine's own strategy for its side (its
offers at its aspiration, its acceptance rule) must give, through the game, exactly the
numbers of the model playing both sides, episode after episode, bit for bit.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import bargaining
from sim.play.game import BadMove, Game, Setup

CASES = [
    ("tariff_threat_2019", "linked", "MX"),
    ("tariff_threat_2019", "delinked", "US"),
    ("baseline", "chosen (consent)", "MX"),
    ("tariff_threat_2019", "chosen (consent)", "US"),
    ("tariff_threat_2019", "chosen (coercive)", "US"),
    ("tariff_threat_2019", "chosen (coercive)", "MX"),
    ("cienfuegos_2020", "linked", "MX"),  # a ratifier (level II) from episode 12
    ("merida_2007", "delinked", "MX"),
]


def engine_move(game: Game) -> dict:
    """The move the model's own negotiator would make in the student's seat."""
    if game.question is not None:  # framework=chosen: the answer the side's rule gives
        return {"episode": game.episode, "choose": game.question["rule_says"]}
    side = game.student.lower()
    tables = {}
    for i, t in enumerate(game.tables):
        if t.closed:
            continue
        last = t.offers[-1] if t.offers else None
        if game.can_accept(t):
            mine = last.values[game.student == "MX"]
            if mine >= t.aspiration[side].at(np.array([last.round]))[0] - bargaining.TOL:
                if game.signs(t, last.x):
                    tables[str(i)] = {"accept": True}
                    continue
        if game.round >= game.cfg.rounds:
            tables[str(i)] = {"walk": True}
            continue
        path = t.paths[side]
        budget = path.top - t.aspiration[side].at(np.array([game.round]))
        x = bargaining.position(path, side, budget)[0]
        tables[str(i)] = {"offer": dict(zip(t.issues, map(float, x), strict=True))}
    return {"episode": game.episode, "round": game.round, "tables": tables}


def fixed_move(game: Game, value: float = 0.5, accept_from: int = 99) -> dict:
    if game.question is not None:
        return {"episode": game.episode, "choose": True}
    tables = {}
    for i, t in enumerate(game.tables):
        if t.closed:
            continue
        if game.can_accept(t) and game.round >= accept_from:
            tables[str(i)] = {"accept": True}
        elif game.round < game.cfg.rounds:
            tables[str(i)] = {"offer": {k: value for k in t.issues}}
        else:
            tables[str(i)] = {"walk": True}
    return {"episode": game.episode, "round": game.round, "tables": tables}


def play(game: Game, strategy) -> Game:
    while not game.finished:
        game.move(strategy(game))
    return game


def same(a, b) -> bool:
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("scenario, framework, side", CASES)
def test_engine_in_the_students_seat_gives_the_models_numbers(scenario, framework, side):
    episodes = 14 if scenario == "cienfuegos_2020" else 4
    game = play(Game(Setup(scenario, framework, side, episodes=episodes, rounds=12)), engine_move)
    for mine, bench in zip(game.results, game.bench, strict=True):
        diff = [k for k in bench if not same(mine[k], bench[k])]
        assert not diff, f"episode {bench['episode']}: {diff}"
    model, bench = game.model.record, game.bench_model.record
    assert len(model) == len(bench)
    for a, b in zip(model, bench, strict=True):
        assert a.issues == b.issues and a.round == b.round and a.agreed == b.agreed
        rounds = np.arange(len(a.offers))
        shown = rounds <= a.round  # the dance shows offers up to the agreement
        agents = shown & np.isin(rounds, game.turns[game.agent])
        assert np.array_equal(a.offers[agents], b.offers[agents])
        # the student's offers are valued from their positions (bargaining.values), the
        # engine's along its concession path: the same numbers up to rounding
        assert np.allclose(a.offers[shown], b.offers[shown], rtol=0, atol=1e-12)
        assert np.array_equal(a.x, b.x, equal_nan=True)


@pytest.mark.parametrize("scenario, framework, side", CASES[:3])
def test_agents_replies_are_the_engines_offers(scenario, framework, side):
    """Whatever the student offers, the agent's offer in each of its rounds is the engine's
    offer for that table and round (offers depend on the aspiration, not the history)."""
    game = Game(Setup(scenario, framework, side, episodes=3, rounds=10))
    agent = game.agent.lower()
    while not game.finished:
        episode = game.episode
        engine = [
            bargaining.negotiate(t.tab, game.cfg.rounds, game.cfg.first_mover.value, record=True)
            for t in game.tables
        ]
        tables = list(game.tables)
        while not game.finished and game.episode == episode:
            game.move(fixed_move(game, 0.5 if side == "MX" else 0.6, accept_from=7))
        for t, e in zip(tables, engine, strict=True):
            theirs = [o for o in t.offers if o.by == game.agent]
            assert theirs, "the agent made no offer"
            for o in theirs:
                assert o.values == tuple(e.offers[0, o.round]), (o.round, o.values)
                a = t.aspiration[agent].at(np.array([o.round]))
                assert o.x == list(bargaining.offer(t.tab, agent, a)[0])


def test_values_of_a_package_match_the_offer_paths():
    game = Game(Setup("tariff_threat_2019", "linked", "MX", episodes=1))
    t = game.tables[0]
    for r in range(game.cfg.rounds):
        o = game.agent_offer(t, r)
        v = bargaining.values(t.tab, np.array([o.x]))[0]
        assert np.allclose(v, o.values, atol=1e-12)


def test_values_by_hand():
    """One issue, d_US = 0.3, d_MX = 0.4 (MX's rational point x = 0.6), trust 0.5 both:
    at x = 0.8 the US has 0.6 at face value and 0.2 beyond 0.6 at half value: 0.7;
    Mexico has 0.2 at face value (all above d_US = 0.3): 0.2."""
    one = np.ones(1)
    tab = bargaining.Tables(
        one[None], one[None], 0.3 * one[None], 0.4 * one[None],
        0.5 * one, 0.5 * one, one, one, 0 * one, 0 * one,
    )  # fmt: skip
    assert np.allclose(bargaining.values(tab, np.array([[0.8]])), [[0.7, 0.2]])
    # at x = 0.1 Mexico has 0.6 at face value (down to 0.3) plus 0.2 below it at half: 0.8
    assert np.allclose(bargaining.values(tab, np.array([[0.1]])), [[0.1, 0.8]])


def test_replay_rebuilds_the_game():
    game = Game(Setup("tariff_threat_2019", "delinked", "US", episodes=2, rounds=6))
    for _ in range(3):
        game.move(fixed_move(game, 0.8))
    again = Game.replay(game.setup, game.moves)
    assert (again.episode, again.round) == (game.episode, game.round)
    for a, b in zip(again.tables, game.tables, strict=True):
        assert a.offers == b.offers
    play(game, fixed_move)
    again = Game.replay(game.setup, game.moves)
    for a, b in zip(again.results, game.results, strict=True):
        assert all(same(a[k], b[k]) for k in b)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m["tables"]["0"].update(offer={"trade": "high"}), "offer.trade='high'"),
        (lambda m: m["tables"]["0"].update(offer={"trade": 1.5}), "offer.trade=1.5"),
        (lambda m: m["tables"]["0"].update(offer={"trade": float("nan")}), "offer.trade=nan"),
        (lambda m: m["tables"]["0"]["offer"].update(security=0.5), "security not on this table"),
        (lambda m: m.update(round=m["round"] + 2), "was it sent twice"),
        (lambda m: m["tables"].update({"9": {"walk": True}}), "9 not open"),
        (lambda m: m["tables"].pop("1"), "no move for open table 1"),
        (lambda m: m["tables"].update({"0": {"bid": 1}}), "offer, accept, walk"),
    ],
)
def test_bad_moves_are_refused_and_change_nothing(change, message):
    game = Game(Setup("tariff_threat_2019", "delinked", "MX", episodes=1, rounds=6))
    move = fixed_move(game)
    change(move)
    before = (game.round, [list(t.offers) for t in game.tables], list(game.moves))
    with pytest.raises(BadMove, match=message.replace("(", r"\(")):
        game.move(move)
    assert before == (game.round, [list(t.offers) for t in game.tables], game.moves)


def test_a_move_posted_twice_is_refused():
    game = Game(Setup("baseline", "linked", "US", episodes=1, rounds=6))
    move = fixed_move(game, 0.9)
    game.move(move)
    with pytest.raises(BadMove, match="sent twice"):
        game.move(move)


def test_bad_setup_names_the_key():
    with pytest.raises(BadMove, match="side='CA' is not one of US, MX"):
        Setup("baseline", "linked", "CA").check(["baseline"])
    with pytest.raises(BadMove, match=r"episodes=0 is not a whole number in \[1, 10\]"):
        Setup("baseline", "linked", "US", episodes=0).check(["baseline"])


def test_the_debriefs_nash_point_is_the_metrics():
    """The frontier picture's D is the metrics' no-deal utility and its Nash point is
    ``issues.nash_point`` there, which scipy's maximiser of the Nash product confirms."""
    from scipy.optimize import minimize

    from sim.issues import nash_point
    from sim.play import debrief

    game = play(Game(Setup("tariff_threat_2019", "delinked", "MX", episodes=2)), fixed_move)
    w_us, w_mx = game.model.us.base_salience[0], game.model.mx.base_salience[0]
    for e, result in zip(debrief.episodes(game), game.results, strict=True):
        d = (result["us_utility"] - result["us_gain"], result["mx_utility"] - result["mx_gain"])
        assert np.allclose(e.student.d, d, rtol=0, atol=1e-12)
        assert e.student.nash == nash_point(w_us, w_mx, *e.student.d)

        def minus_product(x, d=e.student.d):
            return -max(w_us @ x - d[0], 0) * max(w_mx @ (1 - x) - d[1], 0)

        best = min(
            (minimize(minus_product, x0, bounds=[(0, 1)] * len(w_us)) for x0 in
             np.random.default_rng(0).random((20, len(w_us)))), key=lambda r: r.fun,
        )  # fmt: skip
        nash = e.student.nash
        assert np.isclose(-best.fun, (nash[0] - e.student.d[0]) * (nash[1] - e.student.d[1]),
                          atol=1e-7)  # fmt: skip


def test_left_on_the_table_by_hand():
    """Frontier (1, 0) - (0.6, 0.7) - (0, 1). From (0.5, 0.5) the best point giving both at
    least as much is the vertex (0.6, 0.7): 0.3 left. From (0.6, 0.7): nothing."""
    from sim.play.debrief import left_on_table

    f_us, f_mx = np.array([1.0, 0.6, 0.0]), np.array([0.0, 0.7, 1.0])
    assert np.isclose(left_on_table((0.5, 0.5), f_us, f_mx), 0.3)
    assert left_on_table((0.6, 0.7), f_us, f_mx) < 1e-12
    # from (0.9, 0.1): on the first edge (1 - 0.4s, 0.7s) the US keeps 0.9 up to s = 0.25,
    # where the sum 1 + 0.3s is largest: (0.9, 0.175), 0.075 more
    assert np.isclose(left_on_table((0.9, 0.1), f_us, f_mx), 0.075)


def test_debrief_in_words_and_pictures():
    from sim.play import debrief

    game = play(Game(Setup("tariff_threat_2019", "linked", "MX", episodes=2)), engine_move)
    lines = debrief.words(game)
    assert len(lines) == 3
    assert "you (Mexico) got" in lines[0] and "as much as the agent in your seat" in lines[-1]
    for png in (debrief.frontier_png(game), debrief.dance_png(game)):
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_the_role_plays_numbers_in_the_teaching_notes():
    """docs/teaching.md quotes the agent's benchmark (its own snippet, run here) and what a
    patient and an eager scripted Mexico get on one table: they must stay true."""
    import contextlib
    import io
    import re
    from pathlib import Path

    from sim.play.debrief import episodes

    text = (Path(__file__).resolve().parents[1] / "docs" / "teaching.md").read_text()
    role_play = text[text.index("## Role play") :]
    snippet = re.search(r"```python\n(.*?)```", role_play, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(snippet, {})
    printed = out.getvalue()
    for line in ("linked US: utility 0.62, left on the table 0.20",
                 "linked MX: utility 0.54, left on the table 0.20",
                 "delinked US: utility 0.42, left on the table 0.43",
                 "delinked MX: utility 0.50, left on the table 0.43"):  # fmt: skip
        assert line in printed, printed
        utility, left = line.split("utility ")[1].split(", left on the table ")
        assert utility in role_play and left in role_play  # the text quotes them

    def mean_you(strategy):
        game = play(Game(Setup("tariff_threat_2019", "linked", "MX")), strategy)
        return f"{np.mean([e.you for e in episodes(game)]):.2f}"

    assert mean_you(lambda g: fixed_move(g, 0.3, accept_from=6)) == "0.82"  # asks 0.7, waits
    assert mean_you(lambda g: fixed_move(g, 0.5, accept_from=0)) == "0.26"  # accepts at once
    assert "gets 0.82 per episode" in role_play and "offer gets 0.26" in role_play


def test_the_student_answers_the_framework_question():
    """framework=chosen asks the student's side at the start of each episode; a no from either
    side keeps the issues apart under consent, and a Mexican no to the coercive bundle brings
    the threat (docs/model.md §2.1)."""
    game = Game(Setup("tariff_threat_2019", "chosen (consent)", "MX", episodes=2))
    q = game.question
    assert q["rule"] == "consent" and isinstance(q["rule_says"], bool) and game.tables == []
    for bad, message in [({"episode": 1, "choose": "yes"}, "choose='yes'"),
                         ({"episode": 1, "round": 0, "tables": {}}, "choose=None"),
                         ({"episode": 2, "choose": True}, "sent twice")]:  # fmt: skip
        with pytest.raises(BadMove, match=message):
            game.move(bad)
    assert game.moves == [] and game.question is q
    game.move({"episode": 1, "choose": False})
    assert game.choices[-1]["tables"] == [[k] for k in game.model.issues]
    assert len(game.tables) == 4 and game.question is None
    with pytest.raises(BadMove, match="no framework question is open"):
        game.move({"episode": 1, "round": game.round, "choose": True})

    game = Game(Setup("tariff_threat_2019", "chosen (coercive)", "MX", episodes=1))
    assert "accept it?" in game.question["text"]
    game.move({"episode": 1, "choose": False})
    assert game.choices[-1]["refused"]  # the agent offered the bundle, Mexico refused it
    play(game, fixed_move)
    assert game.results[0]["threats"] == 1.0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    framework=st.sampled_from(["linked", "delinked", "chosen (coercive)"]),
    side=st.sampled_from(["US", "MX"]),
    seed=st.integers(0, 10_000),
)
def test_any_student_finishes_and_replays(framework, side, seed):
    """A student who offers, accepts, walks away and answers at random: the game ends after
    its episodes, every offer is a package in [0, 1], and replaying the moves gives the same
    game."""
    rng = np.random.default_rng(seed)
    game = Game(Setup("tariff_threat_2019", framework, side, episodes=2, rounds=6, seed=seed))

    def random_move(g):
        if g.question is not None:
            return {"episode": g.episode, "choose": bool(rng.random() < 0.5)}
        tables = {}
        for i, t in enumerate(g.tables):
            if t.closed:
                continue
            u = rng.random()
            if g.can_accept(t) and (u < 0.2 or g.round >= g.cfg.rounds):
                tables[str(i)] = {"accept": True}
            elif u < 0.25 or g.round >= g.cfg.rounds:
                tables[str(i)] = {"walk": True}
            else:
                tables[str(i)] = {"offer": {k: float(rng.random()) for k in t.issues}}
        return {"episode": g.episode, "round": g.round, "tables": tables}

    play(game, random_move)
    assert len(game.results) == 2 and len(game.moves) <= 2 * (game.cfg.rounds + 1)
    assert all(0 <= v <= 1 for *_, o in game.log for v in o.x)
    again = Game.replay(game.setup, game.moves)
    assert [o for *_, o in again.log] == [o for *_, o in game.log]
    for a, b in zip(again.results, game.results, strict=True):
        assert all(same(a[k], b[k]) for k in b)
