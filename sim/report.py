"""Reports: figures for a run, merged tables for a sweep, and the ``linkage-report`` command.

``linkage-report DIR`` works on any output directory (it redraws the figures from its
``cells.csv`` and ``trajectories.csv``) or multirun root (it first merges the jobs' tables
into the root). :class:`MergeCallback` does the same at the end of every Hydra multirun.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import pandas as pd
from hydra.experimental.callback import Callback

from sim import plot

log = logging.getLogger(__name__)

TABLES = ("cells", "trajectories")
DEFAULT_CELLS = ((0.2, 0.8), (0.5, 0.5), (0.8, 0.2))


def figures(
    out_dir: Path,
    cells: pd.DataFrame,
    traj: pd.DataFrame,
    dance_tables=(),
    *,
    formats=("png", "svg"),
    chosen=DEFAULT_CELLS,
    episode: int | None = None,
) -> Path:
    """Draw every figure the tables support into ``out_dir/figures``, with captions.

    A sweep over several scenarios gets each scenario's figures, named after it.
    """
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    captions = {}
    scenarios = list(dict.fromkeys(cells.scenario))
    for scenario in scenarios:
        prefix = f"{scenario}_" if len(scenarios) > 1 else ""
        part, part_traj = cells[cells.scenario == scenario], traj[traj.scenario == scenario]
        captions |= plot.maps(part, fig_dir, formats, prefix)
        for t, p in plot.nearest_cells(part, chosen):
            stem = f"{prefix}trajectories_trust{t:g}_pressure{p:g}"
            plot.save(plot.trajectories(part_traj, t, p), fig_dir / stem, formats)
            captions[stem] = (
                f"{scenario}: trust, utilities and agreement over episodes at initial trust "
                f"{t:g} and pressure {p:g}, one column per framework; lines are means over "
                "worlds, bands 95% intervals."
            )
    for i, table in enumerate(dance_tables):
        fig, ax = plot.figure((8, 5.2))
        plot.dance(ax, table, f"negotiation dance, episode {episode}: {', '.join(table['issues'])}")
        stem = f"dance_episode{episode}_table{i}"
        plot.save(fig, fig_dir / stem, formats)
        captions[stem] = (
            "Every offer of one negotiation (world 0) in the utility plane: blue circles the US's, "
            "orange squares Mexico's, moving toward each other as both concede; the black curve "
            "is the frontier as the sides value it at their current trust (dashed: at face "
            "value), the cross the no-deal point including any threat, the diamond the Nash "
            "point, the star the agreement."
        )
    lines = ["# Figures", "", "Each figure comes as PNG and SVG. How to read them:", ""]
    lines += [f"- `{stem}`: {text}" for stem, text in captions.items()]
    (fig_dir / "README.md").write_text("\n".join(lines) + "\n")
    return fig_dir


def job_dirs(root: Path) -> list[Path]:
    """Directories below ``root`` holding a finished job's ``cells.csv``, in job order."""
    found = [p.parent for p in root.rglob("cells.csv") if p.parent != root]

    def order(p: Path):
        rel = p.relative_to(root).parts
        return [(0, int(x), "") if x.isdigit() else (1, 0, x) for x in rel]

    return sorted(found, key=order)


def merge(root: Path) -> dict[str, pd.DataFrame]:
    """Concatenate the jobs' tables, byte for byte, into ``root`` (atomically)."""
    jobs = job_dirs(root)
    for name in TABLES:
        tmp = root / f".{name}.csv.tmp"
        with open(tmp, "w") as out:
            header = None
            for job in jobs:
                with open(job / f"{name}.csv") as f:
                    first = f.readline()
                    if header is None:
                        header = first
                        out.write(header)
                    elif first != header:
                        raise ValueError(f"{job / name}.csv has other columns than the first job")
                    out.write(f.read())
        os.replace(tmp, root / f"{name}.csv")
    return {name: pd.read_csv(root / f"{name}.csv") for name in TABLES}


def report(directory: Path) -> Path:
    """Merge (for a multirun root) and draw the figures of ``directory``."""
    directory = Path(directory)
    if job_dirs(directory):
        tables = merge(directory)
    elif (directory / "cells.csv").exists():
        tables = {n: pd.read_csv(directory / f"{n}.csv") for n in TABLES}
    else:
        raise FileNotFoundError(f"no cells.csv in {directory} or below it")
    return figures(directory, tables["cells"], tables["trajectories"])


class MergeCallback(Callback):
    """At the end of a Hydra multirun, merge the jobs' tables and draw the sweep's figures."""

    def on_multirun_end(self, config, **kwargs) -> None:
        root = Path(config.hydra.sweep.dir)
        if job_dirs(root):
            fig_dir = report(root)
            print(f"linkage: merged {len(job_dirs(root))} jobs into {root} (figures in {fig_dir})")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        prog="linkage-report",
        description="Merge a linkage output or multirun directory and draw its figures.",
    )
    p.add_argument("directory", type=Path)
    a = p.parse_args(argv)
    try:
        fig_dir = report(a.directory)
    except FileNotFoundError as ex:
        print(f"linkage-report: error: {ex}", file=sys.stderr)
        sys.exit(2)
    print(f"linkage-report: figures in {fig_dir}")
