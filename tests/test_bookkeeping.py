"""Bookkeeping against numbers worked out by hand: the reduction of worlds to cell rows, the
tables a framework forms, and the store's fingerprint."""

import math
import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from sim import frameworks, metrics, runner, store
from sim.cells import Block, Cell
from sim.config import load

Z = 1.96


def fake_model(cfg, values: dict[str, list[list[float]]]):
    """A model-shaped object holding per-episode, per-world metric values (others zero)."""
    episodes = len(next(iter(values.values())))
    worlds = len(values[next(iter(values))][0])
    zeros = [np.zeros(worlds) for _ in range(episodes)]
    model_vars = {
        m: [np.asarray(v, float) for v in values.get(m, zeros)] for m in metrics.names(cfg.issues)
    }
    cell = Cell(cfg.scenario.name, "linked", 0.5, 0.25)
    return SimpleNamespace(
        blocks=[Block(cell, 0, worlds)], datacollector=SimpleNamespace(model_vars=model_vars)
    )


@pytest.fixture
def three_worlds():
    cfg = load(["experiment=single", "replications=3", "episodes=2"])
    values = {
        # episode 1, then episode 2; one column per world
        "agreement_rate": [[0.0, 0.5, 1.0], [1.0, 1.0, 1.0]],
        "trust_us": [[0.2, 0.4, 0.6], [0.1, 0.4, 0.7]],
        "mx_share": [[0.5, math.nan, 0.3], [0.1, math.nan, math.nan]],
    }
    return cfg, runner.reduce(cfg, fake_model(cfg, values))[0]


def test_a_cell_row_is_the_mean_over_worlds_and_episodes_with_the_ci_of_world_means(three_worlds):
    _, part = three_worlds
    row = part["cells"][0]
    assert row["trust"] == 0.5 and row["pressure"] == 0.25 and row["replications"] == 3
    # six values 0, .5, 1, 1, 1, 1; world means .5, .75, 1 (sd .25)
    assert row["agreement_rate"] == pytest.approx(4.5 / 6)
    assert row["agreement_rate_ci95"] == pytest.approx(Z * 0.25 / math.sqrt(3))
    # final trust: the last episode's values .1, .4, .7 (sd .3)
    assert row["final_trust_us"] == pytest.approx(0.4)
    assert row["final_trust_us_ci95"] == pytest.approx(Z * 0.3 / math.sqrt(3))
    assert row["reneged"] == 0.0 and row["reneged_ci95"] == 0.0


def test_undefined_values_leave_the_means_and_a_world_with_none_leaves_the_interval(three_worlds):
    _, part = three_worlds
    row = part["cells"][0]
    # defined: .5, .3, .1 -> mean .3; world means .3 (world 0) and .3 (world 2), world 1 none
    assert row["mx_share"] == pytest.approx(0.3)
    assert row["mx_share_ci95"] == pytest.approx(0.0)
    ep1, ep2 = part["trajectories"]
    assert ep1["mx_share"] == pytest.approx(0.4)
    assert ep1["mx_share_ci95"] == pytest.approx(Z * math.sqrt(0.02) / math.sqrt(2))
    assert ep2["mx_share"] == pytest.approx(0.1) and math.isnan(ep2["mx_share_ci95"])


def test_a_trajectory_row_per_episode(three_worlds):
    _, part = three_worlds
    ep1, ep2 = part["trajectories"]
    assert (ep1["episode"], ep2["episode"]) == (1, 2)
    assert ep1["agreement_rate"] == pytest.approx(0.5)
    assert ep1["agreement_rate_ci95"] == pytest.approx(Z * 0.5 / math.sqrt(3))
    assert ep2["agreement_rate"] == 1.0 and ep2["agreement_rate_ci95"] == 0.0
    assert ep2["trust_us"] == pytest.approx(0.4)


def test_tables_of_each_framework_by_hand():
    code = np.array([frameworks.CODES[f] for f in ("linked", "delinked", "sequenced", "sequenced")])
    code = np.append(code, frameworks.CODES["custom"])
    custom = frameworks.custom_row([["security", "migration"], ["trade"], ["sovereignty"]],
                                   ["trade", "security", "migration", "sovereignty"])  # fmt: skip
    assert custom.tolist() == [1, 0, 0, 2]
    linked_now = np.array([False, True, True, False, True])  # only sequenced worlds read it
    got = frameworks.table_of(code, 4, custom, linked_now)
    assert got.tolist() == [
        [0, 0, 0, 0],  # linked: one table
        [0, 1, 2, 3],  # delinked: a table per issue, even with linked_now set
        [0, 0, 0, 0],  # sequenced, trust high enough: linked
        [0, 1, 2, 3],  # sequenced, not yet: delinked
        [1, 0, 0, 2],  # custom: security and migration together
    ]


def test_sequenced_switch_links_at_link_at_and_unlinks_below_the_hysteresis_band():
    was = np.array([False, False, True, True, True])
    t_us = np.array([0.69, 0.70, 0.61, 0.60, 0.59])
    t_mx = np.array([0.90, 0.90, 0.90, 0.90, 0.90])
    got = frameworks.sequenced_linked(was, t_us, t_mx, link_at=0.7, hysteresis=0.1)
    assert got.tolist() == [False, True, True, True, False]


def test_fingerprint_ignores_what_does_not_change_numbers_and_sees_what_does():
    base = store.fingerprint(load([]))
    for same in ("jobs=1", "trust=0.9", "figures.formats=[png]", "map.pressure=[0,1]",
                 "output.progress=false", "store=null"):  # fmt: skip
        assert store.fingerprint(load([same])) == base, same
    for other in ("threat.size=1", "seed=1", "rounds=40", "countries.MX.reliability=0.8",
                  "output.worlds=true", "scenario=merida_2007"):  # fmt: skip
        assert store.fingerprint(load([other])) != base, other


def test_editing_any_module_of_the_package_changes_the_code_version(tmp_path):
    package = tmp_path / "sim"
    shutil.copytree(store.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = store.code_version(package)
    modules = sorted(package.rglob("*.py"))
    assert len(modules) >= 20  # every module counts, not a hand-made list
    seen = {before}
    for path in modules:
        text = path.read_text()
        path.write_text(text + "\n# edited\n")
        store.code_version.cache_clear()
        seen.add(store.code_version(package))
        path.write_text(text)
    store.code_version.cache_clear()
    assert len(seen) == len(modules) + 1
    (package / "new_mechanism.py").write_text("X = 1\n")
    assert store.code_version(package) != before
    store.code_version.cache_clear()
