"""From worlds to rows: each block of a model's worlds summarised, and a cell's summaries
turned into its rows of ``cells.csv``, ``trajectories.csv`` and ``worlds.csv``.

A summary holds, per metric, the moments (``sim.moments``) of every value of the block, of
its worlds' means over episodes (the 95% interval of a cell row is over world means), and
of each episode over worlds (the trajectory rows). A cell's blocks are combined in block
order, so its rows are the same however its blocks were spread over chunks.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from dataclasses import dataclass
from functools import reduce as fold
from itertools import groupby

import numpy as np

from sim import design, metrics
from sim.cells import Block, Cell
from sim.config import Config
from sim.moments import Moments

# The tables' parameter columns: these, with the experiment's other parameters after
# ``pressure`` (``sim.design.columns``)
PARAMS = ["scenario", "framework", "trust", "pressure", "seed", "replications", "episodes"]


def params_columns(cfg: Config) -> list[str]:
    return PARAMS[:4] + design.columns(cfg) + PARAMS[4:]


def files(cfg: Config) -> dict[str, list[str]]:
    """Every table's columns, by table name: per metric its mean and the half-width of its
    95% interval (``<metric>_ci95``); per issue ``agreement.<issue>`` and ``position.<issue>``."""
    names = metrics.names(cfg.issues)
    means = [c for m in names for c in (m, f"{m}_ci95")]
    head = params_columns(cfg)
    final = ["final_trust_us", "final_trust_us_ci95", "final_trust_mx", "final_trust_mx_ci95"]
    return {
        "cells": head + means + final,
        "trajectories": head + ["episode"] + means,
        "worlds": head + ["episode", "world"] + names,
    }


@dataclass
class Summary:
    """One block's worlds reduced: per metric the moments of all values, of world means and
    of each episode; and its ``worlds.csv`` rows when they are asked for."""

    block: Block
    moments: dict[str, tuple[Moments, Moments, Moments]]
    worlds: str = ""

    def __add__(self, other: Summary) -> Summary:
        both = {
            m: tuple(a + b for a, b in zip(mine, other.moments[m], strict=True))
            for m, mine in self.moments.items()
        }
        return Summary(self.block, both, self.worlds + other.worlds)


def _world_means(x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():  # a world where a metric is never defined
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=-1)


def summarise(cfg: Config, model) -> list[Summary]:
    """A summary per block of ``model`` (after its run). Runs of blocks of one size are
    reduced together, row by row: each block's numbers are those it would get alone."""
    names = metrics.names(cfg.issues)
    data = {m: np.stack(model.datacollector.model_vars[m]) for m in names}  # (E, W)
    E = cfg.episodes
    out, start = [], 0
    for size, run in groupby(model.blocks, key=lambda b: b.size):
        run = list(run)
        span = slice(start, start + size * len(run))
        start = span.stop
        moments = {}
        for m, v in data.items():
            # (blocks, worlds, E) and (blocks, E, worlds), contiguous: reductions run along
            # the last axis of each block exactly as on that block alone
            by_world = np.ascontiguousarray(
                v[:, span].reshape(E, len(run), size).transpose(1, 2, 0)
            )
            by_episode = np.ascontiguousarray(by_world.transpose(0, 2, 1))
            moments[m] = (
                Moments.of(by_world.reshape(len(run), size * E)),
                Moments.of(_world_means(by_world)),
                Moments.of(by_episode),
            )
        for i, block in enumerate(run):
            own = {m: tuple(x[i] for x in trio) for m, trio in moments.items()}
            first = span.start + i * size  # the block's first world in the model
            worlds = _worlds_text(cfg, block, data, first) if cfg.output.worlds else ""
            out.append(Summary(block, own, worlds))
    return out


def _params(cfg: Config, cell: Cell, columns: list[str] | None = None) -> dict:
    """The cell's parameter columns; ``columns``: ``design.columns(cfg)``, if known."""
    own = dict(cell.params)
    columns = design.columns(cfg) if columns is None else columns
    return {
        "scenario": cell.scenario,
        "framework": cell.framework,
        "trust": cell.trust,
        "pressure": cell.pressure,
        **{name: design.shown(own[name]) for name in columns},
        "seed": cfg.seed,
        "replications": cfg.replications,
        "episodes": cfg.episodes,
    }


def _worlds_text(cfg: Config, block: Block, data: dict[str, np.ndarray], first: int) -> str:
    """The block's rows of worlds.csv; ``data``: (E, W) per metric, the block at ``first``."""
    params = _params(cfg, block.cell)
    rows = [
        dict(params, episode=e + 1, world=block.start + j)
        | {m: float(data[m][e, first + j]) for m in data}
        for e in range(cfg.episodes)
        for j in range(block.size)
    ]
    return csv_text(files(cfg)["worlds"], rows)


def _tables(cfg: Config, wholes: list[Summary]) -> tuple[np.ndarray, np.ndarray]:
    """The numbers of many cells' rows, each ``wholes[i]`` a whole cell's summary, in one
    pass over the cells: (cells, columns of cells.csv after the parameters) and (cells,
    episodes, columns of trajectories.csv after ``episode``)."""
    names = metrics.names(cfg.issues)

    def stacked(i: int, m: str) -> Moments:
        parts = [w.moments[m][i] for w in wholes]
        return Moments(*(np.stack([getattr(p, f) for p in parts]) for f in ("n", "total", "var")))

    every = {m: stacked(0, m) for m in names}
    worlds = {m: stacked(1, m) for m in names}
    episodes = {m: stacked(2, m) for m in names}
    final = [
        x[:, -1]
        for side in ("us", "mx")
        for x in (episodes[f"trust_{side}"].mean, episodes[f"trust_{side}"].ci95)
    ]
    cells = np.stack([x for m in names for x in (every[m].mean, worlds[m].ci95)] + final, -1)
    traj = np.stack([x for m in names for x in (episodes[m].mean, episodes[m].ci95)], axis=-1)
    return cells, traj


def whole(parts: list[Summary]) -> Summary:
    """A cell's summary from its blocks' summaries, in block order."""
    return fold(lambda a, b: a + b, parts)


def rows(cfg: Config, parts: list[Summary]) -> dict[str, list[dict]]:
    """A cell's rows of cells.csv and trajectories.csv from its blocks' summaries, in order."""
    cell = whole(parts)
    columns = files(cfg)
    params = _params(cfg, cell.block.cell)
    cells, traj = (t[0].tolist() for t in _tables(cfg, [cell]))
    row = params | dict(zip(columns["cells"][len(params) :], cells, strict=True))
    after = columns["trajectories"][len(params) + 1 :]
    return {
        "cells": [row],
        "trajectories": [
            params | {"episode": e} | dict(zip(after, values, strict=True))
            for e, values in enumerate(traj, start=1)
        ],
    }


def texts(cfg: Config, parts: list[Summary]) -> dict[str, str]:
    """A cell's rows as CSV text per file (what the cell store keeps), from its blocks'
    summaries in order."""
    return texts_of(cfg, [whole(parts)])[0]


def texts_of(cfg: Config, wholes: list[Summary]) -> list[dict[str, str]]:
    """Many cells' rows as CSV text, each ``wholes[i]`` a whole cell's summary: the numbers
    of all in one pass, then one ``repr`` per number (as :func:`csv_text` writes them)."""
    if not wholes:
        return []
    columns = design.columns(cfg)
    head = params_columns(cfg)
    cells, traj = _tables(cfg, wholes)
    out = []
    for whole, row, by_episode in zip(wholes, cells.tolist(), traj.tolist(), strict=True):
        params = csv_text(head, [_params(cfg, whole.block.cell, columns)])[:-1]
        out.append(
            {
                "cells": _line(params, row),
                "trajectories": "".join(
                    _line(f"{params},{e}", values) for e, values in enumerate(by_episode, 1)
                )
                if cfg.output.trajectories
                else "",
                "worlds": whole.worlds,
            }
        )
    return out


def _line(head: str, values: list[float]) -> str:
    return head + "," + ",".join("" if v != v else repr(v) for v in values) + "\n"


def by_cell(summaries: list[Summary]) -> list[list[Summary]]:
    """Consecutive summaries grouped by cell."""
    return [list(g) for _, g in groupby(summaries, key=lambda s: s.block.cell)]


def csv_text(columns: list[str], table: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in table:
        w.writerow([_fmt(row[c]) for c in columns])
    return buf.getvalue()


def _fmt(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return v
