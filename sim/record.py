"""What a run keeps of a negotiation to draw it (the negotiation dance, docs/model.md §3):
a module of its own, so that the process that draws need not load the model to read it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TableRecord:
    """One table of one recorded world in one episode: every offer, and what the negotiation
    dance needs to draw them (docs/model.md §3). Utilities are normalised on the table."""

    episode: int
    world: int
    issues: list[str]  # the table's issues, in agenda order
    w_us: np.ndarray  # (m,) negotiating weights, normalised on the table
    w_mx: np.ndarray
    d_us: np.ndarray  # (m,) no-deal values
    d_mx: np.ndarray
    reservation: tuple[float, float]  # (R_US, R_MX), including any threat
    trust: tuple[float, float]  # (tau_US, tau_MX) as bargained with (after any vouching)
    first_mover: str  # "US" or "MX": who offers in round 0
    offers: np.ndarray  # (rounds, 2): the (US, MX) value of each round's offer
    round: int  # index of the agreeing round; ``rounds`` when none
    agreed: bool
    x: np.ndarray  # (m,) agreed positions, NaN when no agreement
