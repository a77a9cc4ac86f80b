"""Reports: figures for a run, merged tables for a sweep, and the ``linkage-report`` command.

``linkage-report DIR [figures.KEY=VALUE ...]`` works on any output directory (it redraws
the figures from its ``cells.csv`` and ``trajectories.csv``) or multirun root (it first
merges the jobs' tables into the root), with the ``figures.*`` settings the run was made
with, as Hydra recorded them in the directory, changed by any given on its command line.
:class:`MergeCallback` does the same at the end of every Hydra multirun.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import pandas as pd
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim import plot
from sim.config import Config, ConfigError, FiguresConfig, load, to_config

log = logging.getLogger(__name__)

TABLES = ("cells", "trajectories")


def figures(
    out_dir: Path,
    cells: pd.DataFrame,
    traj: pd.DataFrame,
    dance=(),
    spec: FiguresConfig | None = None,
) -> Path:
    """Draw every figure the tables support into ``out_dir/figures``, with captions, as
    ``spec`` (the ``figures.*`` settings; default the schema's) asks; ``dance``: the
    :class:`~sim.model.TableRecord` of the tables of episode ``spec.episode`` to draw.

    A sweep over several scenarios gets each scenario's figures, named after it.
    """
    spec = spec or FiguresConfig()
    formats = spec.formats
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    captions = {}
    scenarios = list(dict.fromkeys(cells.scenario))
    for scenario in scenarios:
        prefix = f"{scenario}_" if len(scenarios) > 1 else ""
        part, part_traj = cells[cells.scenario == scenario], traj[traj.scenario == scenario]
        captions |= plot.maps(part, fig_dir, formats, prefix)
        for t, p in plot.nearest_cells(part, spec.cells):
            stem = f"{prefix}trajectories_trust{t:g}_pressure{p:g}"
            plot.save(plot.trajectories(part_traj, t, p), fig_dir / stem, formats)
            captions[stem] = (
                f"{scenario}: trust, utilities and agreement over episodes at initial trust "
                f"{t:g} and pressure {p:g}, one column per framework; lines are means over "
                "worlds, bands 95% intervals of the mean."
            )
    for i, table in enumerate(dance):
        fig, ax = plot.figure((8, 5.2))
        title = f"negotiation dance, episode {table.episode}: {', '.join(table.issues)}"
        plot.dance(ax, table, title)
        stem = f"dance_episode{table.episode}_table{i}"
        plot.save(fig, fig_dir / stem, formats)
        captions[stem] = (
            "Every offer of one negotiation (world 0) in the utility plane: blue circles the US's, "
            "orange squares Mexico's, moving toward each other as both concede; the black curve "
            "is the frontier as the sides value it at their current trust (dashed: at face "
            "value), the cross the no-deal point including any threat, the diamond the Nash "
            "point, the star the agreement."
        )
    lines = ["# Figures", "", f"{_written(formats)} How to read them:", ""]
    lines += [f"- `{stem}`: {text}" for stem, text in captions.items()]
    (fig_dir / "README.md").write_text("\n".join(lines) + "\n")
    return fig_dir


def _written(formats) -> str:
    """What the README says of the files: the formats actually written."""
    names = [f.upper() for f in dict.fromkeys(formats)]
    if not names:
        return "No files were written (`figures.formats` is empty)."
    if len(names) == 1:
        return f"Each figure comes as {names[0]}."
    return f"Each figure comes as {', '.join(names[:-1])} and {names[-1]}."


def run_config(directory: Path) -> DictConfig | None:
    """The config ``directory`` was made with, as Hydra recorded it there: a run's
    ``.hydra/config.yaml`` or a multirun root's ``multirun.yaml``; None if neither."""
    for name in (".hydra/config.yaml", "multirun.yaml"):
        path = Path(directory) / name
        if path.exists():
            return OmegaConf.load(path)
    return None


def settings(run_cfg: DictConfig | None, overrides=()) -> FiguresConfig:
    """The ``figures.*`` settings of a run (``run_cfg``; None: the defaults ``linkage`` runs
    with), changed by ``overrides`` in the command line's syntax and checked as ``linkage``
    checks them: the schema's types, then :func:`sim.config.to_config`'s checks."""
    if run_cfg is None:
        run_cfg = OmegaConf.structured(load())
    plain = OmegaConf.to_container(run_cfg)
    plain.pop("hydra", None)  # a multirun's own settings, not the model's
    cfg = OmegaConf.merge(OmegaConf.structured(Config), plain)
    for o in OverridesParser.create().parse_overrides(list(overrides)):
        key = o.key_or_group
        if not key.startswith("figures."):
            raise ConfigError(
                key, o.value(), "only figures.* settings (the tables are already made)"
            )
        if o.is_sweep_override():
            raise ConfigError(key, o.input_line.partition("=")[2], "one value, not a sweep")
        try:
            OmegaConf.update(cfg, key, o.value(), merge=False)
        except OmegaConfBaseException as ex:
            raise ConfigError(key, o.value(), str(ex).splitlines()[0]) from None
    return to_config(cfg).figures


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


def report(directory: Path, overrides=()) -> Path | None:
    """Merge (for a multirun root) and draw the figures of ``directory`` with its own
    ``figures.*`` settings changed by ``overrides``; None when ``overrides`` set
    ``figures.enabled=false`` (then it only merges).

    A run's own ``figures.enabled=false`` meant "not while running": asking for its report
    is asking for its figures. The negotiation dance needs the run's record, which the
    tables do not hold: it is not redrawn.
    """
    directory = Path(directory)
    jobs = job_dirs(directory)
    if not jobs and not (directory / "cells.csv").exists():
        raise FileNotFoundError(f"no cells.csv in {directory} or below it")
    # bad settings stop here, before anything is written
    spec = settings(run_config(directory), ["figures.enabled=true", *overrides])
    if jobs:
        tables = merge(directory)
    else:
        tables = {n: pd.read_csv(directory / f"{n}.csv") for n in TABLES}
    if not spec.enabled:
        return None
    return figures(directory, tables["cells"], tables["trajectories"], spec=spec)


class MergeCallback(Callback):
    """At the end of a Hydra multirun, merge the jobs' tables and draw the sweep's figures
    as its ``figures.*`` settings ask."""

    def on_multirun_end(self, config, **kwargs) -> None:
        root = Path(config.hydra.sweep.dir)
        jobs = job_dirs(root)
        if not jobs:
            return
        tables, spec = merge(root), settings(config)
        if not spec.enabled:
            print(f"linkage: merged {len(jobs)} jobs into {root}")
            return
        fig_dir = figures(root, tables["cells"], tables["trajectories"], spec=spec)
        print(f"linkage: merged {len(jobs)} jobs into {root} (figures in {fig_dir})")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        prog="linkage-report",
        description="Merge a linkage output or multirun directory and draw its figures.",
    )
    p.add_argument("directory", type=Path)
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="figures.KEY=VALUE",
        help="change the run's figures settings, as on the linkage command line",
    )
    a = p.parse_args(argv)
    try:
        fig_dir = report(a.directory, a.overrides)
    except (FileNotFoundError, ConfigError, HydraException, OmegaConfBaseException) as ex:
        from sim.cli import one_line

        print(f"linkage-report: error: {one_line(ex)}", file=sys.stderr)
        sys.exit(2)
    if fig_dir is None:
        print(f"linkage-report: tables in {a.directory} (figures.enabled=false: no figures)")
    else:
        print(f"linkage-report: figures in {fig_dir}")
