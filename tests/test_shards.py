"""Shards: a run cut into ``shards=N shard=i`` jobs merges back into the unsharded run's
tables, byte for byte, on every launcher; sweeps over scenarios with other issues merge
into the union of their columns."""

import csv
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from omegaconf import OmegaConf

from sim import design, tables
from sim.config import load

# 1500 worlds a cell: shard units of 2 cells (design.unit)
SMALL = ["replications=1500", "episodes=3", "rounds=20", "jobs=1", "store=null"]
MAP = ["map.trust=[0.2,0.5,0.8]", "map.pressure=[0.3,0.7]", *SMALL]  # 12 cells, 6 units
LINE = ["map.trust=[0.2,0.5,0.8]", "map.pressure=[0.5]", *SMALL]  # 6 cells, 3 units
TABLES = ("cells.csv", "trajectories.csv")
# 7 points with their own framework: 7 cells, the last unit of one cell
DESIGN = """trust,pressure,threat.size,framework
0.2,0.3,1.0,linked
0.2,0.3,1.0,delinked
0.5,0.7,1.5,linked

0.8,0.3,2.0,sequenced
0.8,0.7,0.5,linked
0.5,0.5,1.0,delinked
0.3,0.9,2.5,linked
"""


def linkage(cmd, cwd: Path, *args, ok=True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [cmd, *args, "figures.enabled=false"], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def report(cmd, cwd: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([cmd, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def assert_same_tables(merged: Path, expected: Path) -> None:
    for name in TABLES:  # as cmp: byte for byte
        assert (merged / name).read_bytes() == (expected / name).read_bytes(), name


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_expected_rows_count_axes_designs_and_shards(tmp_path):
    launched = tmp_path / ("a folder with a long name " * 4).strip()  # folded in hydra.yaml
    launched.mkdir()
    (launched / "points.csv").write_text(DESIGN)
    (launched / "plain.csv").write_text("trust,pressure\n0.1,0.2\n0.3,0.4\n0.5,0.6\n")
    cases = [
        ["experiment=single"],
        ["experiment=single", "shards=2", "shard=1"],
        ["map.trust=[0,1]", "map.pressure=[0.5]"],
        ["map.trust=[0,1]", "map.pressure=[0.5]", "map.framework=[linked]"],
        ["+map.axes={trust: [0.1, 0.9], threat.size: [0.5, 1, 2], noise: [0, 0.1]}"],
        ["experiment=design", "design.file=points.csv"],
        ["experiment=design", "design.file=plain.csv", "map.framework=[linked,sequenced]"],
        *[[*MAP, "shards=4", f"shard={i}"] for i in range(4)],
        *[
            ["experiment=design", "design.file=points.csv", *SMALL, "shards=3", f"shard={i}"]
            for i in range(3)
        ],
    ]
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    # a design file is relative to the directory the run was started in, as Hydra records it
    hydra = {
        "hydra": {"run": {"dir": "run"}, "runtime": {"version": "1.3.8", "cwd": str(launched)}}
    }
    OmegaConf.save(OmegaConf.create(hydra), run / ".hydra" / "hydra.yaml")
    for overrides in cases:
        cfg = load([o.replace("design.file=", f"design.file={launched}/") for o in overrides])
        cells = len(design.shard(cfg, design.cells(cfg)))
        cfg.design.file = cfg.design.file and Path(cfg.design.file).name  # as given: relative
        OmegaConf.save(OmegaConf.structured(cfg), run / ".hydra" / "config.yaml")
        expected = {"cells": cells, "trajectories": cells * cfg.episodes}
        assert tables.expected_rows(run) == expected, overrides
    # a design file that is gone, or changed since the run: its rows are unknown, not an error
    points = launched / "points.csv"
    points.unlink()
    assert tables.expected_rows(run) is None
    points.write_text(DESIGN + "0.9,0.9,1.0,linked\n")
    started = (run / ".hydra" / "config.yaml").stat().st_mtime_ns
    os.utime(points, ns=(started + 10**9, started + 10**9))
    assert tables.expected_rows(run) is None
    os.utime(points, ns=(started - 10**9, started - 10**9))
    assert tables.expected_rows(run) == {"cells": 2, "trajectories": 6}  # 8 cells: 2 each
    # ... and so is one whose launch directory is not recorded
    (run / ".hydra" / "hydra.yaml").unlink()
    assert tables.expected_rows(run) is None


@pytest.mark.parametrize("replications", [1, 700, 1500, 4000, 9000])
def test_the_shards_counts_are_design_shards(replications):
    for total in range(1, 30):
        every = list(range(total))
        for shards in range(1, 9):
            counts = []
            for i in range(shards):
                cfg = SimpleNamespace(shards=shards, shard=i, replications=replications)
                counts.append(len(design.shard(cfg, every)))
                assert tables.shard_cells(total, shards, i, replications) == counts[-1]
            assert sum(counts) == total


@pytest.mark.parametrize(
    "launcher",
    [
        "basic",
        pytest.param("joblib", marks=pytest.mark.slow),
        pytest.param("submitit_local", marks=pytest.mark.slow),
    ],
)
def test_a_sharded_map_merges_into_the_unsharded_tables(linkage_cmd, tmp_path, launcher):
    linkage(linkage_cmd, tmp_path, *MAP, "hydra.run.dir=whole")
    shards = ["-m", "shards=4", "shard=range(0,4)", *MAP, f"hydra/launcher={launcher}"]
    linkage(linkage_cmd, tmp_path, *shards, "hydra.sweep.dir=sweep")
    counts = [len(rows(tmp_path / "sweep" / str(i) / "cells.csv")) for i in range(4)]
    assert counts == [4, 4, 2, 2]  # units 0 and 4, 1 and 5, 2, 3
    assert_same_tables(tmp_path / "sweep", tmp_path / "whole")


def test_linkage_report_merges_shard_folders(linkage_cmd, report_cmd, tmp_path):
    (tmp_path / "points.csv").write_text(DESIGN)
    points = ["experiment=design", "design.file=points.csv", *SMALL]
    linkage(linkage_cmd, tmp_path, *points, "hydra.run.dir=whole")
    assert len(rows(tmp_path / "whole" / "cells.csv")) == 7
    shards = ["-m", "shards=3", "shard=0,1,2", *points]
    linkage(linkage_cmd, tmp_path, *shards, "hydra.sweep.dir=sweep")
    root = tmp_path / "sweep"
    assert_same_tables(root, tmp_path / "whole")
    for name in TABLES:
        (root / name).unlink()
    proc = report(report_cmd, tmp_path, "sweep", "figures.enabled=false")
    assert proc.returncode == 0, proc.stderr
    assert_same_tables(root, tmp_path / "whole")
    # without the sweep's record, the job folders found are the shards; without the design
    # file, the shards' rows are not checked against it, but against each other
    (root / "multirun.yaml").unlink()
    (tmp_path / "points.csv").unlink()
    for name in TABLES:
        (root / name).unlink()
    proc = report(report_cmd, tmp_path, str(root), "figures.enabled=false")
    assert proc.returncode == 0, proc.stderr
    assert_same_tables(root, tmp_path / "whole")
    for name, cut in (("cells.csv", 1), ("trajectories.csv", 3)):  # shard 1's last cell
        lines = (root / "1" / name).read_text().splitlines(keepends=True)
        (root / "1" / name).write_text("".join(lines[:-cut]))
    proc = report(report_cmd, tmp_path, str(root))
    says = "the run of shards=3: its shards hold 3, 1, 2 cells and 9, 3, 6 trajectory rows, not"
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr


def test_each_run_of_a_sweep_of_shards_merges_in_job_order(linkage_cmd, tmp_path):
    linkage(linkage_cmd, tmp_path, "-m", "seed=0,1", *LINE, "hydra.sweep.dir=whole")
    sharded = ["-m", "shards=2", "shard=range(0,2)", "seed=0,1", *LINE]
    linkage(linkage_cmd, tmp_path, *sharded, "hydra.sweep.dir=sweep")
    ran = [
        yaml.safe_load((tmp_path / f"sweep/{i}/.hydra/overrides.yaml").read_text())[:3]
        for i in range(4)
    ]
    assert [r[1:] for r in ran] == [
        ["shard=0", "seed=0"],
        ["shard=0", "seed=1"],
        ["shard=1", "seed=0"],
        ["shard=1", "seed=1"],
    ]
    assert_same_tables(tmp_path / "sweep", tmp_path / "whole")


def test_a_missing_shard_is_named_in_one_line(linkage_cmd, report_cmd, tmp_path):
    sweep = ["-m", "shards=3", "shard=0,2", "seed=0,1", *LINE, "hydra.sweep.dir=sweep"]
    proc = linkage(linkage_cmd, tmp_path, *sweep, ok=False)
    says = "the run of shards=3 (seed=0): shard 1 of 3 is missing; no job ran shard=1"
    assert proc.returncode == 2 and proc.stderr.splitlines()[-1].endswith(says), proc.stderr
    assert not (tmp_path / "sweep" / "cells.csv").exists()
    again = report(report_cmd, tmp_path, "sweep")
    assert again.returncode == 2
    assert again.stderr.splitlines() == [f"linkage-report: error: sweep: {says}"]
    # a shard twice (no sweep record: the job folders found are the jobs)
    shutil.copytree(tmp_path / "sweep" / "0", tmp_path / "sweep" / "9")
    (tmp_path / "sweep" / "multirun.yaml").unlink()
    again = report(report_cmd, tmp_path, "sweep")
    assert again.returncode == 2 and "shard 0 of 3 twice" in again.stderr, again.stderr


def test_scenarios_with_other_issues_merge_into_the_union_of_columns(linkage_cmd, tmp_path):
    scenarios = ["-m", "scenario=baseline,bicentennial_2021", *LINE]
    linkage(linkage_cmd, tmp_path, *scenarios, "hydra.sweep.dir=sweep")
    root = tmp_path / "sweep"
    for name in TABLES:
        own = [(root / str(i) / name).read_text().splitlines(keepends=True) for i in (0, 1)]
        first, second = (next(csv.reader(o[:1])) for o in own)
        new = [c for c in second if c not in first]
        assert new == [
            "agreement.health",
            "agreement.health_ci95",
            "position.health",
            "position.health_ci95",
        ]
        merged = (root / name).read_text().splitlines(keepends=True)
        assert next(csv.reader(merged[:1])) == first + new
        n = len(own[0]) - 1
        assert merged[1 : 1 + n] == [line[:-1] + "," * len(new) + "\n" for line in own[0][1:]]
        assert len(merged) == 1 + n + len(own[1]) - 1
        for got, want in zip(rows(root / name)[n:], rows(root / "1" / name), strict=True):
            assert got == want  # the same text under every one of its columns
    # and as shards: the same merged tables
    shards = [*scenarios[:1], "shards=2", "shard=range(0,2)", *scenarios[1:]]
    linkage(linkage_cmd, tmp_path, *shards, "hydra.sweep.dir=shards")
    assert_same_tables(tmp_path / "shards", root)
