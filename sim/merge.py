"""Sweeps' tables checked and merged: every job the sweep's overrides call for must be there
and finished, and every table whole, before one merged ``cells.csv`` and
``trajectories.csv`` replace the old ones (written to temporary files first)."""

from __future__ import annotations

import csv
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from sim.config import ExperimentName
from sim.files import written_together
from sim.sweep import jobs

log = logging.getLogger(__name__)

TABLES = ("cells", "trajectories")
# Hydra's records are plain YAML; libyaml reads them ~20 times faster (thousands of jobs)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ReportError(Exception):
    """A directory, job or file that is missing, damaged or cannot be written, said in one
    line; ``status``: the exit status it calls for (2: bad input; 1: a fault writing)."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Job:
    """One job of a sweep: its directory, how messages name it, and the overrides the sweep
    gave it (None when the sweep's own record is missing)."""

    dir: Path
    name: str
    overrides: list[str] | None = None


def sweep_jobs(root: Path, config: DictConfig | None = None) -> list[Job] | None:
    """Every job of the multirun at ``root``, finished or not, in job order; None if
    ``root`` holds no sweep.

    The jobs are those the sweep's overrides call for (``config``, else the root's
    ``multirun.yaml``), in ``<root>/<index>/``. Without that record (or when its overrides
    cannot be expanded here, e.g. a ``glob`` over a config group), the job directories
    found below ``root`` are the jobs.
    """
    if OmegaConf.select(config or OmegaConf.create(), "hydra.overrides.task") is None:
        record = root / "multirun.yaml"
        config = OmegaConf.load(record) if record.is_file() else None
    if config is None:
        return _found_jobs(root)
    if not _numbered(config):
        log.warning("%s: jobs not in <root>/<index>: checking the job directories found", root)
        return _found_jobs(root)
    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    # the basic sweeper puts hydra.sweeper.params before the command line's overrides
    given = [f"{k}={v}" for k, v in params.items()]
    given += list(OmegaConf.select(config, "hydra.overrides.task") or [])
    try:
        todo = jobs(given)
    except HydraException as ex:
        log.warning("%s: checking the job directories found (%s)", root, ex)
        return _found_jobs(root)
    parsed = OverridesParser.create().parse_overrides(given)
    swept = {o.key_or_group for o in parsed if o.is_sweep_override()}
    return [
        Job(root / str(i), f"job {i} of {len(todo)} ({_shown(job, swept)})", job)
        for i, job in enumerate(todo)
    ]


def _numbered(config: DictConfig) -> bool:
    """Whether the jobs are in ``<root>/<index>/`` (Hydra's default ``hydra.sweep.subdir``)."""
    sweep = OmegaConf.select(config, "hydra.sweep")
    subdir = OmegaConf.to_container(sweep, resolve=False).get("subdir") if sweep else None
    return subdir in (None, "${hydra.job.num}")


def _shown(job: list[str], swept: set[str]) -> str:
    """The overrides that tell this job from the others (all, if nothing was swept)."""
    own = [o for o in job if o.partition("=")[0].lstrip("+~").split("@")[0] in swept]
    return " ".join(own or job)


def _found_jobs(root: Path) -> list[Job] | None:
    """Directories below ``root`` holding a job, finished (its ``cells.csv``) or started
    (its ``.hydra/config.yaml``), in job order; None if there is none."""
    found = {p.parent for p in root.rglob("cells.csv") if p.parent != root}
    found |= {p.parent.parent for p in root.glob("*/.hydra/config.yaml")}

    def order(p: Path):
        rel = p.relative_to(root).parts
        return [(0, int(x), "") if x.isdigit() else (1, 0, x) for x in rel]

    dirs = sorted(found, key=order)
    return [Job(d, f"job {d.relative_to(root)}") for d in dirs] or None


def _yaml(path: Path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_LOADER)


def expected_rows(run_dir: Path) -> dict[str, int] | None:
    """The rows of each table the run's recorded config (``.hydra/config.yaml``) calls for;
    None if the run has no record.

    This is :func:`sim.runner.cells_for`'s count on the recorded values: a full
    :class:`Config` would cost ~70 ms a job, too much for sweeps of thousands.
    """
    path = run_dir / ".hydra" / "config.yaml"
    if not path.is_file():
        return None
    rec = _yaml(path)
    try:
        if rec["experiment"]["name"] == ExperimentName.single.name:  # saved by name
            cells = 1
        else:
            grid = rec["map"]
            cells = len(grid["framework"]) * len(grid["trust"]) * len(grid["pressure"])
        return {"cells": cells, "trajectories": cells * int(rec["episodes"])}
    except (KeyError, TypeError, ValueError):
        what = "experiment, map, episodes"
        raise ReportError(f"{path} does not say what the run made ({what})") from None


def check_table(path: Path, label: str, header: str | None = None, rows: int | None = None):
    """Check that the table at ``path`` (``label`` in messages) is whole and return its
    header line: a header (equal to ``header`` if given), the header's number of fields on
    every row, a final newline, and ``rows`` rows if given. Raise :class:`ReportError`."""
    try:
        _ends_with_newline(path, label)
        first, n = _count_rows(path, label, header)
    except FileNotFoundError:
        raise ReportError(f"{label} is missing") from None
    except UnicodeDecodeError as ex:
        raise ReportError(f"{label} is not text (byte {ex.object[ex.start]:#x})") from None
    except OSError as ex:
        raise ReportError(f"{label} cannot be read: {ex.strerror or ex}") from None
    if rows is not None and n != rows:
        why = "cut short?" if n < rows else "rows added?"
        raise ReportError(f"{label} has {n} rows; its run's config calls for {rows} ({why})")
    return first


def _ends_with_newline(path: Path, label: str) -> None:
    # a cut inside the last field keeps the field count: only the missing newline shows it
    with open(path, "rb") as f:
        if f.seek(0, os.SEEK_END) == 0:
            raise ReportError(f"{label} is empty")
        f.seek(-1, os.SEEK_END)
        if f.read(1) != b"\n":
            raise ReportError(f"{label} is cut mid-row (its last line has no newline)")


def _count_rows(path: Path, label: str, header: str | None) -> tuple[str, int]:
    """The header line and the number of rows, each row checked for the header's width."""
    with open(path, newline="", encoding="utf-8") as f:
        first = f.readline()
        if header is not None and first != header:
            raise ReportError(f"{label} has other columns than the first job's")
        f.seek(0)
        reader = csv.reader(f)
        try:
            width, n = len(next(reader)), 0
            for row in reader:
                if len(row) != width:
                    raise ReportError(
                        f"{label}: line {reader.line_num} has {len(row)} fields, the header "
                        f"{width} (cut or damaged)"
                    )
                n += 1
        except csv.Error as ex:  # a NUL byte, a quote left open
            raise ReportError(f"{label}: line {reader.line_num}: {ex}") from None
    return first, n


def check_jobs(root: Path, todo: list[Job]) -> dict[str, str]:
    """Check that every job is there, is the sweep's, finished, and its tables whole, with
    the first job's headers; return those headers. Raise :class:`ReportError` naming the
    first job that is not."""
    headers: dict[str, str] = {}
    for job in todo:
        where = f"{root}: {job.name}"
        if not job.dir.is_dir():
            raise ReportError(f"{where} has no directory {job.dir.name}/ (not started?)")
        record = job.dir / ".hydra" / "overrides.yaml"
        ran = _yaml(record) if record.is_file() else None
        if job.overrides is not None and ran is not None and ran != job.overrides:
            raise ReportError(f"{where}: its directory holds another job ({' '.join(ran)})")
        if not (job.dir / "cells.csv").exists():
            raise ReportError(f"{where} has no cells.csv (not finished?)")
        rows = expected_rows(job.dir)
        for name in TABLES:
            path = job.dir / f"{name}.csv"
            label = str(path.relative_to(root))
            try:
                headers.setdefault(
                    name, check_table(path, label, headers.get(name), rows and rows[name])
                )
            except ReportError as ex:
                raise ReportError(f"{where}: {ex}") from None
    return headers


def merge(root: Path, todo: list[Job] | None = None) -> dict[str, pd.DataFrame]:
    """Concatenate the tables of the sweep's jobs (``todo``, default :func:`sweep_jobs`),
    byte for byte, into ``root``, once :func:`check_jobs` has passed them all.

    Each merged table is written to a temporary file of its own (several processes may
    merge one root) and moved into place only when both are complete; on any failure the
    old tables stay as they were and no temporary file is left.
    """
    todo = sweep_jobs(root) if todo is None else todo
    if not todo:
        raise ReportError(f"{root}: no jobs to merge")
    headers = check_jobs(root, todo)
    for name in TABLES:  # before any move: a move failing midway would leave a mixed pair
        dest = root / f"{name}.csv"
        if dest.exists() and not dest.is_file():
            raise ReportError(f"{root}: cannot write the merged tables: {dest} is not a file", 1)
    names = sorted(TABLES, key=lambda n: n == "cells")  # cells.csv last: it means "complete"
    try:
        with written_together([root / f"{n}.csv" for n in names]) as tmp:
            for name, path in zip(names, tmp, strict=True):
                _concatenate(path, headers[name], [job.dir / f"{name}.csv" for job in todo])
    except OSError as ex:
        raise ReportError(f"{root}: cannot write the merged tables: {os_error_line(ex)}", 1) from ex
    return {name: pd.read_csv(root / f"{name}.csv") for name in TABLES}


def os_error_line(ex: OSError) -> str:
    return f"{ex.filename}: {ex.strerror}" if ex.filename and ex.strerror else str(ex)


def _concatenate(dest: Path, header: str, parts: list[Path]) -> None:
    with open(dest, "xb") as out:
        out.write(header.encode())
        for part in parts:
            with open(part, "rb") as f:
                f.readline()
                shutil.copyfileobj(f, out)
        out.flush()
        os.fsync(out.fileno())  # on disk before it replaces the old table


def read_run(directory: Path) -> dict[str, pd.DataFrame]:
    """A single run's tables, once :func:`check_table` has passed them."""
    rows = expected_rows(directory)
    for name in TABLES:
        path = directory / f"{name}.csv"
        check_table(path, str(path), rows=rows and rows[name])
    return {name: pd.read_csv(directory / f"{name}.csv") for name in TABLES}
