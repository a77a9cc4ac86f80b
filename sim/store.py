"""The cell store: finished cells on disk, so an interrupted run resumes where it stopped.

Each finished cell is one small JSON file holding its rows of ``cells.csv``,
``trajectories.csv`` and (when asked for) ``worlds.csv`` as CSV text. Files are keyed by a
fingerprint of everything that changes a cell's numbers (the config without the sweep axes
and output options, every module of ``sim`` and the numeric libraries' versions), so a run
with the same command finds the cells it already finished, while a changed config or a
changed model never reuses stale numbers. Writes are atomic: a killed run leaves whole
files or none.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import logging
from functools import cache
from importlib import metadata
from pathlib import Path

from omegaconf import OmegaConf

from sim.cells import Cell
from sim.config import Config, ScenarioMeta
from sim.files import written_together

log = logging.getLogger(__name__)

# Keys that choose cells or shape the output but do not change a cell's numbers.
NOT_IN_FINGERPRINT = {
    "experiment",
    "map",
    "design",
    "space",
    "sensitivity",
    "discovery",
    "shards",
    "shard",
    "jobs",
    "store",
    "trust",
    "pressure",
    "figures",
}
# Libraries whose upgrade may change a cell's numbers (numpy draws and sums them).
NUMERIC_DEPENDENCIES = ("numpy", "mesa")


PACKAGE = Path(__file__).parent


@cache
def code_version(package: Path = PACKAGE) -> str:
    """A hash of every module of ``package`` and of the numeric libraries' versions, so
    results never outlive the code that made them."""
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    for name in NUMERIC_DEPENDENCIES:
        h.update(f"{name}=={metadata.version(name)}".encode())
    return h.hexdigest()[:16]


def fingerprint(cfg: Config) -> str:
    """What decides a cell's numbers, besides the cell's own key: the config without the
    sweep axes and the output options, and :func:`code_version`."""
    # the scenario's provenance and teaching texts change no number (and can be long)
    bare = dataclasses.replace(cfg, scenario=ScenarioMeta(cfg.scenario.name))
    plain = OmegaConf.to_container(OmegaConf.structured(bare), enum_to_str=True)
    plain = {k: v for k, v in plain.items() if k not in NOT_IN_FINGERPRINT}
    plain["framework"].pop("name")  # the cell's own framework is in its key
    plain["output"] = {"worlds": cfg.output.worlds, "trajectories": cfg.output.trajectories}
    plain["paired"] = cfg.experiment.paired  # the cells' random streams
    plain["scenario"] = plain["scenario"]["name"]
    text = json.dumps(plain, sort_keys=True) + code_version()
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class DamagedRecord(ValueError):
    """A stored cell that cannot be used: unreadable, for another cell or config, or with
    rows that do not have the columns of its table."""


class Store:
    """Finished cells of one config under ``root/<fingerprint>/``.

    A record is served only when it is whole and is the one asked for: its cell key, its
    fingerprint and the number of fields of every row must match. Anything else (a
    truncated or hand-edited file, another cell's record copied over it) is logged by
    name, removed and computed again.
    """

    def __init__(self, root: Path, cfg: Config, columns: dict[str, list[str]]):
        self.fingerprint = fingerprint(cfg)
        self.dir = Path(root) / self.fingerprint
        self._made = False
        self.columns = columns

    def path(self, cell: Cell) -> Path:
        return self.dir / (hashlib.sha256(cell.key().encode()).hexdigest()[:24] + ".json")

    def done(self, cell: Cell) -> bool:
        """Whether a usable record of ``cell`` is stored (a damaged one is removed)."""
        path = self.path(cell)
        if not path.exists():
            return False
        try:
            self.load(cell)
        except DamagedRecord as ex:
            log.warning("recomputing a damaged stored cell: %s", ex)
            path.unlink(missing_ok=True)
            return False
        return True

    def save(self, cell: Cell, parts: dict[str, str]) -> None:
        if not self._made:  # once: a design saves tens of thousands of cells
            self.dir.mkdir(parents=True, exist_ok=True)
            self._made = True
        record = {"cell": cell.key(), "fingerprint": self.fingerprint, **parts}
        with written_together([self.path(cell)]) as (tmp,):
            tmp.write_text(json.dumps(record))

    def load(self, cell: Cell, rows_checked: bool = False) -> dict[str, str]:
        """The stored rows of ``cell``; :class:`DamagedRecord` names the file otherwise.
        ``rows_checked``: :meth:`done` passed it, or this run wrote it; its rows are not
        parsed again (for thousands of cells that is most of the cost of reading)."""
        path = self.path(cell)
        try:
            record = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as ex:
            raise DamagedRecord(f"{path}: unreadable ({type(ex).__name__})") from None
        if not isinstance(record, dict):
            raise DamagedRecord(f"{path}: not a cell record")
        if record.get("cell") != cell.key():
            raise DamagedRecord(f"{path}: holds cell {record.get('cell')!r}, not {cell.key()!r}")
        if record.get("fingerprint") != self.fingerprint:
            raise DamagedRecord(f"{path}: made by another config or code version")
        if rows_checked:
            return record
        for name, columns in self.columns.items():
            text = record.get(name)
            if not isinstance(text, str):
                raise DamagedRecord(f"{path}: no {name} rows")
            rows = list(csv.reader(io.StringIO(text)))
            if (text and not text.endswith("\n")) or any(len(r) != len(columns) for r in rows):
                raise DamagedRecord(f"{path}: {name} rows without the {len(columns)} columns")
        return record
