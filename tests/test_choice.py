"""The framework as a choice (sim/choice.py, docs/model.md §2.1): the vectorised Nash point
against the scalar one, hand-worked premiums, the rules' guarantees, and the identities
with the fixed frameworks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import choice, design, runner
from sim.config import load
from sim.issues import nash_point, pareto_frontier
from sim.model import LinkageModel

weights = st.lists(st.floats(0.01, 1.0), min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(weights, st.data())
def test_vectorised_nash_point_is_the_scalar_one(w_us, data):
    n = len(w_us)
    w_mx = data.draw(st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n))
    d_us, d_mx = data.draw(st.floats(0, 0.6)) * sum(w_us), data.draw(st.floats(0, 0.6)) * sum(w_mx)
    u_us, u_mx, _ = pareto_frontier(w_us, w_mx)
    v_us, v_mx, found = choice.nash(u_us[None], u_mx[None], np.array([d_us]), np.array([d_mx]))
    expected = nash_point(w_us, w_mx, d_us, d_mx)
    if expected is None:
        assert not found[0]
    else:
        assert found[0]
        assert np.isclose(v_us[0], expected[0]) and np.isclose(v_mx[0], expected[1])
        assert np.isclose((v_us[0] - d_us) * (v_mx[0] - d_mx),
                          (expected[0] - d_us) * (expected[1] - d_mx))  # fmt: skip


# Two issues, no-deal values 0, trust 1 (each side knows the other's weights), no pressure.
# Worked by hand: apart, each issue is split at x = 1/2, so each side gets half its weights,
# 0.5. Together the frontier runs (1, 0) -> vertex -> (0, 1) and the Nash point is the vertex:
#   complementary (0.8, 0.2) / (0.2, 0.8): vertex (0.8, 0.8): premiums +0.3, +0.3
#   one-sided (0.9, 0.1) / (0.5, 0.5): vertex (0.9, 0.5): premiums +0.4, 0.0
#   identical (0.5, 0.5) / (0.5, 0.5): a straight frontier, Nash (0.5, 0.5): premiums 0, 0
PROFILES = {
    "complementary": ((0.8, 0.2), (0.2, 0.8), (0.3, 0.3)),
    "one_sided": ((0.9, 0.1), (0.5, 0.5), (0.4, 0.0)),
    "identical": ((0.5, 0.5), (0.5, 0.5), (0.0, 0.0)),
}
MARGIN = 0.05
LINKS = {  # the rule's verdict at margin 0.05, from the premiums above
    ("complementary", "consent"): True, ("complementary", "us_sets"): True,
    ("complementary", "mx_sets"): True, ("one_sided", "consent"): False,
    ("one_sided", "us_sets"): True, ("one_sided", "mx_sets"): False,
    ("identical", "consent"): False, ("identical", "us_sets"): False,
    ("identical", "mx_sets"): False,
}  # fmt: skip


def two_issue_model(tmp_path, w_us, w_mx, rule):
    """A model of a two-issue scenario (a scenario file: the weights replace the baseline's)."""
    (tmp_path / "scenario").mkdir(exist_ok=True)
    (tmp_path / "scenario" / "two.yaml").write_text(
        "# @package _global_\nscenario: {name: two}\nissues: [trade, security]\n"
        f"countries:\n  US: {{salience: {{trade: {w_us[0]}, security: {w_us[1]}}}, "
        "disagreement: {trade: 0, security: 0}}\n"
        f"  MX: {{salience: {{trade: {w_mx[0]}, security: {w_mx[1]}}}, "
        "disagreement: {trade: 0, security: 0}}\n"
    )
    cfg = load(
        ["scenario=two", "experiment=single", "framework=chosen", f"framework.rule={rule}",
         f"framework.margin={MARGIN}", "trust=1", "pressure=0", "replications=3", "episodes=1"],
        config_dir=tmp_path,
    )  # fmt: skip
    return LinkageModel(cfg, design.cells(cfg))


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("rule", ["consent", "us_sets", "mx_sets"])
def test_premiums_and_verdicts_are_the_hand_worked_ones(profile, rule, tmp_path):
    w_us, w_mx, premiums = PROFILES[profile]
    model = two_issue_model(tmp_path, w_us, w_mx, rule)
    linked, apart = np.zeros((3, 2), np.int64), np.tile([0, 1], (3, 1))
    for side, premium in zip(("US", "MX"), premiums, strict=True):
        got = choice.expected(model, side, linked) - choice.expected(model, side, apart)
        assert np.allclose(got, premium), (side, got)
    model.step()
    assert (model.metrics["linked"] == LINKS[profile, rule]).all()
    want_us, want_mx = (p >= MARGIN for p in premiums)
    assert (model.metrics["blocked_us"] == (not want_us and want_mx)).all()
    assert (model.metrics["blocked_mx"] == (not want_mx and want_us)).all()


@pytest.mark.parametrize("rule, side", [("us_sets", "US"), ("mx_sets", "MX")])
def test_the_side_that_sets_never_expects_less_than_either_fixed_framework(rule, side):
    cfg = load(["experiment=single", "framework=chosen", f"framework.rule={rule}",
                "framework.margin=0", "replications=200", "episodes=3", "trust=0.4"])  # fmt: skip
    model = LinkageModel(cfg, design.cells(cfg))
    n = len(cfg.issues)
    linked, apart = np.zeros((200, n), np.int64), np.tile(np.arange(n), (200, 1))
    for _ in range(cfg.episodes):
        v_linked, v_apart = (choice.expected(model, side, t) for t in (linked, apart))
        v = choice.expected(model, side, choice.choose(model, rule, np.zeros(200)).tables)
        assert (v >= np.maximum(v_linked, v_apart) - 1e-12).all()
        model.step()


def rows(overrides, framework):
    cfg = load(["experiment=single", f"framework={framework}", "experiment.paired=true",
                "replications=40", "episodes=6", "trust=0.4", "pressure=0.6",
                *overrides])  # fmt: skip
    return runner.run_cells(cfg, design.cells(cfg))


def same_numbers(a, b):
    undefined = ("blocked_us", "blocked_mx", "winset_us", "winset_mx")  # NaN != NaN
    skip = {"framework", *undefined, *(f"{k}_ci95" for k in undefined)}
    for table in ("cells", "trajectories"):
        for x, y in zip(a[table], b[table], strict=True):
            assert {k: v for k, v in x.items() if k not in skip} == {
                k: v for k, v in y.items() if k not in skip
            }


def test_consent_with_a_margin_nobody_reaches_is_delinked_bit_for_bit():
    same_numbers(rows(["framework.rule=consent", "framework.margin=100"], "chosen"),
                 rows([], "delinked"))  # fmt: skip


def test_consent_when_both_always_agree_is_linked_bit_for_bit(monkeypatch):
    def agree(model, rule, margin, say=None):  # a test-only rule: both sides always want one table
        yes = np.ones(model.worlds, bool)
        one = np.zeros((model.worlds, len(model.issues)), np.int64)
        return choice.Choice(one, yes, yes, ~yes)

    monkeypatch.setattr(choice, "choose", agree)
    same_numbers(rows(["framework.rule=consent"], "chosen"), rows([], "linked"))


def coercive_model(*extra, worlds=400):
    cfg = load(["experiment=single", "framework=chosen", "framework.rule=coercive",
                "experiment.paired=true", f"replications={worlds}", "episodes=1",
                "trust=0.4", "pressure=0.6", *extra])  # fmt: skip
    return LinkageModel(cfg, design.cells(cfg))


def test_the_bundle_is_the_lever_and_the_issue_the_us_weighs_most():
    model = coercive_model()  # baseline: the lever is trade, the US weighs security most
    assert model.issues == ["trade", "security", "migration", "sovereignty"]
    assert (choice.bundle(model) == [0, 0, 2, 3]).all()
    given = coercive_model("framework.bundle=[migration,trade,sovereignty]")
    assert (choice.bundle(given) == [0, 1, 0, 0]).all()


def test_coercive_decisions_follow_each_sides_expectations():
    model = coercive_model("framework.margin=0.01")
    n, W = len(model.issues), model.worlds
    apart = np.tile(np.arange(n), (W, 1))
    tables = choice.bundle(model)
    offer = choice.premium(model, "US", tables, apart) >= 0.01
    penalty = model.pressure * 1.5 * model.mx.salience[:, model.lever_index]
    accept = choice.premium(model, "MX", tables, apart) + penalty >= 0.01
    c = choice.choose(model, "coercive", np.full(W, 0.01))
    assert (c.refused == (offer & ~accept)).all()
    assert (c.tables == np.where((offer & accept)[:, None], tables, apart)).all()


def test_coercive_with_a_margin_nobody_reaches_is_delinked_bit_for_bit():
    same_numbers(rows(["framework.rule=coercive", "framework.margin=100"], "chosen"),
                 rows([], "delinked"))  # fmt: skip


def test_a_refused_bundle_is_a_failed_threat(monkeypatch):
    def refuse(
        model, rule, margin, say=None
    ):  # a test-only verdict: offered and refused everywhere
        no = np.zeros(model.worlds, bool)
        apart = np.tile(np.arange(len(model.issues)), (model.worlds, 1))
        return choice.Choice(apart, ~no, no, ~no)

    apart = coercive_model("framework=delinked")
    apart.step()
    monkeypatch.setattr(choice, "choose", refuse)
    refused = coercive_model()
    refused.step()
    m, base = refused.metrics, apart.metrics
    assert (m["threats"] == 1).all() and (base["threats"] == 0).all()
    executed = m["threats_executed"].astype(bool)
    assert abs(executed.mean() - 0.6) < 0.08  # carried out with probability pressure
    lever = refused.mx.base_salience[:, refused.lever_index]
    assert np.allclose(m["mx_utility"], base["mx_utility"] - executed * 1.5 * lever)
    assert (m["blocked_mx"] == 1).all() and (m["blocked_us"] == 0).all()
