"""Sweeps: every launcher and the in-process grid agree bit for bit; grids resume."""

import csv
import signal
import subprocess
import time

import pytest

COMMON = ["replications=10", "episodes=3", "rounds=30", "store=null", "figures.enabled=false"]


def cell_rows(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return sorted(rows, key=lambda r: (r["framework"], float(r["trust"]), float(r["pressure"])))


def multirun(cmd, root, launcher):
    proc = subprocess.run(
        [
            cmd,
            "-m",
            "framework=linked,delinked",
            "pressure=0,1",
            "trust=0.5",
            "experiment=single",
            *COMMON,
            f"hydra/launcher={launcher}",
            f"hydra.sweep.dir={root}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=root.parent,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root / "cells.csv"


@pytest.mark.slow  # every launcher, one process each
def test_launchers_and_the_in_process_grid_agree_bit_for_bit(linkage_cmd, tmp_path):
    grid = tmp_path / "grid"
    proc = subprocess.run(
        [linkage_cmd, "map.trust=[0.5]", "map.pressure=[0,1]", *COMMON, f"hydra.run.dir={grid}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    expected = cell_rows(grid / "cells.csv")
    assert len(expected) == 4
    for launcher in ("basic", "joblib", "submitit_local"):
        merged = multirun(linkage_cmd, tmp_path / launcher, launcher)
        assert cell_rows(merged) == expected, launcher


@pytest.mark.slow
def test_a_multirun_root_gets_merged_tables_and_figures(linkage_cmd, tmp_path):
    root = tmp_path / "sweep"
    proc = subprocess.run(
        [
            linkage_cmd,
            "-m",
            "framework=linked,delinked",
            "pressure=0,1",
            "trust=0.2,0.8",
            "experiment=single",
            "replications=5",
            "episodes=2",
            "rounds=20",
            "store=null",
            f"hydra.sweep.dir={root}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(cell_rows(root / "cells.csv")) == 8
    figures = root / "figures"
    assert (figures / "map_mx_utility.png").exists()
    assert not (figures / "map_mx_utility.svg").exists()  # vector formats only when asked
    assert "map_mx_utility" in (figures / "README.md").read_text()


def test_linkage_report_redraws_any_output_directory(tmp_path, linkage_cmd, report_cmd):
    out = tmp_path / "one"
    subprocess.run(
        [linkage_cmd, "experiment=single", *COMMON, f"hydra.run.dir={out}"],
        check=True,
        capture_output=True,
    )
    proc = subprocess.run([report_cmd, str(out)], capture_output=True, text=True)
    assert proc.returncode == 0 and (out / "figures" / "README.md").exists(), proc.stderr
    bad = subprocess.run([report_cmd, str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert bad.returncode == 2 and "no cells.csv" in bad.stderr


GRID = [
    "map.trust=[0,0.2,0.4,0.6,0.8,1]",
    "map.pressure=[0,0.5,1]",
    "replications=400",
    "episodes=4",
    "rounds=30",
    "jobs=1",
    "figures.enabled=false",
]


def test_an_interrupted_grid_resumes_without_recomputing(linkage_cmd, tmp_path):
    """Kill a grid after its first chunks; the rerun keeps their files and finishes the rest."""
    store = tmp_path / "store"
    cmd = [linkage_cmd, *GRID, f"store={store}", f"hydra.run.dir={tmp_path / 'resumed'}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(store.rglob("*.json"))) < 10:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p: p.stat().st_mtime_ns for p in store.rglob("*.json")}
    assert 10 <= len(finished) < 36, "the kill should land mid-grid"
    assert not (tmp_path / "resumed" / "cells.csv").exists()

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming: {len(finished)} of 36 cells already finished" in rerun.stderr + rerun.stdout
    for p, mtime in finished.items():
        assert p.stat().st_mtime_ns == mtime, "a finished cell was recomputed"

    fresh = tmp_path / "fresh"
    subprocess.run(
        [linkage_cmd, *GRID, "store=null", f"hydra.run.dir={fresh}"],
        check=True,
        capture_output=True,
    )
    for name in ("cells.csv", "trajectories.csv"):
        assert (tmp_path / "resumed" / name).read_bytes() == (fresh / name).read_bytes()


@pytest.mark.parametrize("changed", ["seed=1", "countries.MX.reliability=0.5"])
def test_the_store_never_serves_another_configs_cells(linkage_cmd, tmp_path, changed):
    store = tmp_path / "store"
    base = [
        linkage_cmd,
        "experiment=single",
        *COMMON[:-2],
        f"store={store}",
        "figures.enabled=false",
    ]
    subprocess.run([*base, f"hydra.run.dir={tmp_path / 'a'}"], check=True, capture_output=True)
    proc = subprocess.run(
        [*base, changed, f"hydra.run.dir={tmp_path / 'b'}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "resuming" not in proc.stderr
    assert (tmp_path / "a" / "cells.csv").read_bytes() != (
        tmp_path / "b" / "cells.csv"
    ).read_bytes()
