"""The parameter space of ``experiment=sensitivity`` and ``experiment=discovery``: its SALib
problem, its sample, and the sample as cells for the runner (docs/model.md §11).

A sampled row becomes a point of per-world parameters (``sim.params.point``); rows that
give the same point (the ``dummy`` parameter is never passed to the model, and a Morris
trajectory may move only the dummy) share one cell, so every row has a value and none is
simulated twice. Every point runs in every framework of ``map.framework``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim import params
from sim.cells import Cell, make
from sim.config import Config, ConfigError, ExperimentName, SensitivityMethod

DUMMY = "dummy"  # the parameter the model never reads (``space.dummy``)


def problem(cfg: Config) -> dict:
    """SALib's problem: the names (as users type them) and bounds of the sampled space."""
    names = list(cfg.space.parameters) + ([DUMMY] if cfg.space.dummy else [])
    bounds = [list(cfg.space.ranges[n]) if n != DUMMY else [0.0, 1.0] for n in names]
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def sample(problem: dict, method: str, n: int, seed: int, **options) -> np.ndarray:
    """``method``'s sample of ``problem``: ``sobol`` (Saltelli's scheme on a scrambled
    Sobol' sequence, n(2D + 2) rows, ``second_order``), ``morris`` (``n`` trajectories of
    ``levels`` levels) or ``latin`` (``n`` rows of a Latin hypercube)."""
    from SALib.sample import latin, morris, sobol

    match method:
        case "sobol":
            second = options.get("second_order", True)
            return sobol.sample(problem, n, calc_second_order=second, seed=seed)
        case "morris":
            return morris.sample(problem, n, num_levels=options.get("levels", 4), seed=seed)
        case "latin":
            return latin.sample(problem, n, seed=seed)
    raise ValueError(f"unknown sampling method {method!r}")


@dataclass
class Design:
    """A sampled space: ``X`` (rows x parameters, the dummy included), the distinct
    ``points`` they give, and ``row_point[i]``, the point of row i."""

    problem: dict
    X: np.ndarray
    points: list[Cell]
    row_point: np.ndarray

    def cells(self, cfg: Config) -> list[Cell]:
        """Every cell: each point in each framework, frameworks outermost."""
        return [replace(p, framework=fw.value) for fw in cfg.map.framework for p in self.points]


def design(cfg: Config) -> Design:
    """The experiment's sampled space (made once per config: the runner asks twice)."""
    key = repr(cfg)
    if key not in _last:
        _last.clear()
        _last[key] = _design(cfg)
    return _last[key]


_last: dict[str, Design] = {}


def _design(cfg: Config) -> Design:
    prob = problem(cfg)
    s = cfg.sensitivity
    seed = cfg.seed if cfg.space.seed is None else cfg.space.seed
    if cfg.experiment.name is ExperimentName.discovery:
        X = sample(prob, "latin", cfg.discovery.n, seed)
    elif s.method is SensitivityMethod.sobol:
        X = sample(prob, "sobol", s.n, seed, second_order=s.second_order)
    else:
        X = sample(prob, "morris", s.trajectories, seed, levels=s.levels)
    names = [n for n in prob["names"] if n != DUMMY]
    columns = [prob["names"].index(n) for n in names]
    seen: dict[Cell, int] = {}
    row_point = np.empty(len(X), np.intp)
    for i, row in enumerate(X[:, columns].tolist()):
        try:
            values = params.point(cfg, dict(zip(names, row, strict=True)))
        except ConfigError as ex:  # e.g. weights that leave no room for the other issues
            allowed = f"ranges whose every point is valid ({ex.key}: {ex.allowed})"
            raise ConfigError("space.ranges", ex.value, allowed) from None
        cell = make(cfg.scenario.name, "", values, cfg.trust, cfg.pressure)
        row_point[i] = seen.setdefault(cell, len(seen))
    return Design(prob, X, list(seen), row_point)


def cells(cfg: Config) -> list[Cell]:
    return design(cfg).cells(cfg)
