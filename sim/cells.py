"""Cells: one combination of swept parameters, with a random stream of its own.

Every cell draws from a generator seeded by ``seed`` and the cell's parameter values
(``numpy.random.SeedSequence``), so a cell gives the same numbers alone, inside an
in-process grid, or as one job of a Hydra multirun on any launcher (docs/model.md §10).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Cell:
    scenario: str
    framework: str
    trust: float
    pressure: float

    def key(self) -> str:
        # + 0.0 turns -0.0 into 0.0: equal numbers must name the same random stream
        return f"{self.scenario}|{self.framework}|{self.trust + 0.0!r}|{self.pressure + 0.0!r}"

    def as_dict(self) -> dict:
        return asdict(self)


def seed_sequence(seed: int, cell: Cell) -> np.random.SeedSequence:
    digest = hashlib.sha256(cell.key().encode()).digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    return np.random.SeedSequence([int(seed), *words])


def generator(seed: int, cell: Cell) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(seed, cell))
