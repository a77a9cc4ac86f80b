"""Runs that are split, interrupted, killed or crowded: the same numbers, one line, and no
process or partial file left behind."""

import fcntl
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from sim import design, runner
from sim.cells import Block, Cell
from sim.config import load
from sim.model import LinkageModel

SPLIT = [
    "experiment=single",
    "replications=100",
    "episodes=3",
    "rounds=20",
    "figures.enabled=false",
]


def test_a_cells_worlds_draw_the_same_numbers_in_any_block():
    cfg = load(SPLIT)
    cell = Cell("baseline", "linked", 0.5, 0.5)
    whole = LinkageModel(cfg, blocks=[Block(cell, 0, 100)])
    parts = LinkageModel(
        cfg, blocks=[Block(cell, 0, 37), Block(cell, 37, 99), Block(cell, 99, 100)]
    )
    for m in (whole, parts):
        m.run_for(cfg.episodes)
    for name in ("us_utility", "trust_mx", "reneged", "unilateral_actions"):
        a = np.stack(whole.datacollector.model_vars[name])
        b = np.stack(parts.datacollector.model_vars[name])
        assert np.array_equal(a, b, equal_nan=True), name


def files_of(cfg, tmp_path, name):
    out = runner.run(cfg, tmp_path / name)
    return {n: Path(p).read_bytes() for n, p in out.items()}


@pytest.mark.parametrize("chunk, jobs", [(30, 1), (60, 2), (1000, 2)])
def test_a_cell_split_into_blocks_gives_the_same_bytes_however_it_is_chunked(
    tmp_path, monkeypatch, chunk, jobs
):
    monkeypatch.setattr(runner, "BLOCK_WORLDS", 30)  # 4 blocks of one 100-world cell
    reference = files_of(load([*SPLIT, "jobs=1", "output.worlds=true"]), tmp_path, "ref")
    monkeypatch.setattr(runner, "WORLDS_PER_CHUNK", chunk)
    got = files_of(load([*SPLIT, f"jobs={jobs}", "output.worlds=true"]), tmp_path, "got")
    assert got == reference


def test_blocks_agree_with_the_whole_cell_to_rounding(tmp_path, monkeypatch):
    cfg = load([*SPLIT, "jobs=1"])
    whole = runner.run_cells(cfg, design.cells(cfg))["cells"][0]
    monkeypatch.setattr(runner, "BLOCK_WORLDS", 30)
    split = Path(runner.run(cfg, tmp_path / "split")["cells"]).read_text().splitlines()
    header, values = split[0].split(","), split[1].split(",")
    for key in ("us_utility", "us_utility_ci95", "final_trust_mx", "mx_share_ci95"):
        assert float(values[header.index(key)]) == pytest.approx(whole[key], rel=1e-12)


def test_a_second_run_in_the_same_directory_is_refused(linkage_cmd, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # what a live run holds
    try:
        proc = subprocess.run(
            [linkage_cmd, *SPLIT, f"hydra.run.dir={out}", "store=null"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        os.close(fd)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("linkage: error: another linkage run")
    assert not (out / "cells.csv").exists()


def test_filesystem_faults_are_one_line(linkage_cmd, tmp_path):
    store = tmp_path / "store"
    store.write_text("a file where the store should be")
    proc = subprocess.run(
        [linkage_cmd, *SPLIT, f"hydra.run.dir={tmp_path / 'run'}", f"store={store}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("linkage: error: ") and str(store) in lines[-1]
    assert not list((tmp_path / "run").glob("*.csv")) and not list(tmp_path.rglob("*.tmp"))


def descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            out |= set(kids)
            todo += kids
    return out


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


GRID = ["map.trust=[0,0.25,0.5,0.75,1]", "map.pressure=[0,0.5,1]", "replications=400",
        "episodes=10", "rounds=40", "jobs=2", "figures.enabled=false"]  # fmt: skip


def start(linkage_cmd, tmp_path, store):
    return subprocess.Popen(
        [linkage_cmd, *GRID, f"hydra.run.dir={tmp_path / 'run'}", f"store={store}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip


def wait_for_workers(proc, store):
    deadline = time.time() + 60
    while time.time() < deadline:
        if descendants(proc.pid) and list(Path(store).rglob("*.json")):
            return descendants(proc.pid)
        time.sleep(0.05)
    raise AssertionError("the run never started its workers and stored a cell")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_is_one_line_and_the_rerun_resumes_to_the_same_bytes(
    linkage_cmd, tmp_path, sig
):
    store = tmp_path / "store"
    proc = start(linkage_cmd, tmp_path, store)
    workers = wait_for_workers(proc, store)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and lines[-1].startswith("linkage: interrupted; ")
    assert "rerun the same command to resume" in lines[-1]
    assert not any(alive(w) for w in workers)
    rerun = start(linkage_cmd, tmp_path, store)
    rerun.communicate(timeout=300)
    fresh = runner.run(load(GRID), tmp_path / "fresh")
    for name in ("cells", "trajectories"):
        assert (tmp_path / "run" / f"{name}.csv").read_bytes() == fresh[name].read_bytes()


@pytest.mark.slow
def test_workers_die_with_a_killed_parent(linkage_cmd, tmp_path):
    store = tmp_path / "store"
    proc = start(linkage_cmd, tmp_path, store)
    workers = wait_for_workers(proc, store)
    proc.kill()
    proc.communicate(timeout=60)
    deadline = time.time() + 10
    while any(alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(alive(w) for w in workers)
