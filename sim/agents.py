"""The two country agents. Each holds its state as arrays over W parallel worlds."""

from __future__ import annotations

import mesa
import numpy as np

from sim import guarantor, ratification, trust


class Country(mesa.Agent):
    """A country at the table: what it wants, what it gets without a deal, whom it trusts.

    ``salience`` (W, n) are the weights it negotiates with (backlash moves Mexico's toward
    sovereignty); ``base_salience`` (W, n) the point's weights, which measure outcomes.
    ``alpha``/``beta`` (W,) are its Beta evidence that the partner keeps its word;
    ``ratifiers`` its domestic ratifiers (``sim.ratification``), if any. Every
    value is per world, from the model's ``params`` (``countries.<name>.*``).
    """

    def __init__(self, model, name: str, params: dict[str, np.ndarray]):
        super().__init__(model)
        self.name = name

        def own(key):
            return params[f"countries.{name}.{key}"]

        self.base_salience = own("salience")
        self.salience = self.base_salience.copy()
        self.disagreement = own("disagreement").copy()  # dated events may change it
        self.concession = own("concession")
        self.reliability = own("reliability").copy()
        self.alpha, self.beta = trust.prior(own("trust"), params["trust_prior"])
        cfg = model.cfg
        # level II (docs/model.md §4.1); None: a unitary actor
        self.ratifiers = (
            ratification.Ratifiers(cfg, name, params, model.blocks, cfg.experiment.paired)
            if getattr(cfg.countries, name).ratifiers
            else None
        )

    @property
    def trust(self) -> np.ndarray:
        """Belief that the partner keeps its word, (W,)."""
        return trust.mean(self.alpha, self.beta)

    def observe(self, good, bad):
        """Update the belief with this episode's evidence about the partner."""
        self.alpha, self.beta = trust.update(
            self.alpha, self.beta, good, bad, self.model.params["forgetting"]
        )

    def keeps(self, u, costly, noise, monitoring=0.0):
        """Which commitments this side keeps: costly ones with its reliability (raised by a
        guarantor's ``monitoring``), others unless the (rare) implementation noise strikes.
        ``u`` are uniforms (W, n)."""
        reliability = guarantor.monitored(self.reliability, monitoring)
        return np.where(costly, u < reliability[:, None], u >= noise)
