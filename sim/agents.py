"""The two country agents. Each holds its state as arrays over W parallel worlds."""

from __future__ import annotations

import mesa
import numpy as np

from sim import guarantor, trust
from sim.config import CountryConfig


class Country(mesa.Agent):
    """A country at the table: what it wants, what it gets without a deal, whom it trusts.

    ``salience`` (W, n) are the weights it negotiates with (backlash moves Mexico's toward
    sovereignty); ``base_salience`` (n,) the scenario's weights, which measure outcomes.
    ``alpha``/``beta`` (W,) are its Beta evidence that the partner keeps its word.
    """

    def __init__(self, model, name: str, cfg: CountryConfig, issues, initial_trust, worlds: int):
        super().__init__(model)
        self.name = name
        self.base_salience = np.array([cfg.salience[k] for k in issues], float)
        self.salience = np.tile(self.base_salience, (worlds, 1))
        self.disagreement = np.array([cfg.disagreement[k] for k in issues], float)
        self.concession = np.full(worlds, float(cfg.concession))
        self.reliability = np.full(worlds, float(cfg.reliability))
        self.alpha, self.beta = trust.prior(initial_trust, model.cfg.trust_prior)

    @property
    def trust(self) -> np.ndarray:
        """Belief that the partner keeps its word, (W,)."""
        return trust.mean(self.alpha, self.beta)

    def observe(self, good, bad):
        """Update the belief with this episode's evidence about the partner."""
        self.alpha, self.beta = trust.update(
            self.alpha, self.beta, good, bad, self.model.cfg.forgetting
        )

    def keeps(self, u, costly, noise, monitoring=0.0):
        """Which commitments this side keeps: costly ones with its reliability (raised by a
        guarantor's ``monitoring``), others unless the (rare) implementation noise strikes.
        ``u`` are uniforms (W, n)."""
        reliability = guarantor.monitored(self.reliability, monitoring)
        return np.where(costly, u < reliability[:, None], u >= noise)
