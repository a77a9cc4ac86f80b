"""Cells: a scenario, a framework and a point of parameter values, with a random stream.

Every cell draws from a generator seeded by ``seed`` and the cell's stream key (scenario,
framework, trust and pressure; ``numpy.random.SeedSequence``), so a cell gives the same
numbers alone, inside an in-process grid or design, or as one job of a Hydra multirun on
any launcher. Cells that differ only in other parameters share their random numbers
(common random numbers, docs/model.md §10): their differences are the parameters', not
sampling noise. With ``experiment.paired`` the framework leaves the key too, so the linked
and delinked runs of a point draw the same numbers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cell:
    """``params``: the point's other parameter values, as ``(dotted name, value)`` pairs
    sorted by name, in the canonical form of ``sim.params.point``."""

    scenario: str
    framework: str
    trust: float
    pressure: float
    params: tuple[tuple[str, float | tuple[float, ...]], ...] = ()

    def stream_key(self, paired: bool = False) -> str:
        """What names the cell's random stream; ``paired``: the same for every framework
        (``experiment.paired``)."""
        # + 0.0 turns -0.0 into 0.0: equal numbers must name the same random stream
        framework = "*" if paired else self.framework
        return f"{self.scenario}|{framework}|{self.trust + 0.0!r}|{self.pressure + 0.0!r}"

    def key(self) -> str:
        """What tells the cell from every other (its stored record's name)."""
        extra = "".join(f"|{name}={_canonical(v)}" for name, v in self.params)
        return self.stream_key() + extra

    def values(self) -> dict:
        """Every parameter value of the point, trust and pressure included."""
        return {"trust": self.trust, "pressure": self.pressure, **dict(self.params)}


def _canonical(v) -> str:
    if isinstance(v, tuple):
        return "(" + ",".join(repr(x + 0.0) for x in v) + ")"
    return repr(v + 0.0)


def make(scenario: str, framework: str, values: dict, default_trust: float, default_pressure):
    """The cell of a point: ``values`` (canonical) may set trust and pressure; the rest
    become ``params``, sorted by name."""
    rest = {k: v for k, v in values.items() if k not in ("trust", "pressure")}
    return Cell(
        scenario,
        framework,
        float(values.get("trust", default_trust)),
        float(values.get("pressure", default_pressure)),
        tuple(sorted(rest.items())),
    )


def seed_sequence(seed: int, cell: Cell, paired: bool = False) -> np.random.SeedSequence:
    digest = hashlib.sha256(cell.stream_key(paired).encode()).digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    return np.random.SeedSequence([int(seed), *words])


def generator(seed: int, cell: Cell, paired: bool = False) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(seed, cell, paired))


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

    def __init__(self, seed: int, block: Block, replications: int, paired: bool = False):
        self.block, self.replications = block, replications
        self.rng = generator(seed, block.cell, paired)

    def random(self, k: int) -> np.ndarray:
        bits = self.rng.bit_generator
        bits.advance(self.block.start * k)
        u = self.rng.random((self.block.size, k))
        bits.advance((self.replications - self.block.stop) * k)
        return u
