"""Audience costs (Fearon 1994; docs/model.md §6): the credibility of a threat, worked out by
hand, its identity at no cost, and what it does to the US's follow-through and to Mexico's
acceptance of a bundle under threat."""

import numpy as np
import pytest

from sim import choice, design
from sim.config import load
from sim.model import LinkageModel
from sim.pressure import credibility


def test_credibility_is_pressure_at_no_cost_and_rises_with_the_cost():
    pi = np.linspace(0, 1, 101)
    assert np.array_equal(credibility(pi, np.zeros(101)), pi)  # bit for bit: the identity
    assert np.isclose(credibility(0.5, np.log(2)), 0.75)  # 0.5 + 0.5 (1 - 1/2), by hand
    assert np.isclose(credibility(0.2, np.log(5)), 0.84)  # 0.2 + 0.8 (1 - 1/5)
    costs = np.array([0.0, 0.1, 0.5, 1.0, 3.0, 30.0])
    kappa = credibility(0.3, costs)
    assert (np.diff(kappa) > 0).all() and kappa[-1] == pytest.approx(1.0)
    assert credibility(1.0, 5.0) == 1.0 and credibility(0.0, 0.0) == 0.0


def model(cost, rule="coercive", worlds=2000):
    cfg = load(["experiment=single", "framework=chosen", f"framework.rule={rule}",
                "experiment.paired=true", f"replications={worlds}", "episodes=1", "trust=0.4",
                "pressure=0.6", f"threat.audience_cost={cost}"])  # fmt: skip
    return LinkageModel(cfg, design.cells(cfg))


def test_the_us_carries_out_more_failed_threats_the_larger_the_cost(monkeypatch):
    def refuse(model, rule, margin, say=None):  # test-only: offered and refused everywhere
        no = np.zeros(model.worlds, bool)
        apart = np.tile(np.arange(len(model.issues)), (model.worlds, 1))
        return choice.Choice(apart, ~no, no, ~no)

    monkeypatch.setattr(choice, "choose", refuse)
    shares = []
    for cost in (0.0, 0.5, 2.0):
        m = model(cost)
        m.step()
        shares.append(m.metrics["threats_executed"].mean())
        # the same uniforms for every cost (paired): executed exactly where u < kappa
        assert abs(shares[-1] - credibility(0.6, cost)) < 0.04
    assert shares[0] < shares[1] < shares[2]


def test_mexico_accepts_a_bundle_under_threat_more_often_the_larger_the_cost():
    # a small threat (0.3 of Mexico's lever value) and a margin of 0.05 over a trust x
    # pressure map of chosen cells, one world each: where the bundle alone is not worth the
    # margin to Mexico, the penalty it expects for refusing decides
    grid = "[0.0,0.25,0.5,0.75,1.0]"
    accepted = []
    for cost in (0.0, 0.25, 1.0, 4.0):
        cfg = load([f"map.trust={grid}", f"map.pressure={grid}", "map.framework=[chosen]",
                    "framework.rule=coercive", "framework.margin=0.05", "replications=1",
                    "episodes=1", "threat.size=0.3", f"threat.audience_cost={cost}"])  # fmt: skip
        m = LinkageModel(cfg, design.cells(cfg))
        n, W = len(m.issues), m.worlds
        tables, apart = choice.bundle(m), np.tile(np.arange(n), (W, 1))
        penalty = credibility(m.pressure, cost) * 0.3 * m.mx.salience[:, m.lever_index]
        accepted.append(np.mean(choice.premium(m, "MX", tables, apart) + penalty >= 0.05))
    assert all(b >= a for a, b in zip(accepted, accepted[1:], strict=False)), accepted
    assert accepted[-1] > accepted[0], accepted
