"""The cell store: finished cells on disk, so an interrupted run resumes where it stopped.

Each finished cell is one small JSON file holding its rows of ``cells.csv``,
``trajectories.csv`` and (when asked for) ``worlds.csv`` as CSV text. Files are keyed by a
fingerprint of everything that changes a cell's numbers (the config without the sweep axes
and output options, and the source code of ``sim``), so a run with the same command finds
the cells it already finished, while a changed config or a changed model never reuses stale
numbers. Writes are atomic: a killed run leaves whole files or none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from enum import Enum
from functools import cache
from pathlib import Path

from sim.cells import Cell
from sim.config import Config

# Keys that choose cells or shape the output but do not change a cell's numbers.
NOT_IN_FINGERPRINT = {"experiment", "map", "jobs", "store", "trust", "pressure"}


# The modules whose code decides a cell's numbers (not the plots, the app or the CLI).
ENGINE = [
    "agents",
    "bargaining",
    "cells",
    "config",
    "events",
    "frameworks",
    "guarantor",
    "issues",
    "metrics",
    "model",
    "pressure",
    "runner",
    "trust",
]


@cache
def code_version() -> str:
    """A hash of the engine's source, so results never outlive the code that made them."""
    h = hashlib.sha256()
    for name in ENGINE:
        h.update(name.encode() + (Path(__file__).parent / f"{name}.py").read_bytes())
    return h.hexdigest()[:16]


def _plain(obj):
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def fingerprint(cfg: Config) -> str:
    plain = {k: v for k, v in _plain(cfg).items() if k not in NOT_IN_FINGERPRINT}
    plain["framework"].pop("name")  # the cell's own framework is in its key
    plain["output"] = {"worlds": cfg.output.worlds}
    plain["scenario"] = plain["scenario"]["name"]
    text = json.dumps(plain, sort_keys=True) + code_version()
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class Store:
    """Finished cells of one config under ``root/<fingerprint>/``."""

    def __init__(self, root: Path, cfg: Config):
        self.dir = Path(root) / fingerprint(cfg)

    def path(self, cell: Cell) -> Path:
        return self.dir / (hashlib.sha256(cell.key().encode()).hexdigest()[:24] + ".json")

    def done(self, cell: Cell) -> bool:
        return self.path(cell).exists()

    def save(self, cell: Cell, parts: dict[str, str]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.path(cell)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"cell": cell.key(), **parts}))
        os.replace(tmp, path)

    def load(self, cell: Cell) -> dict[str, str]:
        return json.loads(self.path(cell).read_text())
