"""Sensitivity analysis and scenario discovery: known answers for the statistical machinery
(Ishigami for Sobol', a linear function for Morris, a planted box for PRIM and CART), the
dummy parameter on the real model, common random numbers, and the two experiments from the
command line."""

import hashlib
import itertools
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from sim.analysis import discovery, sensitivity, space
from sim.cells import Block, Stream, make
from sim.config import ConfigError, load

pytest.importorskip("SALib", reason="the analysis extra: pip install -e '.[analysis]'")


def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def test_sobol_indices_of_ishigami_hold_the_analytic_values():
    # Ishigami and Homma (1990); the variances worked out by hand (Saltelli et al. 2008, 4.8)
    a, b = 7.0, 0.1
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * 8 / 225
    v = v1 + v2 + v13
    S1, ST = np.array([v1, v2, 0]) / v, np.array([v1 + v13, v2, v13]) / v
    assert S1.round(4).tolist() == [0.3139, 0.4424, 0.0]  # the published values
    assert ST.round(4).tolist() == [0.5576, 0.4424, 0.2437]
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    X = space.sample(problem, "sobol", 1024, 0, second_order=True)
    first, pairs = sensitivity.sobol(problem, ishigami(X), True, 1000, 0)
    assert ((first.S1_low <= S1) & (S1 <= first.S1_high)).all(), first
    assert ((first.ST_low <= ST) & (ST <= first.ST_high)).all(), first
    s13 = pairs.set_index(["parameter", "with"]).loc[("x1", "x3")]
    assert s13.S2_low <= v13 / v <= s13.S2_high  # the one interaction


def test_sobol_intervals_are_the_same_for_the_same_seed_zero_included():
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    X = space.sample(problem, "sobol", 64, 0, second_order=True)
    runs = [sensitivity.sobol(problem, ishigami(X), True, 50, seed) for seed in (0, 0, 1)]
    assert runs[0][0].equals(runs[1][0]) and runs[0][1].equals(runs[1][1])
    assert not runs[0][0].equals(runs[2][0])  # the seed is used


def test_morris_effects_of_a_linear_function_are_its_slopes():
    # every elementary effect of y = 2 x1 - 3 x2 is the slope times the range: mu* = |c|,
    # sigma = 0 (Morris 1991)
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0, 1], [0, 2], [0, 1]]}
    X = space.sample(problem, "morris", 20, 0, levels=4)
    r = sensitivity.morris(problem, X, 2 * X[:, 0] - 3 * X[:, 1], 4, 100, 0)
    assert np.allclose(r.mu_star, [2.0, 6.0, 0.0]) and np.allclose(r.sigma, 0.0, atol=1e-12)
    assert np.allclose(r.mu, [2.0, -6.0, 0.0])


@pytest.fixture(scope="module")
def planted():
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0, 1]] * 4}
    x = pd.DataFrame(space.sample(problem, "latin", 2000, 0), columns=problem["names"])
    return x, ((x.a < 0.3) & (x.b > 0.6)).to_numpy()


def test_prim_finds_a_planted_box(planted):
    x, y = planted
    box, path = discovery.prim(x, y, density=0.95, mass_min=0.05, peel_alpha=0.05)
    limits = box.limits[box.limits.restricted]
    assert list(limits.index) == ["a", "b"]
    assert abs(limits.high["a"] - 0.3) < 0.03 and abs(limits.low["b"] - 0.6) < 0.03
    assert box.density >= 0.95 and box.coverage > 0.9
    assert abs(box.mass - 0.3 * 0.4) < 0.03
    assert path.chosen.sum() == 1 and (path.density[path.chosen] >= 0.95).all()
    said = box.sentence("y")
    assert said.startswith("y when a < 0.") and " and b > 0." in said and "(coverage " in said


def test_cart_finds_the_same_box(planted):
    x, y = planted
    leaf = discovery.cart(x, y, mass_min=0.05, seed=0)
    limits = leaf.limits[leaf.limits.restricted]
    assert set(limits.index) == {"a", "b"} and leaf.density > 0.95
    assert abs(limits.high["a"] - 0.3) < 0.03 and abs(limits.low["b"] - 0.6) < 0.03


def test_no_box_without_cases(planted):
    x, _ = planted
    none = np.zeros(len(x), bool)
    assert discovery.prim(x, none, 0.8, 0.05, 0.05) == (None, None)
    assert discovery.cart(x, none, 0.05, 0) is None


def draws(cell, paired, seed=0):
    return Stream(seed, Block(cell, 0, 5), 5, paired).random(6)


def test_unpaired_streams_are_todays_and_paired_ones_are_shared_by_frameworks():
    linked = make("baseline", "linked", {"threat.size": 2.0}, 0.3, 0.6)
    delinked = make("baseline", "delinked", {"threat.size": 2.0}, 0.3, 0.6)
    # the stream of an unpaired cell, derived here independently of sim.cells
    digest = hashlib.sha256(b"baseline|linked|0.3|0.6").digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    today = np.random.default_rng(np.random.SeedSequence([0, *words])).random((5, 6))
    assert np.array_equal(draws(linked, paired=False), today)
    assert not np.array_equal(draws(linked, False), draws(delinked, False))
    assert np.array_equal(draws(linked, True), draws(delinked, True))
    other = make("baseline", "linked", {}, 0.4, 0.6)
    assert not np.array_equal(draws(linked, True), draws(other, True))


SMALL = ["replications=4", "episodes=4", "rounds=20", "figures.enabled=false"]


def test_rows_differing_only_in_the_dummy_share_a_cell():
    cfg = load(
        ["experiment=sensitivity", "sensitivity.method=morris", "sensitivity.trajectories=6",
         "space.parameters=[trust,threat.size]", "space.dummy=true", *SMALL]
    )  # fmt: skip
    d = space.design(cfg)
    assert d.problem["names"] == ["trust", "threat.size", "dummy"]
    assert len(d.points) < len(d.X)  # a trajectory's step in the dummy gives no new point
    kept = d.X[:, :2]
    for i, j in itertools.combinations(range(len(d.X)), 2):
        assert (d.row_point[i] == d.row_point[j]) == bool((kept[i] == kept[j]).all())
    assert len(d.cells(cfg)) == 2 * len(d.points)


def run(cmd, tmp_path, *args, name="run", store="null"):
    out = tmp_path / name
    proc = subprocess.run(
        [cmd, *args, f"hydra.run.dir={out}", f"store={store}"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc, out


def test_dummy_parameter_gets_no_sobol_index_on_the_model(linkage_cmd, tmp_path):
    _, out = run(
        linkage_cmd, tmp_path, "experiment=sensitivity", "sensitivity.n=128",
        "sensitivity.second_order=false", "space.parameters=[trust,pressure,threat.size]",
        "space.dummy=true", *SMALL,
    )  # fmt: skip
    table = pd.read_csv(out / "indices.csv")
    assert set(table.output) == {
        "premium.mx_utility", "premium.us_utility", "premium.joint_utility",
        "linked.final_trust_mx",
    }  # fmt: skip
    dummy = table[table.parameter == "dummy"]
    assert len(dummy) == 4
    assert (dummy.S1.abs() <= 0.02).all() and (dummy.ST.abs() <= 0.02).all(), dummy
    real = table[(table.parameter == "trust") & (table.output == "premium.mx_utility")]
    assert real.ST.iloc[0] > 0.05  # the dummy's zero is not every index's
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 128 * (4 + 2) and "dummy" in points
    assert not (out / "interactions.csv").exists()


def test_sensitivity_resumes_from_the_store_with_the_same_numbers(linkage_cmd, tmp_path):
    args = ["experiment=sensitivity", "sensitivity.method=morris", "sensitivity.trajectories=4",
            "space.parameters=[trust,noise]", *SMALL]  # fmt: skip
    _, first = run(linkage_cmd, tmp_path, *args, name="a", store="cells")
    proc, again = run(linkage_cmd, tmp_path, *args, name="b", store="cells")
    assert re.search(r"resuming: (\d+) of \1 cells already finished", proc.stdout + proc.stderr)
    for name in ("indices.csv", "points.csv", "cells.csv"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    table = pd.read_csv(first / "indices.csv")
    assert list(table.columns) == [
        "output", "parameter", "mu_star", "mu_star_low", "mu_star_high", "mu", "sigma",
    ]  # fmt: skip
    assert not (first / "trajectories.csv").exists()


def test_discovery_reports_a_box_in_words_and_a_figure(linkage_cmd, tmp_path):
    _, out = run(
        linkage_cmd, tmp_path, "experiment=discovery", "discovery.n=300",
        "space.parameters=[trust,pressure,threat.size,countries.MX.salience.sovereignty]",
        "discovery.output=linked.final_trust_mx", "discovery.threshold=0.5", *SMALL[:3],
    )  # fmt: skip
    text = (out / "discovery.txt").read_text().splitlines()
    assert text[0] == "linked.final_trust_mx < 0.5"
    points = pd.read_csv(out / "points.csv")
    share = (points["linked.final_trust_mx"] < 0.5).mean()
    assert text[1] == f"cases: {int(share * 300)} of 300 points ({share:.1%})"
    assert any(line.startswith("PRIM: linked.final_trust_mx < 0.5 when ") for line in text)
    box = pd.read_csv(out / "box.csv")
    assert set(box.method) == {"prim", "cart"} and box.restricted.any()
    prim = box[box.method == "prim"].set_index("parameter")
    inside = np.ones(len(points), bool)
    for name, r in prim.iterrows():
        inside &= (points[name] >= r.low) & (points[name] <= r.high)
    cases = points["linked.final_trust_mx"] < 0.5
    assert np.isclose(prim.density.iloc[0], cases[inside].mean())  # the stats are the box's
    assert np.isclose(prim.coverage.iloc[0], (cases & inside).sum() / cases.sum())
    assert (out / "figures" / "peeling.png").exists()


@pytest.mark.parametrize(
    "override, key",
    [
        ("space.parameters=[trust,nonsense]", "space.parameters"),
        ("space.parameters=[trust,unilateral.gain,dummy]", "space.parameters"),
        ("space.ranges={trust: [0.5, 0.2]}", "space.ranges.trust"),
        ("space.ranges={trust: [0, 2]}", "space.ranges.trust"),
        ("sensitivity.n=1000", "sensitivity.n"),
        ("sensitivity.levels=3", "sensitivity.levels"),
        ("sensitivity.outputs=[premium.happiness]", "sensitivity.outputs"),
        ("map.framework=[linked]", "map.framework"),
        ("shards=2", "shards"),
    ],
)
def test_bad_analysis_config_names_the_key(override, key):
    with pytest.raises(ConfigError) as ex:
        load(["experiment=sensitivity", override])
    assert ex.value.key == key


def test_ranges_whose_points_are_invalid_are_refused_before_the_run():
    both = "space.parameters=[countries.MX.salience.sovereignty,countries.MX.salience.trade]"
    with pytest.raises(ConfigError) as ex:
        load(["experiment=discovery", "discovery.n=50", both,
              "+space.ranges={countries.MX.salience.trade: [0.2, 0.6]}"])  # fmt: skip
    assert ex.value.key == "space.ranges" and "sum to at most 1" in ex.value.allowed
    cfg = load(["experiment=discovery", "discovery.n=50", both,
                "+space.ranges={countries.MX.salience.trade: [0.1, 0.4]}"])  # fmt: skip
    assert cfg.space.ranges["countries.MX.salience.trade"] == [0.1, 0.4]
    assert cfg.space.ranges["trust"] == [0.0, 1.0]  # the + merges into the defaults


def test_a_multirun_of_analyses_keeps_each_jobs_own(linkage_cmd, tmp_path):
    proc = subprocess.run(
        [linkage_cmd, "-m", "experiment=sensitivity", "sensitivity.method=morris",
         "sensitivity.trajectories=4", "space.parameters=[trust,noise]", *SMALL, "seed=0,1",
         "store=null", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "each job holds its own analysis" in proc.stdout
    for job in ("0", "1"):
        assert (tmp_path / "sweep" / job / "indices.csv").exists()
    assert not (tmp_path / "sweep" / "cells.csv").exists()
