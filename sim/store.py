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

import hashlib
import json
import os
from functools import cache
from importlib import metadata
from pathlib import Path

from omegaconf import OmegaConf

from sim.cells import Cell
from sim.config import Config

# Keys that choose cells or shape the output but do not change a cell's numbers.
NOT_IN_FINGERPRINT = {"experiment", "map", "jobs", "store", "trust", "pressure", "figures"}
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
    plain = OmegaConf.to_container(OmegaConf.structured(cfg), enum_to_str=True)
    plain = {k: v for k, v in plain.items() if k not in NOT_IN_FINGERPRINT}
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
