"""The command line: bad input, outputs, reproducibility, the negotiation record and
``linkage-report``'s settings."""

import csv
import shutil
import subprocess

import numpy as np
import pytest

SMALL_MAP = [
    "replications=8",
    "episodes=3",
    "rounds=30",
    "map.trust=[0.2,0.7]",
    "map.pressure=[0.0,0.6]",
    "figures.enabled=false",  # the figures have tests of their own
]


def run(cmd, tmp_path, *args, name="run", store="null"):
    """Run ``linkage`` into ``tmp_path/name``; by default with no shared cell store."""
    out = tmp_path / name
    proc = subprocess.run(
        [cmd, *args, f"hydra.run.dir={out}", f"store={store}"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    return proc, out


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    "override, named",
    [
        ("trust=1.5", "trust=1.5"),
        ("pressure=-0.1", "pressure=-0.1"),
        ("episodes=0", "episodes=0"),
        ("rounds=0", "rounds=0"),
        ("replications=0", "replications=0"),
        ("seed=-1", "seed=-1"),
        ("noise=2", "noise=2"),
        ("countries.MX.reliability=1.2", "countries.MX.reliability=1.2"),
        ("countries.US.salience.trade=0.5", "countries.US.salience"),
        ("trust=abc", "trust=abc"),
        ("trustt=0.5", "trustt"),
        ("scenario=atlantis", "scenario/atlantis"),
        ("framework=bundled", "framework/bundled"),
        ("experiment=grid", "experiment/grid"),
        ("countries.US.salience.drugs=0.1", "drugs"),
        ("framework=custom", "framework.tables"),
        ("experiment=map map.trust=[0.5,2]", "map.trust=2"),
    ],
)
def test_bad_input_gets_one_clear_line_and_no_output(linkage_cmd, tmp_path, override, named):
    proc, out = run(linkage_cmd, tmp_path, "experiment=single", *override.split())
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("linkage: error:"), proc.stderr
    assert named in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (out / "cells.csv").exists()


@pytest.mark.parametrize(
    "tables, why",
    [
        ("[[trade],[security,migration]]", "'sovereignty' is missing"),
        ("[[trade,security],[security,migration,sovereignty]]", "'security' is on more than one"),
        ("[[trade,security,migration,sovereignty,drugs]]", "'drugs' is not one"),
    ],
)
def test_tables_must_partition_the_issues(linkage_cmd, tmp_path, tables, why):
    proc, out = run(
        linkage_cmd, tmp_path, "framework=custom", f"framework.tables={tables}", "experiment=single"
    )
    assert proc.returncode == 2 and why in proc.stderr and "framework.tables" in proc.stderr


def test_full_error_shows_the_traceback(linkage_cmd, tmp_path):
    import os

    env = dict(os.environ, HYDRA_FULL_ERROR="1")
    proc = subprocess.run(
        [linkage_cmd, "trust=1.5", "experiment=single", f"hydra.run.dir={tmp_path}"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_same_config_and_seed_give_byte_identical_files(linkage_cmd, tmp_path):
    a, out_a = run(linkage_cmd, tmp_path, *SMALL_MAP, name="a")
    b, out_b = run(linkage_cmd, tmp_path, *SMALL_MAP, "jobs=1", name="b")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert f"results in {out_a}" in a.stdout
    for name in ("cells.csv", "trajectories.csv"):
        assert (out_a / name).read_bytes() == (out_b / name).read_bytes()
    c, out_c = run(linkage_cmd, tmp_path, *SMALL_MAP, "seed=1", name="c")
    assert (out_a / "cells.csv").read_bytes() != (out_c / "cells.csv").read_bytes()


def test_a_cell_alone_equals_the_same_cell_inside_the_map(linkage_cmd, tmp_path):
    _, grid = run(linkage_cmd, tmp_path, *SMALL_MAP, name="grid")
    _, alone = run(
        linkage_cmd,
        tmp_path,
        *SMALL_MAP[:3],
        "experiment=single",
        "framework=delinked",
        "trust=0.7",
        "pressure=0.6",
        name="alone",
    )
    [single] = rows(alone / "cells.csv")
    match = [
        r
        for r in rows(grid / "cells.csv")
        if (r["framework"], r["trust"], r["pressure"]) == ("delinked", "0.7", "0.6")
    ]
    assert match == [single]
    traj = [
        r
        for r in rows(grid / "trajectories.csv")
        if r["framework"] == "delinked" and r["trust"] == "0.7" and r["pressure"] == "0.6"
    ]
    assert traj == rows(alone / "trajectories.csv")


def test_outputs_have_the_design_columns(linkage_cmd, tmp_path):
    proc, out = run(linkage_cmd, tmp_path, *SMALL_MAP, "output.worlds=true")
    assert proc.returncode == 0, proc.stderr
    cells = rows(out / "cells.csv")
    assert len(cells) == 2 * 2 * 2
    for col in (
        "scenario",
        "framework",
        "trust",
        "pressure",
        "seed",
        "replications",
        "episodes",
        "agreement_rate",
        "efficiency_ci95",
        "mx_share",
        "nash_product",
        "final_trust_us",
        "final_trust_mx",
        "linked",
        "rounds",
    ):
        assert col in cells[0]
    assert len(rows(out / "trajectories.csv")) == 8 * 3
    assert len(rows(out / "worlds.csv")) == 8 * 3 * 8


SMALL_SINGLE = ["experiment=single", "replications=6", "episodes=3", "rounds=30"]


def test_recording_changes_no_number_and_keeps_only_the_asked_worlds():
    from sim.config import load
    from sim.model import LinkageModel

    cfg = load([*SMALL_SINGLE, "framework=delinked"])
    plain, recorded = LinkageModel(cfg), LinkageModel(cfg, record_worlds=[4, 0])
    plain.run_for(cfg.episodes)
    recorded.run_for(cfg.episodes)
    assert plain.record == []
    for name, rows in plain.datacollector.model_vars.items():
        np.testing.assert_array_equal(rows, recorded.datacollector.model_vars[name])
    n = len(cfg.issues)  # delinked: one table per issue, every episode
    assert len(recorded.record) == 2 * n * cfg.episodes
    for world in (0, 4):
        tables = [t for t in recorded.record if t.world == world]
        assert [t.episode for t in tables] == [e for e in range(1, 4) for _ in range(n)]
        assert all(t.offers.shape == (cfg.rounds, 2) for t in tables)
        assert all(t.agreed == (t.round < cfg.rounds) for t in tables)
    with pytest.raises(ValueError, match="record_worlds"):
        LinkageModel(cfg, record_worlds=[6])


def test_a_single_run_keeps_its_record_in_its_one_simulation(tmp_path, monkeypatch):
    """The dance is drawn from the run itself: one simulation, not a replay. A cell resumed
    from the store is replayed once, and gives the same record."""
    from sim import runner
    from sim.config import load

    calls = []
    model = runner.LinkageModel

    def counted(*args, **kwargs):  # every simulation builds one model
        calls.append(1)
        return model(*args, **kwargs)

    monkeypatch.setattr(runner, "LinkageModel", counted)
    cfg = load([*SMALL_SINGLE, "jobs=1"])
    files = runner.run(cfg, tmp_path / "a", tmp_path / "store")
    assert len(calls) == 1 and {t.world for t in files.record} == {0}
    assert [t.episode for t in files.record] == [1, 2, 3]  # linked: one table per episode
    again = runner.run(cfg, tmp_path / "b", tmp_path / "store")
    assert len(calls) == 2  # resumed from the store: replayed for the record alone
    assert again["cells"].read_bytes() == files["cells"].read_bytes()
    for a, b in zip(files.record, again.record, strict=True):
        np.testing.assert_array_equal(a.offers, b.offers)
    cfg.figures.enabled = False
    assert runner.run(cfg, tmp_path / "c", tmp_path / "store").record == []
    assert len(calls) == 2


def test_a_single_run_draws_the_dance_of_the_chosen_episode(linkage_cmd, tmp_path):
    proc, out = run(
        linkage_cmd, tmp_path, *SMALL_SINGLE, "figures.episode=2", "figures.formats=[png]"
    )
    assert proc.returncode == 0, proc.stderr
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert "dance_episode2_table0.png" in figures and not any(".svg" in p for p in figures)
    assert "Each figure comes as PNG." in (out / "figures" / "README.md").read_text()


def test_linkage_report_takes_the_runs_figure_settings_and_overrides(linkage_cmd, tmp_path, capsys):
    from sim import report

    proc, out = run(linkage_cmd, tmp_path, *SMALL_SINGLE, "figures.formats=[svg]")
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(out / "figures")  # redrawn from the tables alone

    def drawn():
        return {p.suffix for p in (out / "figures").glob("trajectories*")}

    report.main([str(out)])  # the run's own settings: SVG only
    assert drawn() == {".svg"}
    assert "Each figure comes as SVG." in (out / "figures" / "README.md").read_text()
    shutil.rmtree(out / "figures")
    report.main([str(out), "figures.formats=[png,pdf]", "figures.cells=[[0.3,0.7]]"])
    assert drawn() == {".png", ".pdf"}
    assert "PNG and PDF" in (out / "figures" / "README.md").read_text()
    capsys.readouterr()
    for bad, message in [
        ("figures.formats=[gif]", "figures.formats='gif' is not allowed: png, svg or pdf"),
        ("figures.episode=9", "figures.episode=9 is not allowed: an episode in 1..3"),
        ("trust=0.2", "trust=0.2 is not allowed: only figures.* settings"),
    ]:
        with pytest.raises(SystemExit) as ex:
            report.main([str(out), bad])
        err = capsys.readouterr().err.strip().splitlines()
        assert ex.value.code == 2 and len(err) == 1, err
        assert err[0].startswith(f"linkage-report: error: {message}")
    shutil.rmtree(out / "figures")
    report.main([str(out), "figures.enabled=false"])
    assert not (out / "figures").exists()


def test_a_sweep_with_figures_off_is_merged_without_figures(linkage_cmd, tmp_path):
    from omegaconf import OmegaConf

    from sim import sweep

    proc, job = run(linkage_cmd, tmp_path, *SMALL_SINGLE, "figures.enabled=false", name="0")
    assert proc.returncode == 0, proc.stderr
    shutil.copytree(job, tmp_path / "1")
    config = OmegaConf.load(job / ".hydra" / "config.yaml")
    config.hydra = {"sweep": {"dir": str(tmp_path)}}
    sweep.MergeCallback().on_multirun_end(config)
    assert len(rows(tmp_path / "cells.csv")) == 2 and not (tmp_path / "figures").exists()
    config.figures.enabled = True
    sweep.MergeCallback().on_multirun_end(config)
    assert (tmp_path / "figures" / "README.md").exists()
