"""Reports: figures for a run, merged tables for a sweep, and the ``linkage-report`` command.

``linkage-report DIR [figures.KEY=VALUE ...]`` works on any output directory (it redraws
the figures from its ``cells.csv`` and ``trajectories.csv``) or multirun root (it first
merges the jobs' tables into the root), with the ``figures.*`` settings the run was made
with, as Hydra recorded them in the directory, changed by any given on its command line.
:class:`sim.sweep.MergeCallback` does the same at the end of every Hydra multirun.

Nothing is drawn or merged from incomplete input: every job the sweep's overrides call for
must be there and finished, and every table whole (the first job's header, or one that
differs only in per-issue columns; the header's number of fields on every row, a final
newline, the rows its run's config implies).
Otherwise one line names the job or file and what is wrong (:class:`ReportError`), and
nothing is written. Merged tables go to temporary files first and replace the old ones
only when both are complete.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from functools import partial
from pathlib import Path

import pandas as pd
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim import plot, pool
from sim.config import Config, ConfigError, FiguresConfig, load, to_config
from sim.merge import ReportError, merge, os_error_line, read_run, sweep_jobs

log = logging.getLogger(__name__)


def figures(
    out_dir: Path,
    cells: pd.DataFrame,
    traj: pd.DataFrame,
    dance=(),
    spec: FiguresConfig | None = None,
    jobs: int = 1,
) -> Path:
    """Draw every figure the tables support into ``out_dir/figures``, with captions, as
    ``spec`` (the ``figures.*`` settings; default the schema's) asks; ``dance``: the
    :class:`~sim.record.TableRecord` of the tables of episode ``spec.episode`` to draw;
    ``jobs``: processes to draw them in, one figure at a time each.

    A sweep over several scenarios gets each scenario's figures, named after it. The map's
    axes are the parameters the tables vary (:func:`sim.plot.map_axes`): two give difference
    maps, one gives lines per framework, more than two no map and no trajectories (the README
    says what to ask for instead).
    """
    spec = spec or FiguresConfig()
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    readme = fig_dir / "README.md"
    # written last: a drawing cut short must not keep the promise of the one before
    readme.unlink(missing_ok=True)
    if not spec.formats:
        log.info("figures.formats is empty: no figures drawn")
        readme.write_text(_none_asked(fig_dir))
        return fig_dir
    drawings, notes = [], []
    scenarios = list(dict.fromkeys(cells.scenario))
    for scenario in scenarios:
        prefix = f"{scenario}_" if len(scenarios) > 1 else ""
        part, part_traj = cells[cells.scenario == scenario], traj[traj.scenario == scenario]
        axes = plot.map_axes(part)
        if len(axes) > 2:
            log.warning(
                "%s: the tables vary %d parameters (%s) and a map shows two: no map or "
                "trajectories drawn (figures/README.md says what to ask for)",
                scenario, len(axes), ", ".join(axes),
            )  # fmt: skip
            notes.append(_too_many(scenario, part, axes))
            continue
        if len(axes) == 2:
            drawings += plot.maps(part, prefix, axes) + plot.choice_maps(part, prefix, axes)
        elif len(axes) == 1:
            drawings += plot.lines(part, prefix, axes[0])
        drawings += _trajectories(part, part_traj, axes, spec.cells, prefix)
    drawings += [_dance(i, table) for i, table in enumerate(dance)]
    save_all(drawings, fig_dir, spec.formats, jobs)
    lines = ["# Figures", "", *[f"{n}\n" for n in notes]]
    if drawings:
        lines += [f"{_written(spec.formats)} How to read them:", ""]
        lines += [f"- `{d.stem}`: {d.caption}" for d in drawings]
    readme.write_text("\n".join(lines) + "\n")
    return fig_dir


_PLAN: tuple = ()  # what the drawing processes draw: set before they fork, read by index


def save_all(drawings: list[plot.Drawing], fig_dir: Path, formats, jobs: int = 1) -> None:
    """Make and save every drawing, in ``jobs`` processes (forked, so they share the tables
    without copying them)."""
    global _PLAN
    _PLAN = (drawings, fig_dir, formats)
    # the longest first, so that no process is left with a long one at the end
    order = sorted(range(len(drawings)), key=lambda i: -drawings[i].panels)
    try:
        jobs = min(jobs, len(drawings))
        if jobs <= 1:
            for i in order:
                _save_one(i)
        else:
            for _ in pool.run(jobs, _save_one, order):
                pass
    finally:
        _PLAN = ()


def _save_one(i: int) -> None:
    drawings, fig_dir, formats = _PLAN
    plot.save(drawings[i].make(), fig_dir / drawings[i].stem, formats)


def _dance(i: int, table) -> plot.Drawing:
    def make():
        fig, ax = plot.figure((8, 5.2), layout="constrained")
        title = f"negotiation dance, episode {table.episode}: {', '.join(table.issues)}"
        plot.dance(ax, table, title)
        return fig

    caption = (
        "Every offer of one negotiation (world 0) in the utility plane: blue circles the US's, "
        "orange squares Mexico's, moving toward each other as both concede; the black curve "
        "is the frontier as the sides value it at their current trust (dashed: at face "
        "value), the cross the no-deal point including any threat, the diamond the Nash "
        "point, the star the agreement."
    )
    return plot.Drawing(f"dance_episode{table.episode}_table{i}", make, caption)


def _trajectories(cells, traj, axes, wanted, prefix) -> list[plot.Drawing]:
    """The trajectories at the cells nearest the ``wanted`` points of the map's ``axes``
    (``figures.cells``)."""
    out = []
    scenario = cells.scenario.iloc[0]
    axes = axes or ["trust", "pressure"]  # a run with no axis: its one point, named so
    for values in plot.nearest_cells(cells, wanted, axes):
        point = dict(zip(axes, values, strict=True))
        where = " and ".join(f"{plot.noun(n)} {plot.shown(v)}" for n, v in point.items())
        caption = (
            f"{scenario}: trust, utilities and agreement over episodes at {where}, one column "
            "per framework; lines are means over worlds, bands 95% intervals of the mean."
        )
        make = partial(plot.trajectories, traj, at=point)
        stem = f"{prefix}trajectories_{plot.point_stem(point)}"
        out.append(plot.Drawing(stem, make, caption, panels=3 * len(set(traj.framework))))
    return out


def _too_many(scenario: str, cells: pd.DataFrame, axes: list[str]) -> str:
    """What the README says when the tables vary more parameters than a map can show: the
    command for a map over the first two of them, or lines along one."""

    def values(name: str) -> str:
        return "[" + ", ".join(plot.shown(v) for v in plot.scale(cells, name)[0]) + "]"

    two = ", ".join(f"{a}: {values(a)}" for a in axes[:2])
    return (
        f"No map or trajectories were drawn for {scenario}: its tables vary {len(axes)} "
        f"parameters ({', '.join(f'`{a}`' for a in axes)}) and a map shows two. Ask for a map "
        f"over two of them, the others at their config values, e.g. "
        f"`linkage scenario={scenario} '+map.axes={{{two}}}'`, or for lines along one, "
        f"`linkage scenario={scenario} '+map.axes={{{axes[0]}: {values(axes[0])}}}'`."
    )


def _none_asked(fig_dir: Path) -> str:
    text = "# Figures\n\nNo figures were asked for (`figures.formats` is empty): none were drawn.\n"
    if any(p.name != "README.md" for p in fig_dir.iterdir()):
        text += "The other files here are from an earlier drawing and may not match the tables.\n"
    return text


def _written(formats) -> str:
    """What the README says of the files: the formats actually written."""
    names = [f.upper() for f in dict.fromkeys(formats)]
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


def draw(directory: Path, tables: dict[str, pd.DataFrame], spec: FiguresConfig) -> str:
    """Draw as ``spec`` asks; say what was drawn, in a few words."""
    if not spec.enabled:
        return "figures.enabled=false: no figures"
    fig_dir = figures(
        directory, tables["cells"], tables["trajectories"], spec=spec, jobs=os.cpu_count() or 1
    )
    if not spec.formats:
        return "figures.formats is empty: no figures drawn"
    return f"figures in {fig_dir}"


def report(directory: Path, overrides=()) -> str:
    """Merge (for a multirun root) and draw the figures of ``directory`` with its own
    ``figures.*`` settings changed by ``overrides``; return what was done, in a few words.
    With ``figures.enabled=false`` in ``overrides`` it only merges.

    A run's own ``figures.enabled=false`` meant "not while running": asking for its report
    is asking for its figures. The negotiation dance needs the run's record, which the
    tables do not hold: it is not redrawn.
    """
    directory = Path(directory)
    todo = sweep_jobs(directory)
    if todo is None and not (directory / "cells.csv").exists():
        raise ReportError(f"no cells.csv in {directory} or below it")
    # bad settings stop here, before anything is written
    spec = settings(run_config(directory), ["figures.enabled=true", *overrides])
    tables = read_run(directory) if todo is None else merge(directory, todo)
    return f"tables in {directory} ({draw(directory, tables, spec)})"


def verdict(ex: BaseException) -> tuple[str, int]:
    """The one line and the exit status for a report that failed with ``ex``."""
    from sim.cli import one_line

    if isinstance(ex, ReportError):
        return str(ex), ex.status
    if isinstance(ex, OSError):  # a full disk, a file where a folder should be
        return os_error_line(ex), 1
    if isinstance(ex, INPUT_ERRORS):
        return one_line(ex), 2
    return f"{type(ex).__name__}: {one_line(ex)}", 1


INPUT_ERRORS = (
    ConfigError,
    HydraException,
    OmegaConfBaseException,
    yaml.YAMLError,
    UnicodeDecodeError,  # a record saved in another encoding
)


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
        done = report(a.directory, a.overrides)
    except (ReportError, OSError, *INPUT_ERRORS) as ex:
        message, status = verdict(ex)
        print(f"linkage-report: error: {message}", file=sys.stderr)
        sys.exit(status)
    print(f"linkage-report: {done}")
