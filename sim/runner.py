"""Running experiments: cells, chunks over local cores, and the output files.

The model knows nothing of files; this module turns a validated config into cells, runs
them in chunks (each chunk one batched :class:`LinkageModel`), reduces each cell to its
rows, keeps each finished cell in a :class:`~sim.store.Store` (so an interrupted run
resumes), and streams the rows into ``cells.csv`` and ``trajectories.csv`` in the run
directory, each written atomically.
"""

from __future__ import annotations

import csv
import gc
import io
import logging
import math
import multiprocessing
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from itertools import islice, product
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim import metrics
from sim.cells import Cell
from sim.config import Config, ExperimentName
from sim.model import LinkageModel, TableRecord, disabled_parts, single_cell
from sim.store import Store

log = logging.getLogger(__name__)

PARAMS = ["scenario", "framework", "trust", "pressure", "seed", "replications", "episodes"]
CELL_COLUMNS = (
    PARAMS
    + [c for m in metrics.NAMES for c in (m, f"{m}_ci95")]
    + ["final_trust_us", "final_trust_us_ci95", "final_trust_mx", "final_trust_mx_ci95"]
)
TRAJECTORY_COLUMNS = PARAMS + ["episode"] + [c for m in metrics.NAMES for c in (m, f"{m}_ci95")]
WORLD_COLUMNS = PARAMS + ["episode", "world"] + metrics.NAMES
FILES = {"cells": CELL_COLUMNS, "trajectories": TRAJECTORY_COLUMNS, "worlds": WORLD_COLUMNS}
WORLDS_PER_CHUNK = 4000


def cells_for(cfg: Config) -> list[Cell]:
    if cfg.experiment.name is ExperimentName.single:
        return [single_cell(cfg)]
    return [
        Cell(cfg.scenario.name, f.value, float(t), float(p))
        for f, t, p in product(cfg.map.framework, cfg.map.trust, cfg.map.pressure)
    ]


def simulate(cfg: Config, cells: list[Cell], record_worlds=()) -> LinkageModel:
    """Run ``cells`` for ``cfg.episodes`` episodes in one batched model, keeping the
    negotiations of ``record_worlds`` in ``model.record``."""
    model = LinkageModel(cfg, cells, record_worlds=record_worlds)
    model.run_for(cfg.episodes)
    return model


def ci95(per_world: np.ndarray) -> np.ndarray:
    """Half-width of the normal 95% interval of the mean over the last axis."""
    n = np.sum(~np.isnan(per_world), axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(per_world, axis=-1, ddof=1)
    return np.where(n > 1, 1.96 * sd / np.sqrt(np.maximum(n, 1)), np.nan)


def _nanmean(a, axis):
    with warnings.catch_warnings():  # a metric can be undefined for a whole cell
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def _by_cell(v: np.ndarray, cells: int) -> np.ndarray:
    """(E, W) -> (cells, reps, E), contiguous, so each cell reduces alike in any batch."""
    E, W = v.shape
    return np.ascontiguousarray(v.reshape(E, cells, W // cells).transpose(1, 2, 0))


def reduce(cfg: Config, model: LinkageModel) -> list[dict[str, list[dict]]]:
    """Each cell's rows of cells.csv, trajectories.csv and (if ``output.worlds``) worlds.csv.

    Reductions run over the last, contiguous axis of per-cell blocks, so a cell's numbers
    do not depend on how many other cells share its batch (bit-for-bit reproducibility).
    """
    C, reps, E = len(model.cells), cfg.replications, cfg.episodes
    data = {m: _by_cell(np.stack(model.datacollector.model_vars[m]), C) for m in metrics.NAMES}
    mean = {m: _nanmean(v.reshape(C, reps * E), axis=1) for m, v in data.items()}  # (C,)
    ci = {m: ci95(_nanmean(v, axis=2)) for m, v in data.items()}  # over world means
    by_episode = {m: np.ascontiguousarray(v.transpose(0, 2, 1)) for m, v in data.items()}
    traj_mean = {m: _nanmean(v, axis=2) for m, v in by_episode.items()}  # (C, E)
    traj_ci = {m: ci95(v) for m, v in by_episode.items()}
    out = []
    for i, cell in enumerate(model.cells):
        params = cell.as_dict() | {"seed": cfg.seed, "replications": reps, "episodes": E}
        row = dict(params)
        for m in metrics.NAMES:
            row[m], row[f"{m}_ci95"] = float(mean[m][i]), float(ci[m][i])
        for side in ("us", "mx"):
            last = by_episode[f"trust_{side}"][i, -1]
            row[f"final_trust_{side}"] = float(_nanmean(last, axis=0))
            row[f"final_trust_{side}_ci95"] = float(ci95(last))
        traj, worlds = [], []
        for e in range(E):
            r = dict(params, episode=e + 1)
            for m in metrics.NAMES:
                r[m], r[f"{m}_ci95"] = float(traj_mean[m][i, e]), float(traj_ci[m][i, e])
            traj.append(r)
            if cfg.output.worlds:
                for j in range(reps):
                    world = dict(params, episode=e + 1, world=j)
                    world.update({m: float(data[m][i, j, e]) for m in metrics.NAMES})
                    worlds.append(world)
        out.append({"cells": [row], "trajectories": traj, "worlds": worlds})
    return out


def run_cells(cfg: Config, cells: list[Cell]) -> dict[str, list[dict]]:
    """All rows for ``cells`` in memory, in one process: for apps and notebooks."""
    rows: dict[str, list[dict]] = {name: [] for name in FILES}
    for part in reduce(cfg, simulate(cfg, cells)):
        for name in FILES:
            rows[name] += part[name]
    return rows


def _csv_text(columns: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in rows:
        w.writerow([_fmt(row[c]) for c in columns])
    return buf.getvalue()


def _fmt(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return v


def _run_chunk(args) -> tuple[list[dict[str, str]], list[TableRecord]]:
    cfg, cells, record_worlds = args
    model = simulate(cfg, cells, record_worlds)
    texts = [
        {name: _csv_text(FILES[name], part[name]) for name in FILES} for part in reduce(cfg, model)
    ]
    record = model.record
    del model
    gc.collect()  # a Mesa model and its agents refer to each other: free it before the next
    return texts, record


def chunks(cells: list[Cell], reps: int) -> Iterator[list[Cell]]:
    per = max(1, WORLDS_PER_CHUNK // reps)
    for i in range(0, len(cells), per):
        yield cells[i : i + per]


def compute(
    cfg: Config, cells: list[Cell], store: Store, progress: bool, record_worlds=()
) -> list[TableRecord]:
    """Run ``cells`` in chunks over ``cfg.jobs`` processes; save each chunk as it finishes.

    Returns the record of ``record_worlds``, worlds of the first chunk, which starts with
    the first cell's world 0 (the one a single run's dance shows).
    """
    parts = list(chunks(cells, cfg.replications))
    asks = [record_worlds if i == 0 else () for i in range(len(parts))]  # chunk by chunk
    jobs = min(cfg.jobs or os.cpu_count() or 1, len(parts))
    bar = tqdm(total=len(cells), unit="cell", disable=not progress, desc="linkage")

    record: list[TableRecord] = []

    def save(part, result):
        texts, kept = result
        for cell, text in zip(part, texts, strict=True):
            store.save(cell, text)
        record.extend(kept)
        bar.update(len(part))

    if jobs <= 1:
        for part, ask in zip(parts, asks, strict=True):
            save(part, _run_chunk((cfg, part, ask)))
    else:
        # At most two chunks per worker in flight: memory stays flat however large the grid.
        waiting = zip(parts, asks, strict=True)
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            running = {
                pool.submit(_run_chunk, (cfg, p, ask)): p for p, ask in islice(waiting, 2 * jobs)
            }
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    save(running.pop(future), future.result())
                    for part, ask in islice(waiting, 1):
                        running[pool.submit(_run_chunk, (cfg, part, ask))] = part
    bar.close()
    return record


def assemble(cells: list[Cell], store: Store, out_dir: Path, worlds: bool) -> dict[str, Path]:
    """Stream every cell's rows from the store into the output files, in cell order."""
    names = [n for n in FILES if n != "worlds" or worlds]
    files = {n: out_dir / f"{n}.csv" for n in names}
    tmp = {n: files[n].with_name(f".{n}.csv.tmp") for n in names}
    handles = {n: open(tmp[n], "w", newline="") for n in names}
    try:
        for n in names:
            handles[n].write(",".join(FILES[n]) + "\n")
        for cell in cells:
            parts = store.load(cell)
            for n in names:
                handles[n].write(parts[n])
    finally:
        for h in handles.values():
            h.close()
    for n in sorted(names, key=lambda n: n == "cells"):  # cells.csv last: it means "complete"
        os.replace(tmp[n], files[n])
    return files


class Outputs(dict):
    """The files a run wrote, by table name, and ``record``: the negotiations it kept."""

    def __init__(self, files: dict[str, Path], record: list[TableRecord]):
        super().__init__(files)
        self.record = record


def run(
    cfg: Config, out_dir: Path, store_root: Path | None = None, progress: bool | None = None
) -> Outputs:
    """The whole job: run the experiment's unfinished cells, then write its files.

    Finished cells are kept in ``store_root`` (default: ``out_dir/.cells``, removed at the
    end), so a run that is interrupted and started again skips them.

    Returns the files and, for a single run with figures, the record of its world 0 (for
    the negotiation dance), kept during the one simulation. The store keeps rows, not
    records: a single cell resumed from it is simulated once more for its record (the
    same numbers: same config, same seed). Otherwise the record is empty.
    """
    for part in disabled_parts(cfg):
        log.info("switched off: %s", part)
    if progress is None:
        progress = cfg.output.progress
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")
    cells = cells_for(cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    store = Store(store_root if store_root is not None else out_dir / ".cells", cfg, FILES)
    todo = [c for c in cells if not store.done(c)]
    if len(todo) < len(cells):
        log.info("resuming: %d of %d cells already finished", len(cells) - len(todo), len(cells))
    wanted = [0] if cfg.experiment.name is ExperimentName.single and cfg.figures.enabled else []
    record = compute(cfg, todo, store, progress, wanted)
    if wanted and not todo:
        log.info("replaying the resumed cell for its negotiation record")
        record = simulate(cfg, cells, wanted).record
    files = assemble(cells, store, out_dir, cfg.output.worlds)
    if store_root is None:
        shutil.rmtree(store.dir.parent, ignore_errors=True)
    return Outputs(files, record)
