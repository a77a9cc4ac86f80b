"""The figures follow the map's axes: two parameters give difference maps, one gives lines
per framework, more than two no map (the README says what to ask for); every axis is
labelled with its parameter's name and units, and the default trust x pressure figures keep
their names."""

import numpy as np
import pandas as pd
import pytest

from sim import design, params, plot, report, runner
from sim.config import FiguresConfig, load

SMALL = ["replications=3", "episodes=2", "rounds=10"]
METRICS = list(plot.MAP_METRICS)


def tables(tmp_path, *overrides):
    """A small map's cells and trajectories, read back from CSV as ``linkage-report`` reads
    them (a vector parameter comes back as its JSON text)."""
    cfg = load([*overrides, *SMALL])
    rows = runner.run_cells(cfg, design.cells(cfg))
    out = []
    for name in ("cells", "trajectories"):
        path = tmp_path / f"{name}.csv"
        pd.DataFrame(rows[name]).to_csv(path, index=False)
        out.append(pd.read_csv(path))
    return out


@pytest.fixture
def drawn(tmp_path, monkeypatch):
    """Draw a run's figures (as SVG, the quickest); {file stem: the Figure saved under it}."""

    def draw(cells, traj, at=((0.2, 0.8),)):
        saved, save = {}, plot.save

        def keep(fig, path, formats=None):
            saved[path.name] = fig
            return save(fig, path, formats)

        monkeypatch.setattr(plot, "save", keep)
        spec = FiguresConfig(formats=["svg"], cells=[list(p) for p in at])
        report.figures(tmp_path, cells, traj, spec=spec)
        assert {p.stem for p in (tmp_path / "figures").glob("*.svg")} == set(saved)
        return saved

    return draw


def maps(fig):
    """A figure's maps, not their colour bars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def readme(tmp_path) -> str:
    return (tmp_path / "figures" / "README.md").read_text()


def test_two_named_axes_give_maps_labelled_with_their_parameters(tmp_path, drawn):
    cells, traj = tables(
        tmp_path,
        "+map.axes={threat.size: [0, 1.5, 3], countries.MX.salience.sovereignty: [0.1, 0.4]}",
    )
    assert plot.map_axes(cells) == ["threat.size", "countries.MX.salience.sovereignty"]
    figs = drawn(cells, traj, at=[(1.4, 0.3), (0, 0)])
    assert {f"map_{m}" for m in METRICS} | {"maps"} <= set(figs)
    for stem in [*(f"map_{m}" for m in METRICS), "maps"]:
        for ax in maps(figs[stem]):
            assert ax.get_xlabel().startswith("threat.size\n") and "σ" in ax.get_xlabel()
            assert ax.get_ylabel().startswith("countries.MX.salience.sovereignty\n")
            corners = ax.collections[0].get_coordinates()  # the cells' edges
            assert corners[0, 0, 0] < 0 < 3 < corners[0, -1, 0]
            assert corners[0, 0, 1] < 0.1 < 0.4 < corners[-1, 0, 1]
    title = figs["maps"].texts[0].get_text()
    assert (
        title == "baseline: linked − delinked over threat.size × countries.MX.salience.sovereignty"
    )
    # the pairs of figures.cells are points in the two axes' units
    stems = {s for s in figs if s.startswith("trajectories_")}
    assert stems == {
        "trajectories_threat.size1.5_countries.MX.salience.sovereignty0.4",
        "trajectories_threat.size0_countries.MX.salience.sovereignty0.1",
    }
    text = readme(tmp_path)
    assert "for each `threat.size` (x) and `countries.MX.salience.sovereignty` (y)" in text
    assert "at `threat.size` 1.5 and `countries.MX.salience.sovereignty` 0.4" in text
    assert "trust" not in figs["map_mx_utility"].axes[0].get_xlabel()


def test_one_axis_gives_each_frameworks_line_with_its_band(tmp_path, drawn):
    cells, traj = tables(tmp_path, "+map.axes={guarantor.vouching: [0, 0.5, 1]}")
    figs = drawn(cells, traj, at=[(0.2, 0.8), (0.9, 0.1)])  # the first value of each pair
    assert not any(s.startswith("map") for s in figs)
    assert {f"line_{m}" for m in METRICS} | {"lines"} <= set(figs)
    ax = figs["line_mx_utility"].axes[0]
    assert ax.get_xlabel().startswith("guarantor.vouching\n") and "0-1" in ax.get_xlabel()
    assert ax.get_ylabel() == "Mexican utility"
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"linked", "delinked"}
    for fw, line in lines.items():
        assert line.get_color() == plot.FRAMEWORK_COLOURS[fw]
        assert list(line.get_xdata()) == [0, 0.5, 1]
        rows = cells[cells.framework == fw].sort_values("guarantor.vouching")
        assert np.allclose(line.get_ydata(), rows.mx_utility)
    assert len(ax.collections) == 2  # a 95% band per framework
    assert len(figs["lines"].axes) == 6
    stems = {s for s in figs if s.startswith("trajectories_")}
    assert stems == {"trajectories_guarantor.vouching0", "trajectories_guarantor.vouching1"}
    assert "for each `guarantor.vouching` (x), a line per framework" in readme(tmp_path)


def test_a_vector_axis_is_categorical(tmp_path):
    vectors = ["[0.35, 0.15, 0.15, 0.35]", "[0.1, 0.2, 0.2, 0.5]"]
    cells, _ = tables(tmp_path, f"+map.axes={{countries.MX.salience: [{', '.join(vectors)}]}}")
    assert list(dict.fromkeys(cells["countries.MX.salience"])) == vectors
    ax = plot.line_figure(cells, "mx_utility").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == vectors
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [[0, 1], [0, 1]]
    assert ax.get_xlabel().startswith("countries.MX.salience\n")
    # figures.cells counts a categorical axis's values 0, 1, ...
    (point,) = plot.nearest_cells(cells, [(0.9, 0.0)], ["countries.MX.salience"])
    assert point == (vectors[1],)
    stem = plot.point_stem({"countries.MX.salience": vectors[1]})
    assert stem == "countries.MX.salience0.1-0.2-0.2-0.5"


def test_three_axes_draw_no_map_and_say_which_to_ask_for(tmp_path, drawn, caplog):
    axes = "{threat.size: [0, 3], noise: [0, 0.1], guarantor.vouching: [0, 0.5]}"
    cells, traj = tables(tmp_path, f"+map.axes={axes}")
    assert drawn(cells, traj) == {}
    assert [p.name for p in (tmp_path / "figures").iterdir()] == ["README.md"]
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(said) == 1 and "(threat.size, noise, guarantor.vouching)" in said[0], said
    assert "no map" in said[0]
    text = readme(tmp_path)
    assert "`threat.size`, `noise`, `guarantor.vouching`" in text
    assert "'+map.axes={threat.size: [0, 3], noise: [0, 0.1]}'" in text
    assert "How to read them" not in text


def test_the_default_trust_and_pressure_figures_keep_their_names(tmp_path, drawn):
    cells, traj = tables(tmp_path, "map.trust=[0.2,0.5,0.8]", "map.pressure=[0.2,0.5,0.8]")
    figs = drawn(cells, traj, at=[(0.2, 0.8), (0.5, 0.5), (0.8, 0.2)])
    assert set(figs) == {f"map_{m}" for m in METRICS} | {"maps"} | {
        "trajectories_trust0.2_pressure0.8",
        "trajectories_trust0.5_pressure0.5",
        "trajectories_trust0.8_pressure0.2",
    }
    ax = figs["map_mx_utility"].axes[0]
    assert ax.get_xlabel() == plot.AXIS_LABELS["trust"]
    assert ax.get_ylabel() == plot.AXIS_LABELS["pressure"]
    assert figs["maps"].texts[0].get_text() == "baseline: linked − delinked over trust × pressure"
    assert "for each initial trust (x) and US pressure (y)" in readme(tmp_path)


def test_a_single_run_keeps_its_trajectory_name(tmp_path, drawn):
    cells, traj = tables(tmp_path, "experiment=single", "trust=0.3")
    assert plot.map_axes(cells) == []
    assert set(drawn(cells, traj)) == {"trajectories_trust0.3_pressure0.5"}


def test_every_parameter_has_a_label_with_its_name():
    cfg = load()
    for name in params.names(cfg):
        label = plot.axis_label(name)
        if name in plot.AXIS_LABELS:
            continue
        assert plot.describe(name) is not None, name
        assert label.startswith(f"{name}\n") and "(" in label, label
    assert plot.axis_label("countries.MX.salience.trade") == (
        "countries.MX.salience.trade\nMexican weight on trade (0-1, the others rescaled)"
    )
    assert plot.axis_label("no.such.thing") == "no.such.thing"
