"""Experiments as lists of cells: a single run, a map over one or more parameters, a design
read from a file, and the share of them one shard runs (docs/model.md §10).

- ``experiment=single``: one cell, the config as it stands.
- ``experiment=map``: the product of ``map.framework`` and the ``map.axes`` (default
  ``{trust: map.trust, pressure: map.pressure}``), frameworks outermost, the last axis
  innermost.
- ``experiment=design``: one cell per row of ``design.file`` (a CSV whose columns are
  parameter names, and optionally ``framework``) and per framework of ``map.framework``
  when the file has no ``framework`` column.
- ``experiment=sensitivity`` and ``experiment=discovery``: one cell per distinct point
  of the sample of ``space`` (``sim.analysis.space``) and per framework of ``map.framework``.
- ``shards=N shard=i``: the cells come in units of whole cells of about
  :data:`SHARD_WORLDS` worlds; shard i runs units i, i + N, i + 2N, ... so that each shard
  gets a share of every part of the experiment.

This module reads no model code: it checks configs before anything runs.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from itertools import islice, product
from pathlib import Path

import yaml

from sim import params
from sim.cells import Cell, make
from sim.config import Config, ConfigError, ExperimentName, FrameworkName

SHARD_WORLDS = 4000  # a shard's unit: whole cells of about this many worlds


class DesignError(ConfigError):
    """A bad design file, naming the file, the row (as a spreadsheet numbers it: the header
    is row 1) and the column."""

    def __init__(self, where: str, value, allowed: str):
        self.key, self.value, self.allowed = where, value, allowed
        ValueError.__init__(self, f"{where}: {value!r} is not allowed: {allowed}")


def axes(cfg: Config) -> dict[str, list]:
    """The map's axes, in order: ``map.axes``, or trust and pressure from ``map.trust`` and
    ``map.pressure``."""
    if not cfg.map.axes:
        return {"trust": list(cfg.map.trust), "pressure": list(cfg.map.pressure)}
    return {name: list(values) for name, values in cfg.map.axes.items()}


def columns(cfg: Config) -> list[str]:
    """The parameters a point of this experiment sets besides trust and pressure: the
    columns that follow ``pressure`` in the tables."""
    match cfg.experiment.name:
        case ExperimentName.map:
            names = list(axes(cfg))
        case ExperimentName.design:
            names = _header(cfg)
        case ExperimentName.sensitivity | ExperimentName.discovery:
            names = list(cfg.space.parameters)
        case _:
            names = []
    return [n for n in names if n not in ("trust", "pressure", "framework")]


def cells(cfg: Config) -> list[Cell]:
    """Every cell of the experiment, in the order of the tables (all shards)."""
    match cfg.experiment.name:
        case ExperimentName.single:
            return [single(cfg)]
        case ExperimentName.map:
            return _map(cfg)
        case ExperimentName.design:
            return _design_once(cfg)
        case ExperimentName.sensitivity | ExperimentName.discovery:
            from sim.analysis import space  # SALib, only for these experiments

            return space.cells(cfg)
    raise AssertionError(cfg.experiment.name)


def single(cfg: Config) -> Cell:
    """The one cell of the config as it stands."""
    return make(cfg.scenario.name, cfg.framework.name.value, {}, cfg.trust, cfg.pressure)


def shard(cfg: Config, every: list[Cell]) -> list[Cell]:
    """The cells shard ``cfg.shard`` of ``cfg.shards`` runs, in table order."""
    if cfg.shards == 1:
        return every
    size = unit(cfg.replications)
    return [c for i, c in enumerate(every) if (i // size) % cfg.shards == cfg.shard]


def unit(replications: int) -> int:
    """Cells per shard unit."""
    return max(1, SHARD_WORLDS // replications)


def _map(cfg: Config) -> list[Cell]:
    grid = axes(cfg)
    for name, values in grid.items():
        if not values:
            raise ConfigError(f"map.axes.{name}", [], "a non-empty list of values")
    try:
        canonical = [[params.value(cfg, n, v) for v in grid[n]] for n in grid]
        for n, values in zip(grid, canonical, strict=True):  # floats, or tuples: hashable
            twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
            if twice is not None:
                raise ConfigError(n, list(grid[n]), f"distinct values ({twice} twice)")
        # each point is checked once; the frameworks of a point share its values
        points = [
            make(cfg.scenario.name, "", params.point(cfg, dict(zip(grid, combo, strict=True))),
                 cfg.trust, cfg.pressure)
            for combo in product(*canonical)
        ]  # fmt: skip
    except ConfigError as ex:
        raise ConfigError(f"map.axes.{ex.key}", ex.value, ex.allowed) from None
    return [replace(p, framework=fw.value) for fw in cfg.map.framework for p in points]


def path(cfg: Config) -> Path:
    """``design.file``, relative to the directory ``linkage`` was started in."""
    given = Path(cfg.design.file)
    if given.is_absolute():
        return given
    try:
        from hydra.core.hydra_config import HydraConfig

        return Path(HydraConfig.get().runtime.cwd) / given
    except ValueError:  # not inside a Hydra run: the current directory
        return given


def _rows(cfg: Config, header_only: bool = False) -> tuple[list[str], list[list[str]]]:
    """The file's header and its non-blank rows (``header_only``: none of them)."""
    try:
        with open(path(cfg), newline="", encoding="utf-8-sig") as f:
            rows = (r for r in csv.reader(f) if any(x.strip() for x in r))
            table = list(islice(rows, 1) if header_only else rows)
    except (OSError, UnicodeDecodeError, csv.Error) as ex:
        why = getattr(ex, "strerror", None) or str(ex).splitlines()[0]
        raise ConfigError("design.file", cfg.design.file, f"a readable CSV file ({why})") from None
    if len(table) < (1 if header_only else 2):
        raise ConfigError("design.file", cfg.design.file, "a header row and at least one point")
    return [h.strip() for h in table[0]], table[1:]


def _header(cfg: Config) -> list[str]:
    return _rows(cfg, header_only=True)[0]


def _parse(text: str):
    text = text.strip()
    if text[:1] in "[{":  # a whole vector: [0.1, 0.2, ...] or {trade: 0.1, ...}
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return text
    return text


_last: dict[str, list[Cell]] = {}  # the last design's cells: a run checks, then runs it


def _design_once(cfg: Config) -> list[Cell]:
    """:func:`_design`, made once per config and version of the file."""
    stat = path(cfg).stat() if path(cfg).exists() else None
    key = repr((cfg, stat and (stat.st_mtime_ns, stat.st_size)))
    if key not in _last:
        cells = _design(cfg)
        _last.clear()
        _last[key] = cells
    return list(_last[key])


def _design(cfg: Config) -> list[Cell]:
    header, rows = _rows(cfg)
    name = cfg.design.file
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated or "" in header:
        what = f"column {repeated[0]} twice" if repeated else "an empty column name"
        raise DesignError(f"{name}: row 1", ",".join(header), f"distinct column names ({what})")
    for h in header:  # every column name is checked before any value
        if h != "framework" and h not in params.names(cfg):
            try:
                params.value(cfg, h, 0.0)
            except ConfigError as ex:
                raise DesignError(f"{name}: row 1, column {h}", h, ex.allowed) from None
    frameworks = [f.value for f in cfg.map.framework]
    allowed = [f.value for f in FrameworkName]
    out, seen = [], {}
    for i, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise DesignError(
                f"{name}: row {i}", ",".join(row), f"{len(header)} fields, as the header has"
            )
        given = dict(zip(header, row, strict=True))
        fw = given.pop("framework", None)
        if fw is not None:
            fw = fw.strip()
            if fw not in allowed:
                raise DesignError(f"{name}: row {i}, column framework", fw, ", ".join(allowed))
            if fw == "custom" and not cfg.framework.tables:
                raise DesignError(
                    f"{name}: row {i}, column framework", fw, "custom only with framework.tables"
                )
        values = {}
        for h, text in given.items():
            try:
                values[h] = params.value(cfg, h, _parse(text))
            except ConfigError as ex:
                raise DesignError(f"{name}: row {i}, column {h}", text, ex.allowed) from None
        try:
            values = params.point(cfg, values)
        except ConfigError as ex:
            raise DesignError(f"{name}: row {i}, column {ex.key}", ex.value, ex.allowed) from None
        point = make(cfg.scenario.name, "", values, cfg.trust, cfg.pressure)
        for f in [fw] if fw is not None else frameworks:
            cell = replace(point, framework=f)  # the frameworks of a point share its values
            if cell in seen:
                raise DesignError(
                    f"{name}: row {i}", ",".join(row), f"a point not in row {seen[cell]}"
                )
            seen[cell] = i
            out.append(cell)
    return out


def shown(value) -> str | float:
    """A parameter value as the tables show it: a number, or a vector as a JSON list."""
    if isinstance(value, tuple):
        return json.dumps(list(value))
    return value
