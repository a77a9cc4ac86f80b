"""The seminar app's model side: the sidebar's parameters and the model they build.

:class:`SeminarModel` is ``LinkageModel`` itself (W worlds of one cell, or a linked and a
delinked cell side by side in one batch) with the keyword constructor Mesa's Reset needs,
a stop at ``episodes``, and the record of each cell's first world. Nothing
here depends on the browser; ``sim.app`` puts it on the page and ``sim.app_figures`` draws it.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from functools import lru_cache

import numpy as np

from sim.cells import Cell
from sim.config import load, validate
from sim.model import LinkageModel, TableRecord

COMPARE = "compare linked and delinked"
# the frameworks the sides choose each episode, by their rule (docs/model.md §2.1)
CHOSEN = {"chosen (consent)": "consent", "chosen (coercive)": "coercive"}
FRAMEWORKS = ["linked", "delinked", "sequenced", *CHOSEN, COMPARE]
DEFAULTS = {
    "scenario_name": "baseline",
    "framework": "linked",
    "trust": 0.5,
    "pressure": 0.5,
    "episodes": 20,
    "seed": 0,
    "worlds": 50,
}
MAX_WORLDS = 200
MAP_SIDE = 11  # the map's grid: MAP_SIDE x MAP_SIDE cells per framework ...
MAP_WORLDS = 20  # ... with this many worlds each


@dataclasses.dataclass(frozen=True)
class Params:
    """What the sidebar controls: one value per control."""

    scenario_name: str = DEFAULTS["scenario_name"]
    framework: str = DEFAULTS["framework"]
    trust: float = DEFAULTS["trust"]
    pressure: float = DEFAULTS["pressure"]
    episodes: int = DEFAULTS["episodes"]
    seed: int = DEFAULTS["seed"]
    worlds: int = DEFAULTS["worlds"]

    @property
    def compare(self) -> bool:
        return self.framework == COMPARE


_hydra = threading.Lock()  # Hydra's global state: one composition at a time


@lru_cache(maxsize=64)
def _composed(scenario: str, framework: str, trust: float, pressure: float, seed: int, worlds: int):
    rule = [f"framework.rule={CHOSEN[framework]}"] if framework in CHOSEN else []
    with _hydra:
        return load(
            [
                f"scenario={scenario}",
                "experiment=single",
                f"framework={'chosen' if rule else framework}",
                *rule,
                f"trust={trust}",
                f"pressure={pressure}",
                f"seed={seed}",
                f"replications={worlds}",
            ]
        )


@lru_cache(maxsize=64)
def scenario_start(scenario: str) -> dict:
    """A scenario's own starting point: the slider values it is meant to be shown with."""
    with _hydra:
        cfg = load([f"scenario={scenario}", "experiment=single"])
    return {"trust": cfg.trust, "pressure": cfg.pressure, "episodes": cfg.episodes}


def config_for(p: Params):
    """The validated engine config of ``p``. Scenario events after the last episode are
    dropped (the run ends before them) rather than refused, so every slider value works."""
    fw = "linked" if p.compare else p.framework
    cfg = copy.deepcopy(
        _composed(
            p.scenario_name, fw, float(p.trust), float(p.pressure), int(p.seed), int(p.worlds)
        )
    )
    cfg.episodes = int(p.episodes)
    cfg.events = [e for e in cfg.events if e.episode <= cfg.episodes]
    validate(cfg)
    return cfg


def _plain(value):
    """A control's value (Mesa hands the model the control's reactive variable until it moves)."""
    return getattr(value, "value", value)


class SeminarModel(LinkageModel):
    """``LinkageModel`` with the sidebar's parameters as keywords (for Mesa's Reset).

    ``framework=COMPARE`` runs a linked and a delinked cell in one batch (first block
    linked). The first world of each cell is recorded (``record``) for the dance and the
    issue positions. The model stops (``running`` False) after ``episodes`` episodes.
    """

    def __init__(
        self,
        scenario_name: str = DEFAULTS["scenario_name"],
        framework: str = DEFAULTS["framework"],
        trust: float = DEFAULTS["trust"],
        pressure: float = DEFAULTS["pressure"],
        episodes: int = DEFAULTS["episodes"],
        seed: int = DEFAULTS["seed"],
        worlds: int = DEFAULTS["worlds"],
    ):
        p = Params(
            str(_plain(scenario_name)),
            str(_plain(framework)),
            float(_plain(trust)),
            float(_plain(pressure)),
            int(_plain(episodes)),
            int(_plain(seed)),
            int(_plain(worlds)),
        )
        cfg = config_for(p)
        cells = None
        if p.compare:
            cells = [
                Cell(cfg.scenario.name, fw, cfg.trust, cfg.pressure)
                for fw in ("linked", "delinked")
            ]
        first_worlds = [0, cfg.replications] if p.compare else [0]
        super().__init__(cfg, cells, record_worlds=first_worlds)
        self.lock = threading.RLock()
        self.settings = p  # the app's controls
        self.initial = {"trust_us": self.us.trust.copy(), "trust_mx": self.mx.trust.copy()}
        self.running = self.episode < cfg.episodes

    def step(self):
        with self.lock:  # Mesa's Play steps in a thread while the page may be drawing
            super().step()
            self.running = self.episode < self.cfg.episodes

    def advance(self, episodes: int) -> SeminarModel:
        for _ in range(min(episodes, self.cfg.episodes) - self.episode):
            self.step()
        return self


def blocks(model: SeminarModel) -> list[tuple[str, slice, list[TableRecord]]]:
    """(title, worlds, record of the block's first world) per cell shown side by side."""
    reps = model.cfg.replications
    if model.settings.compare:
        shown = [("linked", slice(0, reps)), ("delinked", slice(reps, 2 * reps))]
    else:
        shown = [(model.settings.framework, slice(0, reps))]
    return [(title, w, [t for t in model.record if t.world == w.start]) for title, w in shown]


def series(model: SeminarModel, name: str) -> np.ndarray:
    """(episodes so far, W) values of metric ``name``; trust starts at episode 0."""
    rows = list(model.datacollector.model_vars.get(name, []))
    if name in model.initial:
        rows = [model.initial[name]] + rows
    if not rows:
        return np.empty((0, model.worlds))
    return np.stack(rows)
