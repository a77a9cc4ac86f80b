"""Level II (Putnam 1988; docs/model.md §4.1): domestic ratifiers, win-sets and involuntary
defection, checked against cases worked out by hand.

The two-issue cases: trade and security, the US weighing them (0.2, 0.8) and Mexico
(0.8, 0.2), trust 1 and no pressure. The face-value frontier runs from the US ideal (1, 1)
through (0, 1) (the US gives up trade first: its weight ratio 0.25 is the lower) to
Mexico's ideal (0, 0); along it the US gets 1, 0.8, 0 and Mexico 0, 0.8, 1.
"""

import numpy as np
import pytest

from sim import design, metrics, ratification
from sim.config import ConfigError, RatificationRule, load
from sim.model import LinkageModel

W_US, W_MX = (0.2, 0.8), (0.8, 0.2)


def two_issue(tmp_path, d_us, d_mx, mx_ratifiers="[]", *extra):
    """A model of the two-issue scenario, one episode; no-deal values per issue."""
    (tmp_path / "scenario").mkdir(exist_ok=True)
    (tmp_path / "scenario" / "two.yaml").write_text(
        "# @package _global_\nscenario: {name: two}\nissues: [trade, security]\n"
        f"countries:\n  US: {{salience: {{trade: {W_US[0]}, security: {W_US[1]}}}, "
        f"disagreement: {{trade: {d_us[0]}, security: {d_us[1]}}}}}\n"
        f"  MX: {{salience: {{trade: {W_MX[0]}, security: {W_MX[1]}}}, "
        f"disagreement: {{trade: {d_mx[0]}, security: {d_mx[1]}}}, ratifiers: {mx_ratifiers}}}\n"
    )
    cfg = load(
        ["scenario=two", "experiment=single", "trust=1", "pressure=0", "replications=2",
         "episodes=1", "noise=0", "countries.MX.reliability=1", "countries.US.reliability=1",
         *extra],
        config_dir=tmp_path,
    )  # fmt: skip
    m = LinkageModel(cfg)
    m.step()
    return m


def values(m):
    x = m.outcome.v_us  # implemented positions: the US's value per issue is x
    return x @ np.array(W_US), (1 - x) @ np.array(W_MX)


# --- the unitary actor is a special case ---------------------------------------------------
@pytest.mark.parametrize(
    "scenario,framework",
    [("baseline", "linked"), ("baseline", "delinked"), ("tariff_threat_2019", "linked"),
     ("zambada_2024", "linked"), ("merida_2007", "sequenced"), ("baseline", "chosen")],
)  # fmt: skip
def test_a_single_ratifier_with_the_negotiators_weights_is_the_unitary_model(scenario, framework):
    # backlash moves the negotiator's weights, not its ratifiers': held still so that the
    # ratifier keeps the negotiator's own weights for the whole run
    base = [f"scenario={scenario}", f"framework={framework}", "experiment=single",
            "replications=100", "episodes=8", "backlash.salience=0",
            "unilateral.salience=0"]  # fmt: skip
    plain = load(base)

    def own(side):
        w = ", ".join(f"{k}: {v}" for k, v in getattr(plain.countries, side).salience.items())
        return f"countries.{side}.ratifiers=[{{name: self, salience: {{{w}}}}}]"

    a, b = LinkageModel(plain), LinkageModel(load([*base, own("US"), own("MX")]))
    for _ in range(plain.episodes):
        a.step()
        b.step()
        for name in metrics.names(a.issues):
            if name in ("winset_us", "winset_mx"):
                continue
            assert np.array_equal(a.metrics[name], b.metrics[name], equal_nan=True), name
        assert b.metrics["involuntary"].sum() == 0


# --- the Schelling conjecture --------------------------------------------------------------
# Mexico's congress weighs only security (value 1 - x_security) and asks theta over no deal
# (0). On the frontier from Mexico's ideal it approves x = (0, s) for s <= 1 - theta, and
# nothing beyond: the win-set is (1 - theta) of the first of two edges, half the frontier
# times (1 - theta), and Mexico's floor is its value at (0, 1 - theta): 0.8 + 0.2 theta.
# The US's no-deal value 0.5 on both issues caps Mexico at 0.875, the frontier point where
# the US gets 0.5 (x = (0, 0.625)); so beyond theta = 0.375 nothing can be ratified.
def congress(theta, salience="{security: 1}"):
    return f"[{{name: congress, salience: {salience}, threshold: {theta}}}]"


def test_narrowing_mexicos_win_set_moves_the_agreement_toward_mexico(tmp_path):
    got = []
    for theta in (0.05, 0.1, 0.2, 0.3, 0.37):
        m = two_issue(tmp_path, (0.5, 0.5), (0, 0), congress(theta))
        assert (m.metrics["agreement_rate"] == 1).all(), theta
        us, mx = values(m)
        assert np.all(mx >= 0.8 + 0.2 * theta - 1e-9), (theta, mx)  # the floor, by hand
        assert np.all(us >= 0.5 - 1e-9)
        assert np.allclose(m.metrics["winset_mx"], (1 - theta) / 2)
        assert (m.metrics["involuntary"] == 0).all()  # known win-set: nothing fails at home
        got.append(mx[0])
    plain = two_issue(tmp_path, (0.5, 0.5), (0, 0))
    assert np.isnan(plain.metrics["winset_mx"]).all()
    assert values(plain)[1][0] < got[0] - 0.01 and np.all(np.diff(got) > 0), got


@pytest.mark.parametrize("theta", [0.38, 0.5, 0.9])
def test_beyond_the_threshold_no_agreement_is_ratifiable(tmp_path, theta):
    m = two_issue(tmp_path, (0.5, 0.5), (0, 0), congress(theta))
    assert (m.metrics["agreement_rate"] == 0).all()


def test_a_misread_win_set_fails_at_home(tmp_path):
    # the negotiator reads the threshold with error (sd 0.3): where it reads it too low, it
    # signs what the congress rejects; the partner counts it as half a broken commitment
    m = two_issue(tmp_path, (0.5, 0.5), (0, 0), congress(0.2), "ratification.noise=0.3",
                  "replications=400", "ratification.visible=0.5")  # fmt: skip
    error = m.mx.ratifiers.error[:, 0]
    failed = m.metrics["unratified_mx"] == 1
    assert failed.any() and (~failed).any()
    assert (failed <= (error < -1e-9)).all()  # only an under-read threshold can fail
    assert (m.metrics["involuntary"][failed] == 2).all()
    assert (m.metrics["agreement_rate"][failed] == 0).all()
    # Beta evidence from the prior's 10 at trust 1: alpha 10, beta 0, then each side
    # forgets 5% and the US counts 0.5 x 2 issues of bad evidence
    trust = (10 * 0.95) / (10 * 0.95 + 1.0)
    assert np.allclose(m.metrics["trust_us"][failed], trust)


# --- synergistic linkage and the veto that blocks both -------------------------------------
def test_linkage_turns_failure_into_agreement_only_through_level_two(tmp_path):
    # no-deal values 0.45 on each issue for both: alone, each issue's zone is [0.45, 0.55],
    # worth at most 0.10 over no deal to Mexico, and its congress (Mexico's own weights)
    # asks 0.15. On one table the logroll gives Mexico up to 0.8875 against a bar of 0.6.
    d = (0.45, 0.45)
    ratifier = congress(0.15, "{trade: 0.8, security: 0.2}")
    for framework, with_ratifier, want in [
        ("delinked", False, 1.0), ("linked", False, 1.0),
        ("delinked", True, 0.0), ("linked", True, 1.0),
    ]:  # fmt: skip
        m = two_issue(tmp_path, d, d, ratifier if with_ratifier else "[]", f"framework={framework}")
        assert (m.metrics["agreement_rate"] == want).all(), (framework, with_ratifier)
    assert (values(m)[1] >= 0.6 - 1e-9).all()


def test_linkage_lets_a_veto_player_on_one_issue_block_both(tmp_path):
    # a veto player who weighs only security asks 0.3 over its no-deal 0.45: x_security
    # <= 0.25, which the US (no-deal 0.45) cannot accept on security alone nor in a package
    # (0.2 x_trade + 0.8 x 0.25 < 0.45); trade alone it lets through, having no stake in it
    d = (0.45, 0.45)
    veto = "[{name: army, salience: {security: 1}, threshold: 0.3, veto: true}]"
    apart = two_issue(tmp_path, d, d, veto, "framework=delinked")
    together = two_issue(tmp_path, d, d, veto, "framework=linked")
    assert (apart.metrics["agreement.trade"] == 1).all()
    assert (apart.metrics["agreement.security"] == 0).all()
    assert (together.metrics["agreement_rate"] == 0).all()
    # known win-sets: whatever is signed passes, so nothing is lost at home
    assert (together.metrics["involuntary"] == 0).all() and (
        apart.metrics["involuntary"] == 0
    ).all()


# --- the ratification rule, by hand ---------------------------------------------------------
def test_majority_reach_is_the_furthest_point_a_majority_approves():
    each = np.array([[2.0, 0.5, 1.0], [2.0, 0.5, 1.0], [0.2, 1.5, 1.5]])
    weight = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 3.0], [1.0, 1.0, 1.0]])
    veto = np.array([[False] * 3, [False] * 3, [True, False, False]])
    on = np.ones((3, 3), bool)
    got = ratification._combine(each, weight, veto, on, RatificationRule.majority, 2)
    # two of three go to 1.0; the third's weight of 3 of 5 makes 1.0 again; a veto at 0.2
    assert np.allclose(got, [1.0, 1.0, 0.2])
    assert np.allclose(ratification._combine(each, weight, veto, on, RatificationRule.all, 2),
                       [0.5, 0.5, 0.2])  # fmt: skip


def test_a_veto_player_event_joins_the_ratifiers(tmp_path):
    sleeping = "[{name: congress, salience: {security: 1}, threshold: 0.5, active: false}]"
    before = two_issue(tmp_path, (0.5, 0.5), (0, 0), sleeping)
    assert (before.metrics["agreement_rate"] == 1).all()
    joins = "events=[{episode: 1, type: veto_player, country: MX, ratifier: congress}]"
    after = two_issue(tmp_path, (0.5, 0.5), (0, 0), sleeping, joins)
    assert (after.metrics["agreement_rate"] == 0).all()


R = "countries.MX.ratifiers"


@pytest.mark.parametrize(
    "override,key",
    [
        (f"{R}=[{{name: a, salience: {{tariffs: 1}}}}]", f"{R}[0].salience.tariffs"),
        (f"{R}=[{{name: a, salience: {{trade: 0}}}}]", f"{R}[0].salience"),
        (f"{R}=[{{name: a, salience: {{trade: 1}}, threshold: 2}}]", f"{R}[0].threshold"),
        (f"{R}=[{{name: a, salience: {{trade: 1}}}}, {{name: a, salience: {{trade: 1}}}}]",
         f"{R}[1].name"),
        ("ratification.visible=1.5", "ratification.visible"),
        ("events=[{episode: 2, type: veto_player, country: MX, ratifier: senate}]",
         "events[0].ratifier"),
    ],
)  # fmt: skip
def test_bad_level_two_config_names_the_key(override, key):
    with pytest.raises(ConfigError) as e:
        load(["experiment=single", override])
    assert e.value.key == key


def test_ratifier_parameters_are_sweep_axes():
    r = f"{R}=[{{name: congress, salience: {{sovereignty: 1}}, threshold: 0.0}}]"
    axes = f"+map.axes={{{R}.congress.threshold: [0.0, 0.2, 0.4]}}"
    cfg = load(["experiment=map", r, axes, "map.framework=[linked]", "replications=20",
                "episodes=2"])  # fmt: skip

    m = LinkageModel(cfg, design.cells(cfg))
    m.run_for(2)
    per_cell = m.metrics["winset_mx"].reshape(3, 20)[:, 0]
    assert per_cell[0] > per_cell[1] > per_cell[2]


def test_a_ratifier_parameter_of_no_ratifier_is_refused_by_name():
    from sim import params

    cfg = load(["experiment=single"])
    with pytest.raises(ConfigError, match=r"a ratifier in countries.MX.ratifiers \[\]"):
        params.point(cfg, {f"{R}.congress.threshold": 0.2})


def test_the_misreading_of_a_world_does_not_depend_on_its_block():
    from sim.cells import Block

    over = [f"{R}=[{{name: a, salience: {{trade: 1}}}}, {{name: b, salience: {{security: 1}}}}]",
            "countries.US.ratifiers=[{name: c, salience: {trade: 1}}]", "ratification.noise=0.2",
            "experiment=single", "replications=10"]  # fmt: skip
    cfg = load(over)
    cell = design.single(cfg)
    whole = LinkageModel(cfg, blocks=[Block(cell, 0, 10)])
    parts = LinkageModel(cfg, blocks=[Block(cell, 0, 4), Block(cell, 4, 10)])
    for side in ("us", "mx"):
        a, b = getattr(whole, side).ratifiers.error, getattr(parts, side).ratifiers.error
        assert np.array_equal(a, b) and np.all(a != 0)
    # the two sides' misreadings are drawn apart
    assert not np.isin(whole.us.ratifiers.error, whole.mx.ratifiers.error).any()


def test_ratifier_parameters_are_design_columns(tmp_path):
    rows = tmp_path / "design.csv"
    rows.write_text(
        f"framework,{R}.congress.threshold,{R}.congress.salience.security\nlinked,0.0,1\n"
        "linked,0.3,1\n"
    )
    r = f"{R}=[{{name: congress, salience: {{sovereignty: 1}}}}]"
    cfg = load(["experiment=design", f"design.file={rows}", r, "replications=5", "episodes=1"])
    m = LinkageModel(cfg, design.cells(cfg))
    m.step()
    s = m.mx.ratifiers.salience[:, 0, m.issues.index("security")]
    assert (s[:5] == 1).all() and (s[5:] == 1).all()
    first, second = m.metrics["winset_mx"][:5], m.metrics["winset_mx"][5:]
    assert (first > second).all()
