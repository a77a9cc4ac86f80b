"""Behaviour expected of the model (docs/odd.md §1, patterns T1-T5), shown rather than
assumed."""

import logging

import numpy as np
import pytest

from sim.cells import Cell
from sim.config import load
from sim.model import LinkageModel


def one_episode(framework, trust, pressure, *overrides, reps=200):
    cfg = load(["experiment=single", f"replications={reps}", *overrides])
    model = LinkageModel(cfg, [Cell("baseline", framework, trust, pressure)])
    model.step()
    return model.metrics


def test_linked_efficiency_rises_with_trust_and_nears_one():
    """At full trust the offers use the partner's true weights and no reneging is priced in.

    Near the top, agreements are all on the frontier and differ only in where on it they
    land, which moves the joint sum a little either way: hence the 0.01 tolerance.
    """
    exact = ["countries.US.reliability=1", "countries.MX.reliability=1", "noise=0"]
    trusts = (0, 0.25, 0.5, 0.75, 1)
    eff = [one_episode("linked", t, 0.0, *exact)["efficiency"].mean() for t in trusts]
    assert all(b >= a - 0.01 for a, b in zip(eff, eff[1:], strict=False)), eff
    assert eff[-1] > 0.95 and eff[-1] - eff[0] > 0.1, eff


def test_one_delinked_episode_does_not_depend_on_trust():
    """No costly commitment fits on a one-issue table, so trust prices nothing there.

    ``countries.*.trust`` sets both sides' trust without changing the cell, so the runs
    share one random stream and must agree on everything but trust itself (to rounding:
    trust enters the arithmetic of segments the outcome never reaches).
    """
    runs = []
    for t in (0.0, 0.5, 1.0):
        runs.append(
            one_episode("delinked", 0.5, 0.5, f"countries.US.trust={t}", f"countries.MX.trust={t}")
        )
    for m in runs[0]:
        if not m.startswith("trust"):
            for other in runs[1:]:
                np.testing.assert_allclose(runs[0][m], other[m], rtol=1e-12, atol=1e-12, err_msg=m)


def test_threats_move_value_toward_the_us_and_mexican_trust_down():
    calm = one_episode("linked", 0.5, 0.0)
    coerced = one_episode("linked", 0.5, 1.0)
    assert coerced["us_gain"].mean() > calm["us_gain"].mean()
    assert coerced["mx_gain"].mean() < calm["mx_gain"].mean()
    assert coerced["trust_mx"].mean() < calm["trust_mx"].mean()
    assert coerced["threats"].mean() == 1.0 and calm["threats"].mean() == 0.0


def test_delinking_disarms_the_threat():
    assert one_episode("delinked", 0.5, 1.0)["threats"].sum() == 0


@pytest.mark.parametrize(
    "trust, pressure, mexico_prefers", [(0.1, 0.9, "delinked"), (0.9, 0.1, "linked")]
)
def test_mexicos_choice_in_one_episode(trust, pressure, mexico_prefers):
    mx = {f: one_episode(f, trust, pressure)["mx_utility"].mean() for f in ("linked", "delinked")}
    other = "linked" if mexico_prefers == "delinked" else "delinked"
    assert mx[mexico_prefers] > mx[other], mx


def test_equal_salience_ratios_make_linkage_worthless():
    same = [
        "countries.MX.salience.trade=0.2",
        "countries.MX.salience.security=0.4",
        "countries.MX.salience.migration=0.3",
        "countries.MX.salience.sovereignty=0.1",
    ]
    exact = ["countries.US.reliability=1", "countries.MX.reliability=1", "noise=0"]
    linked = one_episode("linked", 1.0, 0.0, *same, *exact)
    delinked = one_episode("delinked", 1.0, 0.0, *same, *exact)
    assert abs(linked["joint_gain"].mean() - delinked["joint_gain"].mean()) < 0.02


def test_sequenced_links_once_trust_is_built():
    cfg = load(["experiment=single", "replications=20", "framework=sequenced"])
    lo = LinkageModel(cfg, [Cell("baseline", "sequenced", 0.3, 0.0)])
    hi = LinkageModel(cfg, [Cell("baseline", "sequenced", 0.9, 0.0)])
    lo.step(), hi.step()
    assert lo.metrics["linked"].sum() == 0 and hi.metrics["linked"].all()


def test_unilateral_action_costs_mexican_trust_and_raises_sovereignty_salience():
    cfg = load(
        [
            "experiment=single",
            "replications=10",
            "pressure=0",
            "+events=[{episode: 1, type: unilateral_action}]",
        ]
    )
    m = LinkageModel(cfg)
    before = m.mx.salience[:, 3].copy()
    m.step()
    assert m.metrics["unilateral_actions"].all()
    assert (m.mx.salience[:, 3] > before).all()
    assert m.metrics["trust_mx"].mean() < m.metrics["trust_us"].mean()


def test_trust_shock_event_sets_trust():
    cfg = load(
        [
            "experiment=single",
            "replications=5",
            "pressure=0",
            "episodes=2",
            "+events=[{episode: 2, type: trust_shock, country: MX, value: 0.1}]",
        ]
    )
    m = LinkageModel(cfg)
    m.step()
    assert m.mx.trust.min() > 0.3
    m.step()
    assert m.mx.trust.max() < 0.2


TWO_ISSUES = """\
# @package _global_
scenario: {name: two_issues}
issues: [trade, migration]
countries:
  US:
    salience: {trade: 0.4, migration: 0.6}
    disagreement: {trade: 0.3, migration: 0.3}
  MX:
    salience: {trade: 0.7, migration: 0.3}
    disagreement: {trade: 0.3, migration: 0.3}
"""


def test_a_user_scenario_replaces_the_issues_and_parts_without_their_issue_switch_off(
    caplog, tmp_path
):
    from sim import runner

    (tmp_path / "scenario").mkdir()
    (tmp_path / "scenario" / "two_issues.yaml").write_text(TWO_ISSUES)
    cfg = load(
        ["scenario=two_issues", "experiment=single", "replications=20", "pressure=1"],
        config_dir=tmp_path,
    )
    assert cfg.issues == ["trade", "migration"] and set(cfg.countries.US.salience) == set(
        cfg.issues
    )
    with caplog.at_level(logging.INFO):
        runner.run(cfg, tmp_path / "out")
    assert sum("unilateral action" in r.message for r in caplog.records) == 1
    m = LinkageModel(cfg)
    m.run_for(3)
    assert m.metrics["unilateral_actions"].sum() == 0


def test_a_single_world_is_an_ordinary_run():
    cfg = load(["experiment=single", "replications=1"])
    m = LinkageModel(cfg, record_worlds=[0])
    m.run_for(cfg.episodes)
    assert m.worlds == 1 and len(m.datacollector.model_vars["mx_utility"]) == cfg.episodes
    dance = m.record[0]
    assert dance.offers.shape == (cfg.rounds, 2) and dance.issues == cfg.issues


def test_a_guarantor_vouching_for_both_sides_makes_linkage_pay_at_low_trust():
    alone = one_episode("linked", 0.1, 0.0)
    vouched = one_episode("linked", 0.1, 0.0, "guarantor.name=Canada", "guarantor.vouching=0.8")
    assert vouched["efficiency"].mean() > alone["efficiency"].mean() + 0.05


def test_a_guarantor_monitoring_compliance_cuts_reneging():
    alone = one_episode("linked", 0.9, 0.0, reps=400)
    watched = one_episode("linked", 0.9, 0.0, "guarantor.monitoring=1", reps=400)
    assert watched["reneged"].mean() < 0.5 * alone["reneged"].mean()


def test_unilateral_action_follows_the_configured_issue():
    cfg = load(
        [
            "experiment=single",
            "replications=200",
            "pressure=1",
            "unilateral.issue=migration",
            "unilateral.rate=1",
            "framework=delinked",
        ]
    )
    m = LinkageModel(cfg, [Cell("baseline", "delinked", 0.5, 1.0)])
    m.step()
    # delinked migration has a zone and almost always settles: the US rarely acts alone
    assert m.metrics["unilateral_actions"].mean() < 0.1


def test_a_threat_of_nothing_is_no_threat():
    m = one_episode("linked", 0.5, 1.0, "threat.size=0")
    assert m["threats"].sum() == 0


def test_a_disagreement_event_moves_the_no_deal_value():
    cfg = load(
        [
            "experiment=single",
            "replications=5",
            "episodes=2",
            "+events=[{episode: 2, type: disagreement, country: MX, issue: security, value: 0.7}]",
        ]
    )
    m = LinkageModel(cfg)
    m.step()
    assert (m.mx.disagreement[:, 1] == 0.4).all()
    m.step()
    assert (m.mx.disagreement[:, 1] == 0.7).all() and cfg.countries.MX.disagreement[
        "security"
    ] == 0.4


def test_events_after_the_last_episode_are_reported_not_refused(caplog, tmp_path):
    from sim import runner

    cfg = load(
        [
            "scenario=cienfuegos_2020",
            "experiment=single",
            "episodes=5",
            "replications=3",
            "store=null",
        ]
    )
    with caplog.at_level(logging.INFO):
        runner.run(cfg, tmp_path)
    assert any("unilateral_action at episode 10" in r.message for r in caplog.records)
