"""The seminar app (DESIGN 2.7): the model live in the browser, on Mesa's SolaraViz.

    linkage-app                               # then open http://127.0.0.1:8765/
    linkage-app --host 0.0.0.0 --port 9000

In a notebook, ``from sim.app import Page; Page()`` shows the same page in the cell.

The page is one Mesa ``SolaraViz`` over a :class:`SeminarModel`: ``LinkageModel`` itself
(W worlds of one cell, or a linked and a delinked cell side by side), given the keyword
constructor that Mesa's Reset needs, a stop at ``episodes`` and the dance of the first
delinked world in compare mode. Every visitor gets a model of their own (``Page`` makes it
with ``solara.use_memo``). Moving a control rebuilds the model with the new parameters and
replays it to the episode on screen, so a slider redraws at once; Step, Play and Reset are
Mesa's. The views are matplotlib figures in Mesa's plot grid: trust, utilities and
agreement, the positions of the latest agreement, the negotiation dance of the latest
episode beside the scenario's teaching text, and a small trust x pressure map computed on
request.

The page needs no network: its front-end comes from the ``solara-assets`` package, which
``pip install -e '.[app]'`` installs (see ``pyproject.toml`` for the pins and why).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import io
import logging
import math
import os
import sys
import threading
import time
from functools import lru_cache
from importlib import resources

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from sim import metrics
from sim.cells import Cell
from sim.config import load, validate
from sim.issues import nash_point, pareto_frontier
from sim.model import LinkageModel
from sim.runner import run_cells

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no calls home

import solara  # noqa: E402  (after the telemetry switch)
import solara.lab  # noqa: E402
from mesa.visualization import SolaraViz  # noqa: E402

log = logging.getLogger(__name__)

# Okabe-Ito, safe for the common colour-vision deficiencies
US_COLOUR = "#0072B2"
MX_COLOUR = "#D55E00"
AGREE_COLOUR = "#009E73"
NASH_COLOUR = "#CC79A7"
GREY = "#7F7F7F"

COMPARE = "compare linked and delinked"
FRAMEWORKS = ["linked", "delinked", "sequenced", COMPARE]
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
DPI = 100


# --- parameters and the model ------------------------------------------------------------
def scenarios() -> list[str]:
    """The scenario names: the YAML files of the package ``sim.conf.scenario``."""
    files = resources.files("sim.conf.scenario").iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".yaml"))


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
    with _hydra:
        return load(
            [
                f"scenario={scenario}",
                "experiment=single",
                f"framework={framework}",
                f"trust={trust}",
                f"pressure={pressure}",
                f"seed={seed}",
                f"replications={worlds}",
            ]
        )


def config_for(p: Params):
    """The validated engine config of ``p``. Scenario events after the last episode are
    dropped (the run ends before them) rather than refused, so every slider value works."""
    fw = "linked" if p.compare else p.framework
    cfg = copy.deepcopy(
        _composed(p.scenario_name, fw, float(p.trust), float(p.pressure), int(p.seed), int(p.worlds))
    )
    cfg.episodes = int(p.episodes)
    cfg.events = [e for e in cfg.events if e.episode <= cfg.episodes]
    validate(cfg)
    return cfg


def _plain(value):
    """A control's value (Mesa hands the model the control's reactive variable until it moves)."""
    return value.value if isinstance(value, solara.Reactive) else value


class SeminarModel(LinkageModel):
    """``LinkageModel`` with the sidebar's parameters as keywords (for Mesa's Reset).

    ``framework=COMPARE`` runs a linked and a delinked cell in one batch (first block
    linked) and also records the dance of the first delinked world in ``delinked_dances``.
    The model stops (``running`` False) after ``episodes`` episodes.
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
            cells = [Cell(cfg.scenario.name, fw, cfg.trust, cfg.pressure) for fw in ("linked", "delinked")]
        super().__init__(cfg, cells, record=True)
        self.params = p
        self.delinked_dances: list | None = [] if p.compare else None
        self.initial = {"trust_us": self.us.trust.copy(), "trust_mx": self.mx.trust.copy()}
        self.running = self.episode < cfg.episodes

    def step(self):
        super().step()
        self.running = self.episode < self.cfg.episodes

    def advance(self, episodes: int) -> SeminarModel:
        for _ in range(min(episodes, self.cfg.episodes) - self.episode):
            self.step()
        return self

    def _record(self, wi, k, tab, o):
        # LinkageModel records world 0; in compare mode record the first delinked world too,
        # by shifting the world index and swapping in the second list.
        super()._record(wi, k, tab, o)
        if self.delinked_dances is not None:
            own, self.dances = self.dances, self.delinked_dances
            try:
                super()._record(wi - self.cfg.replications, k, tab, o)
            finally:
                self.delinked_dances, self.dances = self.dances, own


def blocks(model: SeminarModel) -> list[tuple[str, slice, list]]:
    """(title, worlds, dances of the block's first world) per cell shown side by side."""
    reps = model.cfg.replications
    if model.params.compare:
        return [
            ("linked", slice(0, reps), model.dances),
            ("delinked", slice(reps, 2 * reps), model.delinked_dances),
        ]
    return [(model.params.framework, slice(0, reps), model.dances)]


def series(model: SeminarModel, name: str) -> np.ndarray:
    """(episodes so far, W) values of metric ``name``; trust starts at episode 0."""
    rows = list(model.datacollector.model_vars.get(name, []))
    if name in model.initial:
        rows = [model.initial[name]] + rows
    if not rows:
        return np.empty((0, model.worlds))
    return np.stack(rows)


# --- figures ---------------------------------------------------------------------------
def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _figure(width=6.0, height=4.4) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig


def _band(ax, x, values, colour, label, reps):
    """Mean line, and the 10-90% band over worlds when there is more than one world."""
    if values.shape[0] == 0:
        return
    mean = np.nanmean(values, axis=1) if values.shape[1] > 1 else values[:, 0]
    if values.shape[1] > 1:
        lo, hi = np.nanpercentile(values, [10, 90], axis=1)
        ax.fill_between(x, lo, hi, color=colour, alpha=0.2, lw=0)
    ax.plot(x, mean, color=colour, lw=2, label=label, marker="o" if len(x) < 3 else None, ms=4)


def _legend_note(model) -> str:
    reps = model.cfg.replications
    return "one world" if reps == 1 else f"mean of {reps} worlds, band 10-90%"


def trust_figure(model: SeminarModel) -> Figure:
    """Trust of each side over episodes, one panel per block."""
    bl = blocks(model)
    fig = _figure()
    axes = np.atleast_1d(fig.subplots(1, len(bl), sharey=True, squeeze=False)[0])
    us, mx = series(model, "trust_us"), series(model, "trust_mx")
    x = np.arange(us.shape[0])
    for ax, (title, w, _) in zip(axes, bl, strict=True):
        _band(ax, x, us[:, w], US_COLOUR, "US trust in Mexico", model.cfg.replications)
        _band(ax, x, mx[:, w], MX_COLOUR, "Mexican trust in the US", model.cfg.replications)
        ax.set_xlim(0, model.cfg.episodes)
        ax.set_ylim(0, 1)
        ax.set_xlabel("episode")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("trust (expected share of promises kept)")
    axes[0].legend(loc="lower left", fontsize=8, title=_legend_note(model), title_fontsize=8)
    fig.suptitle("Trust", fontsize=11, fontweight="bold")
    return fig


def utility_figure(model: SeminarModel) -> Figure:
    """Utilities (with the no-deal utilities) and the share of issues agreed, over episodes."""
    bl = blocks(model)
    fig = _figure()
    axes = fig.subplots(2, len(bl), sharex=True, sharey="row", squeeze=False,
                        gridspec_kw={"height_ratios": [3, 2]})
    u_us, u_mx = series(model, "us_utility"), series(model, "mx_utility")
    agree = series(model, "agreement_rate")
    x = np.arange(1, u_us.shape[0] + 1)
    us, mx = model.us, model.mx
    d_us = float(us.base_salience @ us.disagreement)
    d_mx = float(mx.base_salience @ mx.disagreement)
    reps = model.cfg.replications
    for j, (title, w, _) in enumerate(bl):
        top, bottom = axes[0, j], axes[1, j]
        _band(top, x, u_us[:, w], US_COLOUR, "US utility", reps)
        _band(top, x, u_mx[:, w], MX_COLOUR, "Mexican utility", reps)
        top.axhline(d_us, color=US_COLOUR, ls=":", lw=1.2, label="US no-deal utility")
        top.axhline(d_mx, color=MX_COLOUR, ls=":", lw=1.2, label="Mexican no-deal utility")
        top.set_title(title, fontsize=10)
        _band(bottom, x, agree[:, w], AGREE_COLOUR, "issues agreed", reps)
        bottom.set_ylim(-0.02, 1.02)
        bottom.set_xlim(0, model.cfg.episodes)
        bottom.set_xlabel("episode")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("utility (0-1, weighted)")
    axes[1, 0].set_ylabel("share of issues\nagreed and kept")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=7,
               title=_legend_note(model), title_fontsize=7)
    fig.suptitle("Utilities and agreement", fontsize=11, fontweight="bold")
    return fig


def latest_agreements(dances: list, issues: list[str]) -> dict[str, tuple[int, float]]:
    """Issue -> (episode, position) of the latest agreement on it."""
    out: dict[str, tuple[int, float]] = {}
    for d in reversed(dances or []):
        for t in d["tables"]:
            if not t["agreed"]:
                continue
            for issue, x in zip(t["issues"], t["x"], strict=True):
                out.setdefault(issue, (d["episode"], float(x)))
        if len(out) == len(issues):
            break
    return out


def positions_figure(model: SeminarModel) -> Figure:
    """Where the latest agreement on each issue sits between the two ideals (world 0)."""
    bl = blocks(model)
    issues = model.issues
    fig = _figure(height=4.0)
    axes = fig.subplots(1, len(bl), sharey=True, squeeze=False)[0]
    d_us, d_mx = model.us.disagreement, model.mx.disagreement
    y = np.arange(len(issues))[::-1]
    for ax, (title, _, dances) in zip(axes, bl, strict=True):
        latest = latest_agreements(dances, issues)
        for i, issue in enumerate(issues):
            lo, hi = d_us[i], 1.0 - d_mx[i]
            ax.plot([0, 1], [y[i], y[i]], color="#DDDDDD", lw=6, solid_capstyle="butt", zorder=0)
            if lo < hi:
                ax.plot([lo, hi], [y[i], y[i]], color=AGREE_COLOUR, alpha=0.35, lw=6,
                        solid_capstyle="butt", zorder=1,
                        label="both gain over no deal" if i == 0 else None)
            ax.plot(lo, y[i], marker="|", ms=16, mew=2.5, color=US_COLOUR, zorder=2,
                    label="US no-deal value" if i == 0 else None)
            ax.plot(hi, y[i], marker="|", ms=16, mew=2.5, color=MX_COLOUR, zorder=2,
                    label="Mexican no-deal value" if i == 0 else None)
            if issue in latest:
                e, xv = latest[issue]
                ax.plot(xv, y[i], "D", color="black", ms=8, zorder=3,
                        label="latest agreement" if i == 0 else None)
                ax.annotate(f"ep. {e}", (xv, y[i]), xytext=(0, 9), textcoords="offset points",
                            ha="center", fontsize=7)
            else:
                ax.text(0.5, y[i] + 0.3, "no agreement yet", ha="center", fontsize=7, color=GREY)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.8, len(issues) - 0.3)
        ax.set_title(f"{title}, world 0", fontsize=10)
    axes[0].set_yticks(y, issues)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=7)
    fig.supxlabel("position (0 = Mexico's ideal, 1 = US ideal)", fontsize=9)
    fig.suptitle("Issue positions of the latest agreement", fontsize=11, fontweight="bold")
    return fig


def draw_dance(ax, table: dict, first_mover: str = "US") -> None:
    """One table's negotiation in the utility plane: the offers of both sides round by
    round, the Pareto frontier, the no-deal point (with and without threat), the Nash point
    and the agreement. Values are normalised on the table (1 = everything one wants)."""
    w_us, w_mx = np.asarray(table["w_us"]), np.asarray(table["w_mx"])
    f_us, f_mx, _ = pareto_frontier(w_us, w_mx)
    ax.plot(f_us, f_mx, color=GREY, lw=1.5, label="Pareto frontier", zorder=1)
    D_us = float(w_us @ np.asarray(table["d_us"]))
    D_mx = float(w_mx @ np.asarray(table["d_mx"]))
    r_us, r_mx = table["reservation"]
    ax.plot(D_us, D_mx, "X", color="black", ms=8, label="no-deal point", zorder=4)
    if abs(r_us - D_us) + abs(r_mx - D_mx) > 1e-6:
        ax.plot(r_us, r_mx, "X", mfc="white", mec="black", ms=8,
                label="no-deal point under threat", zorder=4)
    nash = nash_point(w_us, w_mx, D_us, D_mx)
    if nash is not None:
        ax.plot(*nash, "D", color=NASH_COLOUR, ms=7, label="Nash point", zorder=4)
    offers = np.asarray(table["offers"])
    n = min(int(table["round"]) + 1, len(offers))
    rounds = np.arange(n)
    by_us = (rounds % 2 == 0) == (first_mover == "US")
    ax.plot(offers[:n, 0], offers[:n, 1], color="#BBBBBB", lw=0.7, zorder=2)
    ax.scatter(offers[:n][by_us, 0], offers[:n][by_us, 1], s=12, color=US_COLOUR,
               label="US offers", zorder=3)
    ax.scatter(offers[:n][~by_us, 0], offers[:n][~by_us, 1], s=12, marker="s",
               color=MX_COLOUR, label="Mexican offers", zorder=3)
    if table["agreed"]:
        ax.plot(*offers[n - 1], "*", color="#F0E442", mec="black", ms=14,
                label="agreement", zorder=5)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_aspect("equal")
    name = ", ".join(table["issues"]) if len(table["issues"]) < 3 else "all issues"
    outcome = f"agreed, round {int(table['round']) + 1}" if table["agreed"] else "no agreement"
    ax.set_title(f"{name}\n{outcome}", fontsize=7 if len(table["issues"]) < 3 else 8)
    ax.tick_params(labelsize=7)


def dance_figure(model: SeminarModel) -> Figure:
    """The negotiation dance of the latest episode, world 0 (and the first delinked world)."""
    bl = blocks(model)
    fig = _figure(width=6.0, height=4.6)
    fm = model.cfg.first_mover.value
    subfigs = np.atleast_1d(fig.subfigures(1, len(bl), wspace=0.02))
    handles: dict = {}
    for sub, (title, _, dances) in zip(subfigs, bl, strict=True):
        if not dances:
            ax = sub.subplots()
            ax.text(0.5, 0.5, "press Step", ha="center", va="center", fontsize=11, color=GREY)
            ax.set_axis_off()
            sub.suptitle(title, fontsize=10)
            continue
        latest = dances[-1]
        tables = latest["tables"]
        cols = 1 if len(tables) == 1 else 2
        rows = math.ceil(len(tables) / cols)
        axes = np.atleast_1d(sub.subplots(rows, cols, squeeze=False)).ravel()
        for ax, table in zip(axes, tables, strict=False):
            draw_dance(ax, table, fm)
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(lab, h)
        for ax in axes[len(tables) :]:
            ax.set_axis_off()
        for i, ax in enumerate(axes[: len(tables)]):
            if i % cols == 0:
                ax.set_ylabel("Mexican value", fontsize=8)
            if i >= len(tables) - cols:
                ax.set_xlabel("US value", fontsize=8)
        sub.suptitle(f"{title}: episode {latest['episode']}, world 0", fontsize=10)
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncols=4,
                   fontsize=7)
    fig.suptitle("The negotiation dance (values as shares of each table's stakes)",
                 fontsize=11, fontweight="bold")
    return fig


def compute_map(p: Params, side: int = MAP_SIDE, worlds: int = MAP_WORLDS) -> dict:
    """Linked minus delinked Mexican utility over a side x side trust x pressure grid, in
    this process (the server's threads must not fork)."""
    start = time.perf_counter()
    cfg = config_for(dataclasses.replace(p, framework="linked", worlds=worlds))
    cfg.jobs = 1
    grid = [round(i / (side - 1), 6) for i in range(side)]
    name = cfg.scenario.name
    cells = [Cell(name, fw, t, q) for fw in ("linked", "delinked") for t in grid for q in grid]
    out = run_cells(cfg, cells)
    rows = out["cells"] if isinstance(out, dict) else out[0]
    mx = np.array([r["mx_utility"] for r in rows]).reshape(2, side, side)  # (fw, trust, pressure)
    return {
        "trust": np.array(grid),
        "pressure": np.array(grid),
        "delta": mx[0] - mx[1],
        "params": p,
        "worlds": worlds,
        "seconds": time.perf_counter() - start,
    }


def map_figure(result: dict, trust: float | None = None, pressure: float | None = None) -> Figure:
    """The map: where linking pays Mexico (blue) and where it costs it (red)."""
    fig = _figure(height=4.2)
    ax = fig.subplots()
    t, q, delta = result["trust"], result["pressure"], result["delta"]
    a = float(np.nanmax(np.abs(delta))) or 1e-9
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-a, vmax=a)
    mesh = ax.pcolormesh(q, t, delta, cmap="RdBu", norm=norm, shading="nearest")
    if np.nanmin(delta) < 0 < np.nanmax(delta):
        ax.contour(q, t, delta, levels=[0.0], colors="black", linewidths=1.2)
    if trust is not None and pressure is not None:
        ax.plot(pressure, trust, "o", mfc="none", mec="black", mew=2, ms=12,
                label="current trust and pressure")
        fig.legend(loc="outside lower center", fontsize=7)
    cb = fig.colorbar(mesh, ax=ax)
    cb.set_label("Mexican utility, linked minus delinked", fontsize=8)
    ax.set_xlabel("US pressure (0-1)")
    ax.set_ylabel("initial trust (0-1)")
    ax.set_aspect("equal")
    p = result["params"]
    side = len(t)
    ax.set_title(f"Does linking pay Mexico? {p.scenario_name}, {side}x{side}, "
                 f"{result['worlds']} worlds, {p.episodes} episodes", fontsize=9)
    return fig


# --- components ------------------------------------------------------------------------
def _key(model: SeminarModel) -> tuple:
    return (id(model), model.params, model.episode)


@solara.component
def FigureView(make, model: SeminarModel, episode: int, name: str):
    """A figure of the model at ``episode``, drawn once per model and episode."""
    image = solara.use_memo(lambda: png(make(model)), [model, episode])
    with solara.Column(classes=[f"linkage-{name}"], style={"width": "100%"}):
        solara.Image(image, width="100%")


@solara.component
def TeachingView(model: SeminarModel, episode: int):
    cfg = model.cfg
    teaching = cfg.scenario.teaching.strip() or "(this scenario has no teaching notes)"
    p = model.params
    with solara.Column(classes=["linkage-teaching"], style={"padding": "4px 12px"}):
        solara.Markdown(
            f"### Scenario: {cfg.scenario.name}\n\n{teaching}\n\n"
            f"**Now:** episode {episode} of {cfg.episodes}, {p.framework}, "
            f"trust {p.trust:.2f}, pressure {p.pressure:.2f}, "
            f"{cfg.replications} world{'s' if cfg.replications > 1 else ''}"
            f"{' per framework' if p.compare else ''}, seed {cfg.seed}.\n\n"
            "**Reading the dance.** Each dot is an offer: blue the US's, orange Mexico's, "
            "alternating round by round until one side accepts (the star). The grey line is "
            "the Pareto frontier; X is the no-deal point (hollow: under a US threat); the pink "
            "diamond is the Nash bargaining solution. Offers sit inside the frontier where "
            "a side discounts promises it does not trust. A linked table can reach the "
            "frontier by trading issues; separate tables cannot.",
        )


@solara.lab.task
def map_task(p: Params) -> dict:
    return compute_map(p)


@solara.component
def MapView(model: SeminarModel):
    p = model.params
    with solara.Column(classes=["linkage-map"], style={"width": "100%"}):
        with solara.Row(style={"align-items": "center"}):
            solara.Button(
                f"Compute map ({MAP_SIDE}x{MAP_SIDE}x2 cells, {MAP_WORLDS} worlds)",
                color="primary",
                on_click=lambda: map_task(p),
                disabled=map_task.pending,
                classes=["linkage-map-button"],
            )
        if map_task.pending:
            solara.ProgressLinear(True)
            solara.Text("computing ...")
        if map_task.error:
            solara.Error(f"map failed: {map_task.exception}")
        result = map_task.value if map_task.finished else None
        image = solara.use_memo(
            lambda: None if result is None else png(map_figure(result, p.trust, p.pressure)),
            [id(result), p.trust, p.pressure],
        )
        if image is None:
            solara.Markdown(
                "Linked minus delinked Mexican utility over initial trust x US pressure for "
                "the current scenario, episodes and seed. Press the button to compute it."
            )
        else:
            solara.Text(f"computed in {result['seconds']:.1f} s", classes=["linkage-map-time"])
            solara.Image(image, width="100%")


def model_params(values: dict[str, solara.Reactive]) -> dict:
    """Mesa's parameter controls, bound to this visitor's reactive variables."""
    return {
        "scenario_name": {"type": "Select", "value": values["scenario_name"],
                          "values": scenarios(), "label": "Scenario"},
        "framework": {"type": "Select", "value": values["framework"], "values": FRAMEWORKS,
                      "label": "Framework"},
        "trust": {"type": "SliderFloat", "value": values["trust"], "min": 0.0, "max": 1.0,
                  "step": 0.05, "label": "Initial trust"},
        "pressure": {"type": "SliderFloat", "value": values["pressure"], "min": 0.0,
                     "max": 1.0, "step": 0.05, "label": "US pressure"},
        "episodes": {"type": "SliderInt", "value": values["episodes"], "min": 1, "max": 60,
                     "step": 1, "label": "Episodes"},
        "seed": {"type": "SliderInt", "value": values["seed"], "min": 0, "max": 99,
                 "step": 1, "label": "Seed"},
        "worlds": {"type": "SliderInt", "value": values["worlds"], "min": 1,
                   "max": MAX_WORLDS, "step": 1, "label": "Worlds (1: one story; more: bands)"},
    }


def components() -> list:
    """The views, in Mesa's plot grid (two per row)."""

    def view(make, name):
        return lambda model: FigureView(make, model, model.episode, name)

    return [
        (view(trust_figure, "trust"), 0),
        (view(utility_figure, "utility"), 0),
        (view(dance_figure, "dance"), 0),
        (lambda model: TeachingView(model, model.episode), 0),
        (view(positions_figure, "positions"), 0),
        (MapView, 0),
    ]


@solara.component
def Page():
    """The app: one model per visitor, rebuilt when a control moves."""
    values = solara.use_memo(lambda: {k: solara.reactive(v) for k, v in DEFAULTS.items()}, [])
    model = solara.use_memo(lambda: solara.reactive(SeminarModel(**DEFAULTS)), [])
    error = solara.use_reactive(None)
    current = Params(**{k: r.value for k, r in values.items()})

    def rebuild():
        old = model.value
        if old.params == current:
            return
        try:
            new = SeminarModel(**dataclasses.asdict(current))
        except Exception as ex:  # a scenario that does not compose; keep the old model
            error.value = f"{type(ex).__name__}: {ex}"
            return
        error.value = None
        model.value = new.advance(old.episode)

    solara.use_effect(rebuild, [current])
    params = solara.use_memo(lambda: model_params(values), [])
    views = solara.use_memo(components, [])
    if error.value:
        with solara.Sidebar():
            solara.Error(error.value)
    SolaraViz(model, components=views, model_params=params, name="linkage: US-Mexico issue linkage",
              play_interval=400)


# --- the command -----------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    """``linkage-app``: serve the page with solara's server, offline."""
    ap = argparse.ArgumentParser(prog="linkage-app", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    args = ap.parse_args(argv)
    os.environ["SOLARA_APP"] = "sim.app:Page"
    logging.getLogger("MESA").setLevel(logging.WARNING)
    import uvicorn
    from solara.server import settings

    settings.main.mode = "production"
    host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    print(f"linkage-app: open http://{host}:{args.port}/ in a browser (Ctrl+C stops)",
          flush=True)
    try:
        uvicorn.run("solara.server.starlette:app", host=args.host, port=args.port,
                    log_level="warning")
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
