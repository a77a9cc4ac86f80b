"""Running experiments: cells, chunks over local cores, and the output files (DESIGN 2.4).

The model knows nothing of files; this module turns a validated config into cells, runs
them in chunks (each chunk one batched :class:`LinkageModel`), reduces each cell to its
rows, and writes ``cells.csv`` and ``trajectories.csv`` atomically in the run directory.
"""

from __future__ import annotations

import csv
import logging
import math
import multiprocessing
import os
import sys
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import product
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim import metrics
from sim.cells import Cell
from sim.config import Config, ExperimentName
from sim.model import LinkageModel, disabled_parts, single_cell

log = logging.getLogger(__name__)

PARAMS = ["scenario", "framework", "trust", "pressure", "seed", "replications", "episodes"]
CELL_COLUMNS = (
    PARAMS
    + [c for m in metrics.NAMES for c in (m, f"{m}_ci95")]
    + ["final_trust_us", "final_trust_us_ci95", "final_trust_mx", "final_trust_mx_ci95"]
)
TRAJECTORY_COLUMNS = PARAMS + ["episode"] + [c for m in metrics.NAMES for c in (m, f"{m}_ci95")]
WORLD_COLUMNS = PARAMS + ["episode", "world"] + metrics.NAMES
WORLDS_PER_CHUNK = 4000


def cells_for(cfg: Config) -> list[Cell]:
    if cfg.experiment.name is ExperimentName.single:
        return [single_cell(cfg)]
    return [
        Cell(cfg.scenario.name, f.value, float(t), float(p))
        for f, t, p in product(cfg.map.framework, cfg.map.trust, cfg.map.pressure)
    ]


def simulate(cfg: Config, cells: list[Cell], record: bool = False) -> LinkageModel:
    """Run ``cells`` for ``cfg.episodes`` episodes in one batched model."""
    model = LinkageModel(cfg, cells, record=record)
    model.run_for(cfg.episodes)
    return model


def _ci95(per_world: np.ndarray) -> np.ndarray:
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


def reduce(cfg: Config, model: LinkageModel) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows for cells.csv, trajectories.csv and (if ``output.worlds``) worlds.csv."""
    data = {m: np.stack(model.datacollector.model_vars[m]) for m in metrics.NAMES}  # (E, W)
    reps = cfg.replications
    cell_rows, traj_rows, world_rows = [], [], []
    for i, cell in enumerate(model.cells):
        block = {m: v[:, i * reps : (i + 1) * reps] for m, v in data.items()}  # (E, reps)
        params = cell.as_dict() | {
            "seed": cfg.seed,
            "replications": reps,
            "episodes": cfg.episodes,
        }
        row = dict(params)
        for m, v in block.items():
            row[m] = float(_nanmean(v, axis=None))
            row[f"{m}_ci95"] = float(_ci95(_nanmean(v, axis=0)))
        for side in ("us", "mx"):
            last = block[f"trust_{side}"][-1]
            row[f"final_trust_{side}"] = float(last.mean())
            row[f"final_trust_{side}_ci95"] = float(_ci95(last))
        cell_rows.append(row)
        means = {m: _nanmean(v, axis=1) for m, v in block.items()}
        cis = {m: _ci95(v) for m, v in block.items()}
        for e in range(cfg.episodes):
            r = dict(params, episode=e + 1)
            for m in metrics.NAMES:
                r[m] = float(means[m][e])
                r[f"{m}_ci95"] = float(cis[m][e])
            traj_rows.append(r)
            if cfg.output.worlds:
                for j in range(reps):
                    world = dict(params, episode=e + 1, world=j)
                    world.update({m: float(block[m][e, j]) for m in metrics.NAMES})
                    world_rows.append(world)
    return cell_rows, traj_rows, world_rows


def _run_chunk(args) -> tuple[list[dict], list[dict], list[dict]]:
    cfg, cells = args
    return reduce(cfg, simulate(cfg, cells))


def chunks(cells: list[Cell], reps: int) -> Iterator[list[Cell]]:
    per = max(1, WORLDS_PER_CHUNK // reps)
    for i in range(0, len(cells), per):
        yield cells[i : i + per]


def run_cells(cfg: Config, cells: list[Cell], progress: bool = False):
    """All rows for ``cells``, in cell order, chunked over ``cfg.jobs`` local processes."""
    parts = list(chunks(cells, cfg.replications))
    jobs = min(cfg.jobs or os.cpu_count() or 1, len(parts))
    bar = tqdm(total=len(cells), unit="cell", disable=not progress, desc="linkage")
    results = []
    if jobs <= 1:
        for part in parts:
            results.append(_run_chunk((cfg, part)))
            bar.update(len(part))
    else:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            for part, res in zip(
                parts, pool.map(_run_chunk, [(cfg, p) for p in parts]), strict=True
            ):
                results.append(res)
                bar.update(len(part))
    bar.close()
    return tuple([r for res in results for r in res[i]] for i in range(3))


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Write atomically: a reader never sees a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for row in rows:
            w.writerow([_fmt(row[c]) for c in columns])
    os.replace(tmp, path)


def _fmt(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return v


def run(cfg: Config, out_dir: Path, progress: bool | None = None) -> dict[str, Path]:
    """The whole job: run every cell of the experiment and write its files."""
    for part in disabled_parts(cfg):
        log.info("switched off: %s", part)
    if progress is None:
        progress = cfg.output.progress
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")
    cells = cells_for(cfg)
    cell_rows, traj_rows, world_rows = run_cells(cfg, cells, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"cells": out_dir / "cells.csv", "trajectories": out_dir / "trajectories.csv"}
    write_csv(files["trajectories"], TRAJECTORY_COLUMNS, traj_rows)
    if cfg.output.worlds:
        files["worlds"] = out_dir / "worlds.csv"
        write_csv(files["worlds"], WORLD_COLUMNS, world_rows)
    write_csv(files["cells"], CELL_COLUMNS, cell_rows)
    return files
