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


@dataclass(frozen=True)
class Block:
    """Replications ``start .. stop - 1`` of a cell: the unit batches are made of, so a
    cell of any size can be spread over chunks."""

    cell: Cell
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def blocks_of(cell: Cell, replications: int, size: int) -> list[Block]:
    return [Block(cell, a, min(a + size, replications)) for a in range(0, replications, size)]


class Stream:
    """A block's share of its cell's random stream.

    Every episode a cell draws ``k`` uniforms per replication, replication after
    replication. A block draws those of its own replications and skips the others'
    (PCG64 advances in constant time), so replication j gets the same numbers whichever
    block, chunk or process it runs in.
    """

    def __init__(self, seed: int, block: Block, replications: int):
        self.block, self.replications = block, replications
        self.rng = generator(seed, block.cell)

    def random(self, k: int) -> np.ndarray:
        bits = self.rng.bit_generator
        bits.advance(self.block.start * k)
        u = self.rng.random((self.block.size, k))
        bits.advance((self.replications - self.block.stop) * k)
        return u
