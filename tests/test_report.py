"""Faults and bad input around ``linkage-report`` and the multirun merge: nothing is drawn
or merged from missing or damaged output, one line names the job or file, the old output
stays as it was; and a config file that does not parse is named by file, line and column."""

import shutil
import subprocess
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim import report, tables
from sim.sweep import MergeCallback, StopRun

SMALL = ["experiment=single", "replications=2", "episodes=2", "rounds=10", "store=null"]
SWEEP = ["framework=linked,delinked", "pressure=0,1"]  # jobs: (linked,0) (linked,1) (delinked,0) …


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, linkage_cmd):
    """A finished four-job multirun with its merged tables, made once for the module."""
    base = tmp_path_factory.mktemp("sweep")
    root = base / "root"
    proc = subprocess.run(
        [linkage_cmd, "-m", *SWEEP, *SMALL, "figures.enabled=false", f"hydra.sweep.dir={root}"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=base,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root


@pytest.fixture
def root(sweep, tmp_path):
    """This test's own copy of the sweep."""
    return Path(shutil.copytree(sweep, tmp_path / "root"))


def snapshot(directory: Path) -> dict:
    """Every file below ``directory`` and its bytes: "nothing written" is "no change here"."""
    return {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def refused(capsys, *args) -> str:
    """``linkage-report ARGS`` in this process must stop with exit 2 and one line."""
    with pytest.raises(SystemExit) as ex:
        report.main([str(a) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert ex.value.code == 2 and len(err) == 1, err
    assert err[0].startswith("linkage-report: error: ")
    return err[0]


def cut(path: Path, where) -> None:
    text = path.read_bytes()
    path.write_bytes(text[: where(text)])


CUTS = {
    "mid-header": lambda t: 10,
    "after the header": lambda t: t.index(b"\n") + 1,
    "mid-row": lambda t: (t.index(b"\n") + len(t)) // 2,
    "inside the last field": lambda t: len(t) - 3,
    "a whole row short": lambda t: t.rindex(b"\n", 0, len(t) - 1) + 1,
    "empty": lambda t: 0,
}


@pytest.mark.parametrize("table", ["cells", "trajectories"])
@pytest.mark.parametrize("at", CUTS)
def test_a_run_with_a_cut_table_is_refused_and_its_figures_kept(root, capsys, table, at):
    run = root / "0"
    (run / "figures").mkdir()
    (run / "figures" / "README.md").write_text("the figures of the whole tables\n")
    cut(run / f"{table}.csv", CUTS[at])
    before = snapshot(run)
    line = refused(capsys, run)
    assert f"{run / table}.csv" in line, line
    assert snapshot(run) == before


@pytest.mark.parametrize(
    "remove, says",
    [
        (
            "2/cells.csv",
            "job 2 of 4 (framework=delinked pressure=0) has no cells.csv (not finished?)",
        ),
        ("3", "job 3 of 4 (framework=delinked pressure=1) has no directory 3/ (not started?)"),
        (
            "1/trajectories.csv",
            "job 1 of 4 (framework=linked pressure=1): 1/trajectories.csv is missing",
        ),
    ],
)
def test_a_sweep_with_a_job_missing_is_refused_and_keeps_its_merged_tables(
    root, report_cmd, remove, says
):
    gone = root / remove
    shutil.rmtree(gone) if gone.is_dir() else gone.unlink()
    before = snapshot(root)
    proc = subprocess.run([report_cmd, str(root)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"linkage-report: error: {root}: {says}"], proc.stderr
    assert snapshot(root) == before
    # the multirun's own merge says the same, as a stop Hydra cannot turn into a warning
    config = OmegaConf.load(root / "multirun.yaml")
    config.hydra.sweep.dir = str(root)
    with pytest.raises(StopRun) as stop:
        MergeCallback().on_multirun_end(config)
    assert (stop.value.message, stop.value.status) == (f"{root}: {says}", 2)
    assert snapshot(root) == before


def _drop_a_field(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].rpartition(",")[0] + "\n"
    path.write_text("".join(lines))


def _other_columns(path: Path) -> None:
    path.write_text(path.read_text().replace("scenario,", "scenery,", 1))


DAMAGE = {
    "cut mid-row": (
        lambda job: cut(job / "cells.csv", CUTS["mid-row"]),
        "1/cells.csv is cut mid-row (its last line has no newline)",
    ),
    "a row short": (
        lambda job: cut(job / "trajectories.csv", CUTS["a whole row short"]),
        "1/trajectories.csv has 1 rows; its run's config calls for 2 (cut short?)",
    ),
    "a field short": (
        lambda job: _drop_a_field(job / "cells.csv"),
        "1/cells.csv: line 2 has",
    ),
    "other columns": (
        lambda job: _other_columns(job / "cells.csv"),
        "1/cells.csv has other columns than the first job's",
    ),
    "another sweep's job": (
        lambda job: shutil.copy(job.parent / "0/.hydra/overrides.yaml", job / ".hydra"),
        "its directory holds another job (framework=linked pressure=0 experiment=single ",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_sweep_with_a_damaged_job_is_refused_and_keeps_its_merged_tables(root, capsys, damage):
    spoil, says = DAMAGE[damage]
    spoil(root / "1")
    before = snapshot(root)
    line = refused(capsys, root)
    assert line.startswith(
        f"linkage-report: error: {root}: job 1 of 4 (framework=linked pressure=1)"
    )
    assert says in line, line
    assert snapshot(root) == before


def test_a_complete_sweep_still_merges_byte_for_byte(sweep, root, capsys):
    for name in ("cells.csv", "trajectories.csv"):
        (root / name).unlink()
    report.main([str(root), "figures.enabled=false"])
    for name in ("cells.csv", "trajectories.csv"):
        parts = [(root / str(i) / name).read_bytes().split(b"\n", 1) for i in range(4)]
        assert (root / name).read_bytes() == parts[0][0] + b"\n" + b"".join(p[1] for p in parts)
        assert (root / name).read_bytes() == (sweep / name).read_bytes()  # as the multirun did
    report.main([str(root), "figures.enabled=false"])  # over good tables: the same again
    assert snapshot(root) == snapshot(sweep)  # and no temporary file left


def test_a_multirun_whose_merge_fails_ends_with_one_line(linkage_cmd, tmp_path):
    root = tmp_path / "root"
    (root / "cells.csv").mkdir(parents=True)  # where the merged table must go
    proc = subprocess.run(
        [linkage_cmd, "-m", "framework=linked,delinked", *SMALL, "episodes=1"]
        + ["figures.enabled=false", f"hydra.sweep.dir={root}"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert proc.stderr.splitlines() == [
        f"linkage: error: {root}: cannot write the merged tables: {root}/cells.csv is not a file"
    ], proc.stderr
    assert (root / "1" / "cells.csv").is_file()  # the jobs ran; only the merge failed
    assert not (root / "trajectories.csv").exists()
    assert not list(root.glob(".*"))


def test_no_figure_formats_draws_nothing_and_says_so(root, capsys):
    run = root / "0"
    report.main([str(run), "figures.formats=[]"])
    assert "figures.formats is empty: no figures drawn" in capsys.readouterr().out
    assert [p.name for p in (run / "figures").iterdir()] == ["README.md"]
    readme = (run / "figures" / "README.md").read_text()
    assert "No figures were asked for" in readme and "trajectories_" not in readme


BROKEN = {  # a scenario file; what follows its name: the place (1-based) and the problem
    "unclosed bracket": (
        "scenario:\n  name: broken\n  provenance: [ev-a, ev-b\n",
        ":4:1: expected ',' or ']', but got '<stream end>'",
    ),
    "bad indent": (
        "scenario:\n  name: broken\n   teaching: x\n",
        ":3:12: mapping values are not allowed here",
    ),
    "tab": ("scenario:\n\tname: broken\n", ":2:1: found character '\\t' that cannot start any"),
    "unclosed quote": ('scenario:\n  name: "broken\n', ":3:1: found unexpected end of stream"),
    "duplicate key": ("scenario:\n  name: a\n  name: b\n", ":3:3: found duplicate key name"),
    "not UTF-8": (
        "scenario:\n  teaching: Mérida\n".encode("latin-1"),
        ": not UTF-8 text (byte 0xe9)",
    ),
}


@pytest.mark.parametrize("fault", BROKEN)
def test_a_config_file_that_does_not_parse_is_named_with_its_place(tmp_path, capsys, fault):
    from sim import cli
    from sim.config import load

    text, says = BROKEN[fault]
    scenario = tmp_path / "conf" / "scenario" / "broken.yaml"
    scenario.parent.mkdir(parents=True)
    write = scenario.write_bytes if isinstance(text, bytes) else scenario.write_text
    write(text)
    with pytest.raises(SystemExit) as ex:  # the hook the command's errors go through
        cli._run_and_report(lambda: load(["scenario=broken"], config_dir=tmp_path / "conf"))
    err = capsys.readouterr().err.strip().splitlines()
    assert ex.value.code == 2 and len(err) == 1, err
    assert err[0].startswith(f"linkage: error: {scenario.resolve()}{says}"), err
    # a run whose recorded config was damaged the same way: linkage-report names it alike
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / "cells.csv").write_text("scenario\nbroken\n")
    shutil.copy(scenario, run / ".hydra" / "config.yaml")
    line = refused(capsys, run)
    assert f"{(run / '.hydra' / 'config.yaml').resolve()}{says}" in line, line


def test_the_command_names_a_broken_scenario_in_one_line(linkage_cmd, tmp_path):
    text, says = BROKEN["unclosed bracket"]
    (tmp_path / "scenario").mkdir()
    (tmp_path / "scenario" / "broken.yaml").write_text(text)
    proc = subprocess.run(
        [linkage_cmd, "--config-dir", str(tmp_path), "scenario=broken", "experiment=single"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    where = (tmp_path / "scenario" / "broken.yaml").resolve()
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"linkage: error: {where}{says}"), lines


def test_the_rows_expected_of_a_run_are_the_runners(tmp_path):
    from sim.config import load
    from sim.design import cells as cells_for

    for overrides in (["map.trust=[0,1]", "map.pressure=[0.5]", "episodes=3"], SMALL):
        cfg = load(overrides)
        (tmp_path / ".hydra").mkdir(exist_ok=True)
        OmegaConf.save(OmegaConf.structured(cfg), tmp_path / ".hydra" / "config.yaml")
        cells = len(cells_for(cfg))
        expected = {"cells": cells, "trajectories": cells * cfg.episodes}
        assert tables.expected_rows(tmp_path) == expected
