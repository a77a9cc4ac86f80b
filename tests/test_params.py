"""Any parameter a batch axis: per-world parameters, cells with overrides, maps over any
parameters, designs from a file (docs/model.md §10)."""

import subprocess

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import design, events, metrics, params, runner
from sim.cells import Cell, make
from sim.config import ConfigError, load
from sim.model import LinkageModel

SMALL = ["replications=6", "episodes=4", "rounds=20"]


def metric_columns(cfg):
    return [c for m in metrics.names(cfg.issues) for c in (m, f"{m}_ci95")]


def rows(cfg, cells):
    return pd.DataFrame(runner.run_cells(cfg, cells)["cells"])


# --- a cell with an override equals the plain config with that value ------------------------


def test_an_override_equals_the_plain_config_value_alone_in_a_map_a_design_and_a_shard(
    tmp_path,
):
    plain = load(["experiment=single", "threat.size=2.5", *SMALL])
    alone = rows(plain, design.cells(plain)).iloc[0]

    grid = load(["+map.axes={threat.size: [0.5, 2.5], trust: [0.3, 0.5]}", *SMALL])
    in_map = rows(grid, design.cells(grid))
    in_map = in_map[(in_map.framework == "linked") & (in_map["threat.size"] == 2.5)]
    in_map = in_map[in_map.trust == 0.5].iloc[0]

    points = tmp_path / "points.csv"
    points.write_text("threat.size,framework\n1,delinked\n2.5,linked\n0,linked\n")
    des = load(["experiment=design", f"design.file={points}", *SMALL])
    in_design = rows(des, design.cells(des)).iloc[1]

    # the same design in three shards of units of one cell (replications > half a unit)
    reps = design.SHARD_WORLDS // 2 + 1
    sharded = []
    for i in range(3):
        cfg = load(
            ["experiment=design", f"design.file={points}", "shards=3", f"shard={i}"]
            + [f"replications={reps}", "episodes=2", "rounds=10", "store=null"]
        )
        out = runner.run(cfg, tmp_path / f"shard{i}")
        sharded.append(pd.read_csv(out["cells"], dtype=str, keep_default_na=False))
    assert [len(s) for s in sharded] == [1, 1, 1]  # one unit of one cell each, in order
    whole = load(
        ["experiment=single", "threat.size=2.5", f"replications={reps}"]
        + ["episodes=2", "rounds=10", "store=null"]
    )
    out = runner.run(whole, tmp_path / "whole")
    expected = pd.read_csv(out["cells"], dtype=str, keep_default_na=False).iloc[0]

    for other in (in_map, in_design):
        for c in metric_columns(plain):
            assert other[c] == alone[c] or (np.isnan(other[c]) and np.isnan(alone[c])), c
    for c in metric_columns(plain):  # as written: the same text, so the same bits
        assert sharded[1].iloc[0][c] == expected[c], c


def test_the_default_cells_keep_their_keys_and_streams():
    cfg = load([])
    cells = design.cells(cfg)
    assert len(cells) == 2 * 21 * 21
    assert cells[0] == Cell("baseline", "linked", 0.0, 0.0)
    assert cells[0].key() == cells[0].stream_key() == "baseline|linked|0.0|0.0"
    other = make("baseline", "linked", {"threat.size": 2.0}, 0.0, 0.0)
    assert other.stream_key() == cells[0].stream_key()  # common random numbers
    assert other.key() == "baseline|linked|0.0|0.0|threat.size=2.0"  # a record of its own


# --- per-world parameters: a batch is its worlds run apart ---------------------------------


def run_model(cfg, cells):
    model = LinkageModel(cfg, cells)
    model.run_for(cfg.episodes)
    return {m: np.stack(v) for m, v in model.datacollector.model_vars.items()}  # (E, W)


@pytest.mark.parametrize(
    ("name", "values", "extra"),
    [
        ("threat.size", [0.0, 1.5, 3.0], []),  # a scalar, (W,)
        ("countries.MX.salience.sovereignty", [0.1, 0.35, 0.6], []),  # one weight, rescaled
        (  # a whole vector, (W, n)
            "countries.US.disagreement",
            [(0.1, 0.2, 0.3, 0.4), (0.35, 0.3, 0.3, 0.4), (0.5, 0.5, 0.0, 0.9)],
            [],
        ),
        ("framework.link_at", [0.2, 0.5, 0.9], ["framework=sequenced"]),
    ],
)
def test_a_batch_of_worlds_that_differ_in_one_parameter_is_its_separate_runs(name, values, extra):
    cfg = load(["experiment=single", "replications=5", "episodes=6", "rounds=30", *extra])
    fw = cfg.framework.name.value
    cells = [make("baseline", fw, params.point(cfg, {name: v}), 0.5, 0.5) for v in values]
    batch = run_model(cfg, cells)
    for i, v in enumerate(values):
        alone = load(["experiment=single", "replications=5", "episodes=6", "rounds=30", *extra]
                     + [plain(cfg, name, v)])  # fmt: skip
        apart = run_model(alone, None)
        for m, series in apart.items():
            np.testing.assert_array_equal(batch[m][:, 5 * i : 5 * (i + 1)], series, err_msg=m)


def plain(cfg, name, v) -> str:
    """``name=v`` as a plain config override; a single weight as the whole rescaled vector,
    worked out here from the scenario's weights."""
    if name.startswith("countries.MX.salience."):
        issue = name.rpartition(".")[2]
        base = cfg.countries.MX.salience
        scale = (1 - v) / sum(w for k, w in base.items() if k != issue)
        v = {k: v if k == issue else w * scale for k, w in base.items()}
        name = "countries.MX.salience"
    if isinstance(v, tuple):
        v = dict(zip(cfg.issues, v, strict=True))
    if isinstance(v, dict):
        return f"{name}={{{', '.join(f'{k}: {x!r}' for k, x in v.items())}}}"
    return f"{name}={v!r}"


def test_points_that_differ_move_the_outcome():
    """Not a vacuous identity: the parameter reaches the numbers."""
    cfg = load(["experiment=single", "replications=20", "episodes=4", "rounds=30"])
    cells = [make("baseline", "linked", {"threat.size": v}, 0.5, 0.8) for v in (0.0, 3.0)]
    out = rows(cfg, cells)
    assert out.threats[0] == 0 and out.threats[1] > 0
    assert out.mx_utility[0] != out.mx_utility[1]


# --- the salience rescaling ----------------------------------------------------------------

weights = st.lists(st.floats(0.01, 1.0), min_size=4, max_size=4).map(
    lambda w: [x / sum(w) for x in w]
)


@settings(max_examples=60, deadline=None)
@given(base=weights, value=st.floats(0.0, 1.0), k=st.integers(0, 3))
def test_setting_one_weight_rescales_the_others_to_sum_to_one(base, value, k):
    cfg = load(["experiment=single"])
    cfg.countries.MX.salience = dict(zip(cfg.issues, base, strict=True))
    name = f"countries.MX.salience.{cfg.issues[k]}"
    w = params.per_world(cfg, [params.point(cfg, {name: value})], [1])["countries.MX.salience"][0]
    assert np.all((w >= 0) & (w <= 1)) and abs(w.sum() - 1) < 1e-12
    assert w[k] == value
    others = [i for i in range(4) if i != k]
    ratio = w[others] / np.array(base)[others]
    assert np.allclose(ratio, ratio[0])  # the others keep their proportions
    # the same rule as a dated salience event
    as_event = events.set_weight(np.array([base]), k, value)[0]
    np.testing.assert_allclose(w, as_event, rtol=0, atol=1e-15)


def test_weights_set_together_keep_the_others_in_proportion():
    cfg = load(["experiment=single"])  # MX: trade .35 security .15 migration .15 sovereignty .35
    p = params.point(
        cfg, {"countries.MX.salience.trade": 0.2, "countries.MX.salience.sovereignty": 0.5}
    )
    w = params.per_world(cfg, [p], [1])["countries.MX.salience"][0]
    np.testing.assert_allclose(w, [0.2, 0.15, 0.15, 0.5])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"countries.MX.salience.sovereignty": 1.2}, "a number in [0, 1]"),
        (
            {"countries.MX.salience.sovereignty": 0.7, "countries.MX.salience.trade": 0.5},
            "sum to at most 1",
        ),
        ({"countries.MX.salience": [0.5, 0.5, 0.5, 0.5]}, "weights that sum to 1"),
        ({"countries.MX.salience": [0.5, 0.5]}, "4 values, one per issue"),
        ({"threat.size": -1}, "a number >= 0"),
        ({"threat.sise": 1}, "did you mean threat.size"),
        ({"rounds": 10}, "cannot vary from point to point"),
    ],
)
def test_a_point_that_cannot_be_is_refused_by_name(values, message):
    with pytest.raises(ConfigError) as ex:
        params.point(load(["experiment=single"]), values)
    assert message in str(ex.value)


def test_an_impossible_axis_value_is_one_line_and_exit_2(linkage_cmd, tmp_path):
    r = subprocess.run(
        [linkage_cmd, "+map.axes={countries.MX.salience.sovereignty: [0.2, 1.2]}", "store=null"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert lines == [
        "linkage: error: map.axes.countries.MX.salience.sovereignty=1.2 is not allowed: "
        "a number in [0, 1]"
    ]
    assert not (tmp_path / "outputs").exists() or not list((tmp_path / "outputs").rglob("*.csv"))


# --- maps over any parameters --------------------------------------------------------------


def test_map_axes_are_the_product_in_order_with_the_shorthands_as_default():
    cfg = load(["map.trust=[0.1,0.9]", "map.pressure=[0.2]", "map.framework=[linked]"])
    assert [(c.trust, c.pressure) for c in design.cells(cfg)] == [(0.1, 0.2), (0.9, 0.2)]
    cfg = load(["+map.axes={threat.size: [0, 3], countries.MX.concession: [0.5, 2]}"])
    cells = design.cells(cfg)
    assert len(cells) == 2 * 2 * 2 and cells[0].framework == "linked"
    assert [dict(c.params) for c in cells[:4]] == [
        {"threat.size": a, "countries.MX.concession": b} for a in (0.0, 3.0) for b in (0.5, 2.0)
    ]
    assert design.columns(cfg) == ["threat.size", "countries.MX.concession"]


def test_a_whole_weight_vector_is_an_axis():
    cfg = load(["+map.axes={countries.MX.salience: [[0.25,0.25,0.25,0.25], [0.1,0.2,0.3,0.4]]}"])
    cells = design.cells(cfg)
    table = rows(load([*SMALL, "experiment=single"]), cells[:2])
    assert list(table["trust"]) == [0.5, 0.5]
    assert dict(cells[1].params)["countries.MX.salience"] == (0.1, 0.2, 0.3, 0.4)


# --- designs from a file -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("threat.size\n1\nabc\n", "points.csv: row 3, column threat.size: 'abc' is not allowed"),
        ("threat.sise\n1\n", "points.csv: row 1, column threat.sise"),
        ("threat.size,framework\n1,linkd\n", "row 2, column framework: 'linkd'"),
        ("threat.size\n1\n1\n", "row 3"),
        ("threat.size,noise\n1\n", "row 2"),
        ("threat.size\n", "a header row and at least one point"),
        ("countries.MX.salience.trade\n1.5\n", "row 2, column countries.MX.salience.trade"),
    ],
)
def test_a_bad_design_file_names_the_row_and_column(tmp_path, text, message):
    points = tmp_path / "points.csv"
    points.write_text(text)
    with pytest.raises(ConfigError) as ex:
        load(["experiment=design", f"design.file={points}"])
    assert message in str(ex.value)


def test_a_design_runs_each_point_per_framework_with_its_parameter_columns(tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("threat.size,countries.US.reliability\n0,0.5\n3,1\n")
    cfg = load(["experiment=design", f"design.file={points}", *SMALL])
    table = rows(cfg, design.cells(cfg))
    assert list(table.framework) == ["linked", "delinked", "linked", "delinked"]
    assert list(table["threat.size"]) == [0.0, 0.0, 3.0, 3.0]
    assert list(table["countries.US.reliability"]) == [0.5, 0.5, 1.0, 1.0]
