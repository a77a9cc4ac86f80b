"""Sweeps' tables checked and merged: every job the sweep's overrides call for must be there
and finished, and every table whole, before one merged ``cells.csv`` and
``trajectories.csv`` replace the old ones (written to temporary files first).

The merged tables are the jobs' rows in job order, byte for byte, with two exceptions:

- the shards of one run (``-m shards=N 'shard=range(0,N)'``: jobs whose overrides differ
  only in ``shard``) are put back together unit by unit, as the unsharded run writes them
  (:func:`sim.design.shard`);
- jobs whose scenarios have other issues (a sweep ``scenario=a,b``) have other per-issue
  columns (``agreement.<issue>``, ``position.<issue>``): the merged table has the first
  job's columns, then each new one in order of appearance, and a job's rows have empty
  fields in the columns it lacks.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from sim.design import unit
from sim.files import written_together
from sim.sweep import jobs
from sim.tables import (
    TABLES,
    ReportError,
    check_table,
    checked_table,
    expected_rows,
    read_yaml,
    recorded_config,
    shard_cells,
)

log = logging.getLogger(__name__)

# the per-issue columns (sim.metrics.names), with their ``_ci95``: all that may differ
# between the jobs of one sweep
ISSUE_COLUMNS = ("agreement.", "position.")


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


def _key(override: str) -> str:
    """The config key of an override as the command line gives it (``+a.b@c=1``: ``a.b``)."""
    return override.partition("=")[0].lstrip("+~").split("@")[0]


def _shown(job: list[str], swept: set[str]) -> str:
    """The overrides that tell this job from the others (all, if nothing was swept)."""
    own = [o for o in job if _key(o) in swept]
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


def _columns(header: str) -> list[str]:
    return next(csv.reader([header]))


def _issue_column(name: str) -> bool:
    return name.startswith(ISSUE_COLUMNS)


def _fits(header: str, first: str) -> bool:
    """Whether a table with ``header`` merges with the first job's: the same header, or one
    that differs only in per-issue columns (a scenario with other issues)."""
    if header == first:
        return True
    mine, theirs = _columns(header), _columns(first)
    return [c for c in mine if not _issue_column(c)] == [c for c in theirs if not _issue_column(c)]


@dataclass(frozen=True)
class Checked:
    """A job whose tables passed :func:`check_jobs`: per table its header line and its
    number of rows; its recorded config (plain YAML; None without a record) and the
    overrides it ran with (None if unknown)."""

    job: Job
    headers: dict[str, str]
    rows: dict[str, int]
    record: dict | None
    overrides: list[str] | None

    @property
    def shards(self) -> int:
        return int(self.record.get("shards", 1)) if self.record else 1


def check_jobs(root: Path, todo: list[Job]) -> list[Checked]:
    """Check that every job is there, is the sweep's, finished, and its tables whole, with
    the first job's headers (or ones that differ only in per-issue columns); return them
    checked. Raise :class:`ReportError` naming the first job that is not."""
    first: dict[str, str] = {}
    out = []
    for job in todo:
        where = f"{root}: {job.name}"
        if not job.dir.is_dir():
            raise ReportError(f"{where} has no directory {job.dir.name}/ (not started?)")
        record = job.dir / ".hydra" / "overrides.yaml"
        ran = read_yaml(record) if record.is_file() else None
        if job.overrides is not None and ran is not None and ran != job.overrides:
            raise ReportError(f"{where}: its directory holds another job ({' '.join(ran)})")
        if not (job.dir / "cells.csv").exists():
            raise ReportError(f"{where} has no cells.csv (not finished?)")
        config = recorded_config(job.dir)
        if config is None and any(
            _key(o) in ("shards", "shard") for o in ran or job.overrides or []
        ):
            raise ReportError(
                f"{where} has no .hydra/config.yaml: its shard cannot be put in place"
            )
        headers, counts = {}, {}
        try:
            rows = expected_rows(job.dir, config)
            for name in TABLES:
                path = job.dir / f"{name}.csv"
                label = str(path.relative_to(root))
                headers[name], counts[name] = checked_table(path, label, None, rows and rows[name])
                if not _fits(headers[name], first.setdefault(name, headers[name])):
                    raise ReportError(f"{label} has other columns than the first job's")
        except ReportError as ex:
            raise ReportError(f"{where}: {ex}") from None
        overrides = job.overrides if job.overrides is not None else ran
        out.append(Checked(job, headers, counts, config, overrides))
    return out


@dataclass(frozen=True)
class Part:
    """What goes into the merged tables next: one job's rows, or the shards of one run
    (``jobs`` in shard order), ``unit`` cells at a time, ``episodes`` trajectory rows a cell."""

    jobs: list[Checked]
    unit: int = 0
    episodes: int = 1


def parts(root: Path, checked: list[Checked]) -> list[Part]:
    """The jobs as they go into the merged tables, in job order: the shards of a run (jobs
    whose overrides differ only in ``shard``) as one part at its first job's place. Raise
    :class:`ReportError` for a run with a shard missing, twice, or of another size."""
    groups: dict[tuple, list[Checked]] = {}
    out: list[Part | tuple] = []
    for c in checked:
        if c.shards == 1:
            out.append(Part([c]))
            continue
        key = _run_key(c)
        if key not in groups:
            groups[key] = []
            out.append(key)
        groups[key].append(c)
    return [p if isinstance(p, Part) else _shards(root, p, groups) for p in out]


def _run_key(c: Checked) -> tuple:
    """What the shards of one run share: their overrides but ``shard``, in any order (or,
    without them, their recorded config but ``shard``)."""
    if c.overrides is not None:
        return (c.shards, tuple(sorted(o for o in c.overrides if _key(o) != "shard")))
    rest = {k: v for k, v in c.record.items() if k != "shard"}
    return (c.shards, json.dumps(rest, sort_keys=True, default=str))


def _shards(root: Path, key: tuple, groups: dict[tuple, list[Checked]]) -> Part:
    members = groups[key]
    n = members[0].shards
    what = _run_named(key, groups)
    by_shard: dict[int, Checked] = {}
    for c in members:
        s = int(c.record.get("shard", 0))
        if s in by_shard:
            raise ReportError(
                f"{root}: {what}: shard {s} of {n} twice ({by_shard[s].job.name}; {c.job.name})"
            )
        by_shard[s] = c
    missing = [s for s in range(n) if s not in by_shard]
    if missing:
        s = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ReportError(
            f"{root}: {what}: shard {s} of {n} is missing{more}; no job ran shard={s}"
        )
    shards = [by_shard[s] for s in range(n)]
    episodes = {int(c.record["episodes"]) for c in shards}
    replications = {int(c.record["replications"]) for c in shards}
    if len(episodes) > 1 or len(replications) > 1:  # only with jobs not of one sweep
        raise ReportError(f"{root}: {what}: shards with other episodes or replications")
    reps, per_cell = replications.pop(), episodes.pop()
    total = sum(c.rows["cells"] for c in shards)
    cells = [c.rows["cells"] for c in shards]
    traj = [c.rows["trajectories"] for c in shards]
    if cells != [shard_cells(total, n, s, reps) for s in range(n)] or traj != [
        k * per_cell for k in cells
    ]:
        listed = ", ".join(map(str, cells)), ", ".join(map(str, traj))
        raise ReportError(
            f"{root}: {what}: its shards hold {listed[0]} cells and {listed[1]} trajectory "
            f"rows, not the shares of one run of {total} cells in units of {unit(reps)} with "
            f"{per_cell} episodes (shards of other runs? a table cut?)"
        )
    return Part(shards, unit(reps), per_cell)


def _run_named(key: tuple, groups: dict[tuple, list[Checked]]) -> str:
    """A sharded run as messages name it: the overrides that tell it from the sweep's other
    sharded runs, if any."""
    own = []
    if isinstance(key[1], tuple):  # overrides, not a recorded config
        others = [k[1] for k in groups if k != key and isinstance(k[1], tuple)]
        own = [o for o in key[1] if any(o not in k for k in others)]
    return f"the run of shards={key[0]}" + (f" ({' '.join(own)})" if own else "")


def merge(root: Path, todo: list[Job] | None = None) -> dict[str, pd.DataFrame]:
    """Merge the tables of the sweep's jobs (``todo``, default :func:`sweep_jobs`) into
    ``root``, once :func:`check_jobs` has passed them all: byte for byte in job order,
    shards put back together (:func:`parts`), columns united over scenarios' issues.

    Each merged table is written to a temporary file of its own (several processes may
    merge one root) and moved into place only when both are complete; on any failure the
    old tables stay as they were and no temporary file is left.
    """
    todo = sweep_jobs(root) if todo is None else todo
    if not todo:
        raise ReportError(f"{root}: no jobs to merge")
    checked = check_jobs(root, todo)
    order = parts(root, checked)
    for name in TABLES:  # before any move: a move failing midway would leave a mixed pair
        dest = root / f"{name}.csv"
        if dest.exists() and not dest.is_file():
            raise ReportError(f"{root}: cannot write the merged tables: {dest} is not a file", 1)
    names = sorted(TABLES, key=lambda n: n == "cells")  # cells.csv last: it means "complete"
    try:
        with written_together([root / f"{n}.csv" for n in names]) as tmp:
            for name, path in zip(names, tmp, strict=True):
                header = _union([c.headers[name] for c in checked])
                _write(root, path, name, header, order)
    except OSError as ex:
        raise ReportError(f"{root}: cannot write the merged tables: {os_error_line(ex)}", 1) from ex
    return {name: pd.read_csv(root / f"{name}.csv") for name in TABLES}


def os_error_line(ex: OSError) -> str:
    return f"{ex.filename}: {ex.strerror}" if ex.filename and ex.strerror else str(ex)


def _union(headers: list[str]) -> str:
    """The first header, or (headers differing in per-issue columns) its columns and then
    every new one, in order of appearance."""
    first = headers[0]
    if all(h == first for h in headers):
        return first
    columns = dict.fromkeys(_columns(first))
    for h in dict.fromkeys(headers):
        columns.update(dict.fromkeys(_columns(h)))
    return ",".join(columns) + "\n"


def _write(root: Path, dest: Path, name: str, header: str, order: list[Part]) -> None:
    with open(dest, "xb") as out:
        out.write(header.encode())
        for part in order:
            files = [c.job.dir / f"{name}.csv" for c in part.jobs]
            if not part.unit:
                _copy(out, files[0], part.jobs[0].headers[name], header)
            else:
                _interleave(root, out, files, part, name, header)
        out.flush()
        os.fsync(out.fileno())  # on disk before it replaces the old table


def _copy(out: BinaryIO, path: Path, own: str, header: str) -> None:
    """A job's rows, byte for byte when it has the merged columns."""
    with open(path, "rb") as f:
        if own == header:
            f.readline()
            shutil.copyfileobj(f, out)
        else:
            out.writelines(_rows(f, own, header))


def _rows(f: BinaryIO, own: str, header: str) -> Iterator[bytes]:
    """The rows of the table open in ``f``, as lines of the merged table: its own lines if
    it has the merged columns, else its fields put under the merged columns (empty where it
    has none)."""
    f.readline()
    if own == header:
        yield from f
        return
    where = {c: i for i, c in enumerate(_columns(own))}
    take = [where.get(c) for c in _columns(header)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline="")):
        writer.writerow(["" if i is None else row[i] for i in take])
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()


def _interleave(
    root: Path, out: BinaryIO, files: list[Path], part: Part, name: str, header: str
) -> None:
    """The shards' rows in the unsharded run's order: unit j from shard j % N."""
    per_cell = part.episodes if name == "trajectories" else 1
    total = sum(c.rows["cells"] for c in part.jobs)
    with ExitStack() as stack:
        rows = [
            _rows(stack.enter_context(open(p, "rb")), c.headers[name], header)
            for p, c in zip(files, part.jobs, strict=True)
        ]
        for j, start in enumerate(range(0, total, part.unit)):
            want = min(part.unit, total - start) * per_cell
            out.writelines(islice(rows[j % len(rows)], want))
        for c, left in zip(part.jobs, rows, strict=True):
            if next(left, None) is not None:  # lines not rows: a field holding a newline
                raise ReportError(
                    f"{root}: {c.job.name}: {name}.csv: its rows do not split into lines "
                    "(a field holding a line break?): its shard cannot be put back in place"
                )


def read_run(directory: Path) -> dict[str, pd.DataFrame]:
    """A single run's tables, once :func:`check_table` has passed them."""
    rows = expected_rows(directory)
    for name in TABLES:
        path = directory / f"{name}.csv"
        check_table(path, str(path), rows=rows and rows[name])
    return {name: pd.read_csv(directory / f"{name}.csv") for name in TABLES}
