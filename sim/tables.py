"""A run's tables checked: whole, and with the rows its recorded config calls for.

Counting rows from the config as Hydra recorded it (``.hydra/config.yaml``, read as plain
YAML) costs a fraction of a millisecond a job, so sweeps of thousands are checked in
seconds; a full :class:`~sim.config.Config` would cost ~70 ms a job.
"""

from __future__ import annotations

import csv
import os
from functools import cache
from itertools import takewhile
from math import prod
from pathlib import Path

import yaml

from sim.config import ExperimentName
from sim.design import unit

TABLES = ("cells", "trajectories")
# Hydra's records are plain YAML; libyaml reads them ~20 times faster (thousands of jobs)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ReportError(Exception):
    """A directory, job or file that is missing, damaged or cannot be written, said in one
    line; ``status``: the exit status it calls for (2: bad input; 1: a fault writing)."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def read_yaml(path: Path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_LOADER)


def recorded_config(run_dir: Path) -> dict | None:
    """The run's recorded config (``.hydra/config.yaml``) as plain YAML; None if absent."""
    path = run_dir / ".hydra" / "config.yaml"
    return read_yaml(path) if path.is_file() else None


def expected_rows(run_dir: Path, record: dict | None = None) -> dict[str, int] | None:
    """The rows of each table the run's recorded config (``.hydra/config.yaml``, or
    ``record``: that file as read) calls for; None if the run has no record, or if its rows
    cannot be told from it (a design file that is gone, a value given by interpolation).

    This is the count of :func:`sim.design.cells` and :func:`sim.design.shard` on the
    recorded values: a full :class:`Config` would cost ~70 ms a job, too much for sweeps of
    thousands.
    """
    rec = recorded_config(run_dir) if record is None else record
    if rec is None:
        return None
    try:
        cells = _cells(rec, run_dir)
        if cells is None:
            return None
        cells = shard_cells(
            cells, int(rec.get("shards", 1)), int(rec.get("shard", 0)), int(rec["replications"])
        )
        return {"cells": cells, "trajectories": cells * int(rec["episodes"])}
    except (KeyError, TypeError, ValueError, AttributeError):
        what = "experiment, map, design, episodes, replications, shards"
        path = run_dir / ".hydra" / "config.yaml"
        raise ReportError(f"{path} does not say what the run made ({what})") from None


class _Unknown(Exception):
    """A count the record does not give without composing the config."""


def _cells(rec: dict, run_dir: Path) -> int | None:
    """All the experiment's cells (every shard's), as the record says; None if unknown."""
    name = rec["experiment"]["name"]  # saved by name
    try:
        if name == ExperimentName.single.name:
            return 1
        frameworks = _count(rec["map"]["framework"])
        if name == ExperimentName.map.name:
            grid = rec["map"]
            axes = grid.get("axes") or {}
            if isinstance(axes, str):
                raise _Unknown
            lists = axes.values() if axes else (grid["trust"], grid["pressure"])
            return frameworks * prod(_count(v) for v in lists)
        if name == ExperimentName.design.name:
            points = _design_points(rec["design"]["file"], run_dir)
            if points is None:
                return None
            rows, own_framework = points
            return rows if own_framework else rows * frameworks
    except _Unknown:
        return None
    raise ValueError(name)


def _count(values) -> int:
    if isinstance(values, str) and "${" in values:  # an interpolation: known only composed
        raise _Unknown
    if not isinstance(values, list):
        raise TypeError(values)
    return len(values)


def _design_points(file, run_dir: Path) -> tuple[int, bool] | None:
    """The design file's points and whether it has a ``framework`` column, as
    :mod:`sim.design` reads it (relative to the launch directory, Hydra's
    ``hydra.runtime.cwd``); None if it cannot be found or read, or changed since the run
    started."""
    if not isinstance(file, str) or not file:
        raise TypeError(file)
    path = Path(file)
    if not path.is_absolute():
        cwd = _launched_in(run_dir)
        if cwd is None:
            return None
        path = Path(cwd) / path
    try:
        stat = path.stat()
        record = run_dir / ".hydra" / "config.yaml"
        if record.is_file() and stat.st_mtime_ns > record.stat().st_mtime_ns:
            return None  # changed since the run started: its rows may not be the run's
        return _points(str(path), stat.st_mtime_ns, stat.st_size)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def _launched_in(run_dir: Path) -> str | None:
    """``hydra.runtime.cwd`` of the run's ``.hydra/hydra.yaml``; None if it cannot be read.

    Only that entry is parsed (the whole file takes ~2 ms, too much for thousands of jobs):
    the lines from ``    cwd:`` on that are indented deeper (a long value folded by the
    YAML writer), read as YAML; the whole file if that does not give a string."""
    try:
        text = (run_dir / ".hydra" / "hydra.yaml").read_text(encoding="utf-8")
        start = text.find("\n    cwd:", text.find("\n  runtime:\n"))
        if start >= 0:
            lines = text[start + 1 :].split("\n")
            entry = [lines[0]] + list(takewhile(lambda x: x.startswith("     "), lines[1:]))
            cwd = yaml.load("\n".join(x[4:] for x in entry), Loader=_LOADER)["cwd"]
            if isinstance(cwd, str):
                return cwd
        cwd = yaml.load(text, Loader=_LOADER)["hydra"]["runtime"]["cwd"]
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
        return None
    return cwd if isinstance(cwd, str) else None


@cache
def _points(file: str, mtime_ns: int, size: int) -> tuple[int, bool] | None:
    """Read once per version of the file: thousands of jobs share one design."""
    with open(file, newline="", encoding="utf-8-sig") as f:
        table = [r for r in csv.reader(f) if any(x.strip() for x in r)]
    if not table:
        return None
    return len(table) - 1, "framework" in (h.strip() for h in table[0])


def shard_cells(total: int, shards: int, shard: int, replications: int) -> int:
    """How many of ``total`` cells shard ``shard`` of ``shards`` runs: whole units of
    :func:`sim.design.unit` cells, units ``shard``, ``shard + shards``, ..."""
    if shards == 1:
        return total
    size = unit(replications)
    units = -(-total // size)
    mine = range(shard, units, shards)
    short = units * size - total  # the last unit's missing cells
    return len(mine) * size - (short if mine and mine[-1] == units - 1 else 0)


def check_table(path: Path, label: str, header: str | None = None, rows: int | None = None):
    """Check that the table at ``path`` (``label`` in messages) is whole and return its
    header line: a header (equal to ``header`` if given), the header's number of fields on
    every row, a final newline, and ``rows`` rows if given. Raise :class:`ReportError`."""
    return checked_table(path, label, header, rows)[0]


def checked_table(path: Path, label: str, header: str | None, rows: int | None) -> tuple[str, int]:
    """:func:`check_table`'s header line, and the number of rows."""
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
    return first, n


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
