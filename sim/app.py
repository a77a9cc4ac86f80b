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
import html
import io
import logging
import math
import os
import sys
import threading
import time
import uuid
import warnings
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim import plot
from sim.cells import Cell
from sim.config import load, validate
from sim.model import LinkageModel
from sim.runner import run_cells

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no calls home

import solara  # noqa: E402  (after the telemetry switch)
import solara.lab  # noqa: E402
from mesa.visualization import SolaraViz  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

# Okabe-Ito, safe for the common colour-vision deficiencies
US_COLOUR = "#0072B2"
MX_COLOUR = "#D55E00"
AGREE_COLOUR = "#009E73"
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
            cells = [
                Cell(cfg.scenario.name, fw, cfg.trust, cfg.pressure)
                for fw in ("linked", "delinked")
            ]
        super().__init__(cfg, cells, record=True)
        self.lock = threading.RLock()
        self.params = p
        self.delinked_dances: list | None = [] if p.compare else None
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
# Fixed layouts (no constrained layout): a figure must draw in well under a second.
WIDTH, HEIGHT = 5.0, 3.8  # inches, at DPI: about a cell of Mesa's plot grid


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches=None)  # a fixed size for the grid
    return buf.getvalue()


def _figure(title: str, height: float = HEIGHT) -> Figure:
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    fig.suptitle(title, fontsize=11, fontweight="bold", y=0.985)
    return fig


def _band(ax, x, values, colour, label):
    """Mean line, and the 10-90% band over worlds when there is more than one world."""
    if values.shape[0] == 0:
        return
    mean = np.nanmean(values, axis=1) if values.shape[1] > 1 else values[:, 0]
    if values.shape[1] > 1:
        lo, hi = np.nanpercentile(values, [10, 90], axis=1)
        ax.fill_between(x, lo, hi, color=colour, alpha=0.2, lw=0)
    ax.plot(x, mean, color=colour, lw=2, label=label, marker="o" if len(x) < 3 else None, ms=4)


def _episode_ticks(episodes: int) -> list[int]:
    """A few whole episodes from 0 to the last (fixed ticks draw faster than located ones)."""
    return sorted({round(episodes * k / 4) for k in range(5)})


def _worlds_note(model) -> str:
    reps = model.cfg.replications
    return "one world" if reps == 1 else f"lines: mean of {reps} worlds; bands: 10-90%"


def trust_figure(model: SeminarModel) -> Figure:
    """Trust of each side over episodes, one panel per framework shown."""
    bl = blocks(model)
    fig = _figure("Trust")
    axes = fig.subplots(1, len(bl), sharey=True, squeeze=False)[0]
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.26, top=0.86, wspace=0.14)
    us, mx = series(model, "trust_us"), series(model, "trust_mx")
    x = np.arange(us.shape[0])
    for ax, (title, w, _) in zip(axes, bl, strict=True):
        _band(ax, x, us[:, w], US_COLOUR, "US trust in Mexico")
        _band(ax, x, mx[:, w], MX_COLOUR, "Mexican trust in the US")
        ax.set_xlim(0, model.cfg.episodes)
        ax.set_ylim(0, 1)
        ax.set_xticks(_episode_ticks(model.cfg.episodes))
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1], ["0", "", "0.5", "", "1"])
        ax.set_xlabel("episode")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("trust (expected share of\ncostly promises kept)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncols=2,
        fontsize=8,
        frameon=False,
        title=_worlds_note(model),
        title_fontsize=8,
    )
    return fig


def utility_figure(model: SeminarModel) -> Figure:
    """Utilities (with the no-deal utilities) and the share of issues agreed, over episodes."""
    bl = blocks(model)
    fig = _figure("Utilities and agreement")
    axes = fig.subplots(
        2, len(bl), sharex=True, sharey="row", squeeze=False, gridspec_kw={"height_ratios": [3, 2]}
    )
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.3, top=0.88, wspace=0.14, hspace=0.12)
    u_us, u_mx = series(model, "us_utility"), series(model, "mx_utility")
    agree = series(model, "agreement_rate")
    x = np.arange(1, u_us.shape[0] + 1)
    us, mx = model.us, model.mx
    d_us = float(us.base_salience @ us.disagreement)
    d_mx = float(mx.base_salience @ mx.disagreement)
    for j, (title, w, _) in enumerate(bl):
        top, bottom = axes[0, j], axes[1, j]
        _band(top, x, u_us[:, w], US_COLOUR, "US utility")
        _band(top, x, u_mx[:, w], MX_COLOUR, "Mexican utility")
        top.axhline(d_us, color=US_COLOUR, ls=":", lw=1.5, label="US no-deal utility")
        top.axhline(d_mx, color=MX_COLOUR, ls=":", lw=1.5, label="Mexican no-deal utility")
        top.set_title(title, fontsize=10)
        _band(bottom, x, agree[:, w], AGREE_COLOUR, "issues agreed and kept")
        bottom.set_ylim(-0.05, 1.05)
        bottom.set_yticks([0, 0.5, 1], ["0", "0.5", "1"])
        bottom.set_xlim(0, model.cfg.episodes)
        bottom.set_xticks(_episode_ticks(model.cfg.episodes))
        top.yaxis.set_major_locator(MaxNLocator(4))
        bottom.set_xlabel("episode")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("utility (0-1)")
    axes[1, 0].set_ylabel("share of issues\nagreed and kept")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncols=2,
        fontsize=8,
        frameon=False,
        title=_worlds_note(model),
        title_fontsize=8,
    )
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
    fig = _figure("Issue positions of the latest agreement")
    axes = fig.subplots(1, len(bl), sharey=True, squeeze=False)[0]
    fig.subplots_adjust(left=0.17, right=0.97, bottom=0.3, top=0.86, wspace=0.08)
    d_us, d_mx = model.us.disagreement, model.mx.disagreement
    y = np.arange(len(issues))[::-1]
    for ax, (title, _, dances) in zip(axes, bl, strict=True):
        latest = latest_agreements(dances, issues)
        for i, issue in enumerate(issues):
            lo, hi = d_us[i], 1.0 - d_mx[i]
            ax.plot([0, 1], [y[i], y[i]], color="#DDDDDD", lw=7, solid_capstyle="butt", zorder=0)
            if lo < hi:
                ax.plot(
                    [lo, hi],
                    [y[i], y[i]],
                    color=AGREE_COLOUR,
                    alpha=0.4,
                    lw=7,
                    solid_capstyle="butt",
                    zorder=1,
                    label="both better off than with no deal" if i == 0 else None,
                )
            ax.plot(
                lo,
                y[i],
                marker="|",
                ls="none",
                ms=16,
                mew=2.5,
                color=US_COLOUR,
                zorder=2,
                label="US no-deal point" if i == 0 else None,
            )
            ax.plot(
                hi,
                y[i],
                marker="|",
                ls="none",
                ms=16,
                mew=2.5,
                color=MX_COLOUR,
                zorder=2,
                label="Mexican no-deal point" if i == 0 else None,
            )
            if issue in latest:
                e, xv = latest[issue]
                ax.plot(
                    xv,
                    y[i],
                    "D",
                    color="black",
                    ms=8,
                    zorder=3,
                    label="latest agreement" if i == 0 else None,
                )
                ax.annotate(
                    f"ep. {e}",
                    (xv, y[i]),
                    xytext=(0, 9),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                )
            else:
                ax.text(0.5, y[i] + 0.3, "no agreement yet", ha="center", fontsize=7, color=GREY)
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.7, len(issues) - 0.3)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0", "", "0.5", "", "1"])
        ax.set_title(f"{title}, world 0", fontsize=10)
    axes[0].set_yticks(y, issues)
    fig.text(0.57, 0.2, "position (0 = Mexico's ideal, 1 = the US ideal)", ha="center", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def draw_dance(ax, table: dict, panels: int = 1) -> None:
    """One table's negotiation (``sim.plot.dance``), made compact for one of ``panels``
    panels: the legend moves to the figure, the labels shrink."""
    plot.dance(ax, table)
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    name = ", ".join(table["issues"]) if len(table["issues"]) < 3 else "all issues"
    if panels == 1:
        outcome = f"agreed in round {int(table['round']) + 1}" if table["agreed"] else "no deal"
        ax.set_title(f"{name}: {outcome}", fontsize=8)
    elif panels <= 4:
        outcome = f"round {int(table['round']) + 1}" if table["agreed"] else "no deal"
        ax.set_title(f"{name}, {outcome}", fontsize=6.5, pad=2)
    else:
        ax.set_title(name if table["agreed"] else f"{name}: no deal", fontsize=6.5, pad=2)
    if panels > 1:
        ax.set_xticks([0, 1], ["0", "1"])
        ax.set_yticks([0, 1], ["0", "1"])
        ax.grid(False)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7, pad=1)


def _legend_label(label: str) -> str:
    """One legend entry per kind of mark, whatever table it came from."""
    if label.startswith("agreement"):
        return "agreement"
    if label.startswith("frontier at trust"):
        return "frontier discounted by trust"
    return label


def dance_figure(model: SeminarModel) -> Figure:
    """The negotiation dance of the latest episode, world 0 (and the first delinked world)."""
    bl = blocks(model)
    fig = _figure("The negotiation dance (utility on each table, 0-1)")
    left, width = 0.1, 0.87 / len(bl)
    handles: dict = {}
    for b, (title, _, dances) in enumerate(bl):
        x0 = left + b * width
        tables = dances[-1]["tables"] if dances else []
        n = len(tables)
        cols = 1 if n <= 1 else 2 if n <= 4 else 3
        rows = max(1, math.ceil(n / cols))
        gs = fig.add_gridspec(
            rows,
            cols,
            left=x0 + 0.02 * b,
            right=x0 + width - 0.01,
            bottom=0.27,
            top=0.82,
            wspace=0.25,
            hspace=0.45 if rows < 3 else 0.55,
        )
        head = f"{title}: episode {dances[-1]['episode']}, world 0" if dances else title
        fig.text(x0 + width / 2, 0.9, head, ha="center", fontsize=10)
        if not tables:
            ax = fig.add_subplot(gs[0, 0])
            ax.text(0.5, 0.5, "press Step", ha="center", va="center", fontsize=11, color=GREY)
            ax.set_axis_off()
            continue
        for i, table in enumerate(tables):
            ax = fig.add_subplot(gs[i // cols, i % cols])
            draw_dance(ax, table, n)
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(_legend_label(lab), h)
            if i % cols == 0 and b == 0:
                ax.set_ylabel("Mexican utility", fontsize=8 if n == 1 else 7, labelpad=1)
            if i >= n - cols:
                ax.set_xlabel("US utility", fontsize=8 if n == 1 else 7, labelpad=1)
    if handles:
        fig.legend(
            handles.values(),
            handles.keys(),
            loc="lower center",
            ncols=3,
            fontsize=7,
            frameon=False,
            columnspacing=1.0,
            handlelength=1.6,
        )
    return fig


def compute_map(p: Params, side: int = MAP_SIDE, worlds: int = MAP_WORLDS) -> dict:
    """Linked and delinked cells over a side x side trust x pressure grid, run in this
    process (a server's threads must not fork). ``cells`` holds the runner's cell rows."""
    start = time.perf_counter()
    cfg = config_for(dataclasses.replace(p, framework="linked", worlds=worlds))
    cfg.jobs = 1
    grid = [round(i / (side - 1), 6) for i in range(side)]
    name = cfg.scenario.name
    cells = [Cell(name, fw, t, q) for fw in ("linked", "delinked") for t in grid for q in grid]
    out = run_cells(cfg, cells)
    rows = out["cells"] if isinstance(out, dict) else out[0]
    return {
        "cells": pd.DataFrame(rows),
        "side": side,
        "params": p,
        "worlds": worlds,
        "seconds": time.perf_counter() - start,
        "id": uuid.uuid4().hex,
    }


def map_figure(result: dict, trust: float | None = None, pressure: float | None = None) -> Figure:
    """The map of ``sim.plot`` (linked minus delinked Mexican utility, centred on zero, zero
    contour in black) with the current trust and pressure marked."""
    fig = _figure("Does linking pay Mexico?")
    ax = fig.subplots()
    fig.subplots_adjust(left=0.12, right=0.92, bottom=0.2, top=0.86)
    plot.difference_map(ax, result["cells"], "mx_utility", short=True)
    if trust is not None and pressure is not None:
        ax.plot(
            trust,
            pressure,
            "o",
            mfc="none",
            mec="black",
            mew=2,
            ms=12,
            label="current trust and pressure",
        )
        fig.legend(loc="lower center", fontsize=8, frameon=False)
    ax.set_aspect("equal")
    p, side = result["params"], result["side"]
    ax.set_title(
        f"Mexican utility, linked − delinked ({p.scenario_name}: {side}x{side} cells, "
        f"{result['worlds']} worlds, {p.episodes} episodes)",
        fontsize=8,
    )
    return fig


# --- components ------------------------------------------------------------------------
FIGURES = {
    "trust": trust_figure,
    "utility": utility_figure,
    "dance": dance_figure,
    "positions": positions_figure,
}


_png_cache: dict[tuple, bytes] = {}
_png_lock = threading.Lock()
PNG_CACHE_SIZE = 256


def _remember(key: tuple, data: bytes) -> bytes:
    with _png_lock:
        _png_cache[key] = data
        while len(_png_cache) > PNG_CACHE_SIZE:
            _png_cache.pop(next(iter(_png_cache)))
    return data


def figure_png(name: str, model: SeminarModel) -> bytes:
    """The PNG of view ``name`` for ``model`` at its current episode. A model is a function
    of its parameters and episode (every cell has its own seeded stream), so the pictures
    are cached on those: shared between visitors, and never drawn twice. The figure is
    built under the model's lock, so a step in progress never shows half done."""
    with model.lock:
        key = (name, model.params, model.episode)
        hit = _png_cache.get(key)
        if hit is not None:
            return hit
        fig = FIGURES[name](model)
    return _remember(key, png(fig))


def map_png(result: dict, trust: float, pressure: float) -> bytes:
    """The map's PNG, with the current trust and pressure marked."""
    key = ("map", result["id"], trust, pressure)
    hit = _png_cache.get(key)
    if hit is not None:
        return hit
    return _remember(key, png(map_figure(result, trust, pressure)))


def figure_view(name: str):
    """The grid's component for figure ``name``. A component (not a function) so that Mesa's
    grid keeps it from render to render and only its picture changes; it follows Mesa's
    step counter itself."""

    @solara.component
    def View(model: SeminarModel):
        update_counter.get()  # Mesa's signal that the model stepped
        with solara.Column(classes=[f"linkage-{name}"], style={"width": "100%"}):
            solara.Image(figure_png(name, model), width="100%", classes=[f"linkage-{name}-image"])

    View.__name__ = View.__qualname__ = f"{name.capitalize()}View"
    return View


TrustView, UtilityView, DanceView, PositionsView = map(
    figure_view, ["trust", "utility", "dance", "positions"]
)


def _html(text: str) -> str:
    return html.escape(text).replace("\n", " ")


@solara.component
def TeachingView(model: SeminarModel):
    """The scenario's ``teaching:`` text, what is on screen, and how to read the dance."""
    update_counter.get()
    episode = model.episode
    cfg, p = model.cfg, model.params
    teaching = cfg.scenario.teaching.strip() or "(this scenario has no teaching notes)"
    worlds = f"{cfg.replications} world{'s' if cfg.replications > 1 else ''}"
    if p.compare:
        worlds += " per framework"
    solara.HTML(
        tag="div",
        classes=["linkage-teaching"],
        style={
            "padding": "0 12px",
            "font-size": "14px",
            "line-height": "1.4",
            "height": "100%",
            "overflow-y": "auto",
        },
        unsafe_innerHTML=(
            f"<h3>Scenario: {_html(cfg.scenario.name)}</h3>"
            f'<p style="white-space: pre-wrap">{html.escape(teaching)}</p>'
            f"<p><b>On screen:</b> episode {episode} of {cfg.episodes}; {_html(p.framework)}; "
            f"initial trust {p.trust:.2f}; US pressure {p.pressure:.2f}; {worlds}; "
            f"seed {cfg.seed}.</p>"
            "<p><b>Reading the dance.</b> Each dot is an offer, blue the US's and orange "
            "Mexico's, alternating round by round until one side accepts (the star). The "
            "dashed line is the Pareto frontier at face value, the black line the frontier "
            "as each side discounts promises it does not fully trust; X is the no-deal point "
            "(after any US threat), the green diamond the Nash bargaining solution. A linked "
            "table can trade one issue for another; separate tables cannot.</p>"
        ),
    )


@solara.lab.task
def map_task(p: Params) -> dict:
    return compute_map(p)


@solara.component
def MapView(model: SeminarModel):
    """The small trust x pressure map, computed when asked (in a thread, per visitor)."""
    p = model.params
    with solara.Column(classes=["linkage-map"], style={"width": "100%"}):
        solara.Button(
            f"Compute map ({MAP_SIDE}x{MAP_SIDE}x2 cells, {MAP_WORLDS} worlds each)",
            color="primary",
            on_click=lambda: map_task(p),
            disabled=map_task.pending,
            classes=["linkage-map-button"],
        )
        if map_task.pending:
            solara.ProgressLinear(True)
        if map_task.error:
            solara.Error(f"map failed: {map_task.exception}")
        result = map_task.value if map_task.finished else None
        image = None if result is None else map_png(result, p.trust, p.pressure)
        if image is None:
            solara.Text(
                "Linked minus delinked Mexican utility over initial trust x US pressure, for "
                "the scenario, episodes and seed on the left. Press the button to compute it."
            )
        else:
            solara.Text(f"computed in {result['seconds']:.1f} s", classes=["linkage-map-time"])
            solara.Image(image, width="100%", classes=["linkage-map-image"])


def model_params(values: dict[str, solara.Reactive], p: Params) -> dict:
    """Mesa's parameter controls, bound to this visitor's reactive variables (the labels
    carry the values, which Mesa's sliders do not show)."""
    return {
        "scenario_name": {
            "type": "Select",
            "value": values["scenario_name"],
            "values": scenarios(),
            "label": "Scenario",
        },
        "framework": {
            "type": "Select",
            "value": values["framework"],
            "values": FRAMEWORKS,
            "label": "Framework",
        },
        "trust": {
            "type": "SliderFloat",
            "value": values["trust"],
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": f"Initial trust {p.trust:.2f}",
        },
        "pressure": {
            "type": "SliderFloat",
            "value": values["pressure"],
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": f"US pressure {p.pressure:.2f}",
        },
        "episodes": {
            "type": "SliderInt",
            "value": values["episodes"],
            "min": 1,
            "max": 60,
            "step": 1,
            "label": f"Episodes {p.episodes}",
        },
        "seed": {
            "type": "SliderInt",
            "value": values["seed"],
            "min": 0,
            "max": 99,
            "step": 1,
            "label": f"Seed {p.seed}",
        },
        "worlds": {
            "type": "SliderInt",
            "value": values["worlds"],
            "min": 1,
            "max": MAX_WORLDS,
            "step": 1,
            "label": f"Worlds {p.worlds}",
        },
    }


# The views, in Mesa's plot grid (two per row): trust | utilities, dance | teaching text,
# positions | map.
VIEWS = [TrustView, UtilityView, DanceView, TeachingView, PositionsView, MapView]


def rebuild(
    model: solara.Reactive,
    values: dict[str, solara.Reactive],
    error: solara.Reactive,
    syncing: threading.Event | None = None,
):
    """Rebuild the model from the controls and replay it to the episode on screen. Picking
    a scenario moves trust, pressure and episodes to the scenario's own starting point."""
    syncing = syncing or threading.Event()
    if syncing.is_set():
        return
    current = Params(**{k: r.value for k, r in values.items()})
    old = model.value
    if old.params == current:
        return
    if current.scenario_name != old.params.scenario_name:
        current = dataclasses.replace(current, **scenario_start(current.scenario_name))
    try:
        new = SeminarModel(**dataclasses.asdict(current))
    except Exception as ex:  # e.g. a scenario file that does not compose: keep the old model
        error.value = f"{type(ex).__name__}: {ex}"
        return
    error.value = None
    model.value = new.advance(old.episode)
    syncing.set()  # show the values the model runs with, without rebuilding once per slider
    try:
        for k, v in dataclasses.asdict(current).items():
            values[k].value = v
    finally:
        syncing.clear()


@solara.component
def Page():
    """The app: a model per visitor, rebuilt as soon as a control moves."""
    values = solara.use_memo(lambda: {k: solara.reactive(v) for k, v in DEFAULTS.items()}, [])
    model = solara.use_memo(lambda: solara.reactive(SeminarModel(**DEFAULTS)), [])
    error = solara.use_memo(lambda: solara.reactive(None), [])
    syncing = solara.use_memo(threading.Event, [])

    def listen():
        # rebuild in the same event as the control's change: one render, not two
        stops = [
            r.subscribe(lambda _: rebuild(model, values, error, syncing)) for r in values.values()
        ]
        return lambda: [stop() for stop in stops]

    solara.use_effect(listen, [])
    current = Params(**{k: r.value for k, r in values.items()})
    solara.Title("linkage: US-Mexico issue linkage")
    if error.value:
        with solara.Sidebar():
            solara.Error(error.value)
    SolaraViz(
        model,
        components=[(view, 0) for view in VIEWS],
        model_params=model_params(values, current),
        name="linkage: US-Mexico issue linkage",
        play_interval=300,
    )


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
    # plain http on a local address: solara falls back to lax cookies, as it should
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    settings.theme.show_banner = False
    settings.theme.title = "linkage"
    host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    print(f"linkage-app: open http://{host}:{args.port}/ in a browser (Ctrl+C stops)", flush=True)
    try:
        uvicorn.run(
            "solara.server.starlette:app", host=args.host, port=args.port, log_level="warning"
        )
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
