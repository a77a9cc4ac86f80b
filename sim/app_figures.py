"""The seminar app's figures: matplotlib pictures of a :class:`~sim.seminar.SeminarModel`.

Fixed layouts, and PNGs cached on (view, parameters, episode): a model is a function of its
parameters and episode (every cell has its own seeded stream), so a picture is never drawn
twice and visitors share them.
"""

from __future__ import annotations

import dataclasses
import io
import math
import threading
import time
import uuid

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator

from sim import plot
from sim.cells import Cell
from sim.moments import ci95
from sim.plot import AGREE, GREY, MX, TRACK, US
from sim.record import TableRecord
from sim.runner import run_cells
from sim.seminar import MAP_SIDE, MAP_WORLDS, Params, SeminarModel, blocks, config_for, series

DPI = 100

# Fixed layouts (no constrained layout): a figure must draw in well under a second.
WIDTH, HEIGHT = 5.0, 3.8  # inches, at DPI: about a cell of Mesa's plot grid
PAD_PT = 8.0  # clear space between the figure's edge and its outermost text, in points
_TEXT = TextToPath()


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches=None)  # a fixed size for the grid
    return buf.getvalue()


def _figure(title: str, height: float = HEIGHT) -> Figure:
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    fig.suptitle(title, fontsize=11, fontweight="bold", y=0.985)
    return fig


def _lines(ax, x, model: SeminarModel, names, worlds: slice):
    """``sim.plot``'s lines of metrics ``names`` over episodes ``x``: the mean over the
    block's ``worlds`` with its 95% interval of the mean (none for one world)."""
    if len(x) == 0:
        return
    values = {m: series(model, m)[:, worlds] for m in names}
    mean = {m: v.mean(axis=1) for m, v in values.items()}
    ci = {m: ci95(v) for m, v in values.items()}
    plot.episode_lines(ax, x, mean, ci, names, "o-" if len(x) < 3 else "-")


def _text_width(texts, size: float) -> float:
    """Width in points of the widest line of ``texts`` at ``size`` points (measured from
    the font, without drawing)."""
    prop = FontProperties(size=size)
    lines = [line for t in texts for line in str(t).splitlines()] or [""]
    return max(_TEXT.get_text_width_height_descent(s, prop, ismath=False)[0] for s in lines)


def _left(ticks, label_lines: int = 0, size: float = 10.0) -> float:
    """The left margin, as a share of the width, that fits y tick labels ``ticks`` and a y
    label of ``label_lines`` lines at ``size`` points, with a pad: measured, so that a
    scenario's long issue names are never cut."""
    ticks_pt = 3.5 + 3.5 + _text_width(ticks, size)  # tick, pad, labels
    label_pt = label_lines * size * 1.2 + 4.0 if label_lines else 0.0
    return (ticks_pt + label_pt + PAD_PT) / 72 / WIDTH


def _episode_ticks(episodes: int) -> list[int]:
    """A few whole episodes from 0 to the last (fixed ticks draw faster than located ones)."""
    return sorted({round(episodes * k / 4) for k in range(5)})


def _worlds_note(model) -> str:
    reps = model.cfg.replications
    if reps == 1:
        return "one world"
    return f"lines: mean of {reps} worlds; bands: 95% interval of the mean"


def _legend_below(fig: Figure, ax, model: SeminarModel) -> Figure:
    """One legend for the figure, below its panels, titled with what the lines and bands are."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncols=2, fontsize=8, frameon=False,
        title=_worlds_note(model), title_fontsize=8,
    )  # fmt: skip
    return fig


def trust_figure(model: SeminarModel) -> Figure:
    """Trust of each side over episodes, one panel per framework shown."""
    bl = blocks(model)
    fig = _figure("Trust")
    axes = fig.subplots(1, len(bl), sharey=True, squeeze=False)[0]
    ylabel = "trust (expected share of\ncostly promises kept)"
    left = _left(["0.5"], label_lines=2)
    fig.subplots_adjust(left=left, right=0.96, bottom=0.26, top=0.86, wspace=0.14)
    x = np.arange(series(model, "trust_us").shape[0])
    for ax, (title, w, _) in zip(axes, bl, strict=True):
        _lines(ax, x, model, ["trust_us", "trust_mx"], w)
        ax.set_xlim(0, model.cfg.episodes)
        ax.set_ylim(0, 1)
        ax.set_xticks(_episode_ticks(model.cfg.episodes))
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1], ["0", "", "0.5", "", "1"])
        ax.set_xlabel("episode")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    return _legend_below(fig, axes[0], model)


def utility_figure(model: SeminarModel) -> Figure:
    """Utilities (with the no-deal utilities) and the share of issues agreed, over episodes."""
    bl = blocks(model)
    fig = _figure("Utilities and agreement")
    axes = fig.subplots(
        2, len(bl), sharex=True, sharey="row", squeeze=False, gridspec_kw={"height_ratios": [3, 2]}
    )
    left = _left(["0.00"], label_lines=2)
    fig.subplots_adjust(left=left, right=0.96, bottom=0.3, top=0.88, wspace=0.14, hspace=0.12)
    x = np.arange(1, series(model, "us_utility").shape[0] + 1)
    us, mx = model.us, model.mx
    d_us = float(us.base_salience[0] @ us.disagreement[0])  # every world's: one point
    d_mx = float(mx.base_salience[0] @ mx.disagreement[0])
    for j, (title, w, _) in enumerate(bl):
        top, bottom = axes[0, j], axes[1, j]
        _lines(top, x, model, ["us_utility", "mx_utility"], w)
        top.axhline(d_us, color=US, ls=":", lw=1.5, label="US no-deal utility")
        top.axhline(d_mx, color=MX, ls=":", lw=1.5, label="Mexican no-deal utility")
        top.set_title(title, fontsize=10)
        _lines(bottom, x, model, ["agreement_rate"], w)
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
    fig.align_ylabels(axes[:, 0])
    return _legend_below(fig, axes[0, 0], model)


def latest_agreements(tables: list[TableRecord]) -> dict[str, tuple[int, float]]:
    """Issue -> (episode, position) of the latest agreement on it in one world's record."""
    out: dict[str, tuple[int, float]] = {}
    for t in reversed(tables):
        if t.agreed:
            for issue, x in zip(t.issues, t.x, strict=True):
                out.setdefault(issue, (t.episode, float(x)))
    return out


def positions_figure(model: SeminarModel) -> Figure:
    """Where the latest agreement on each issue sits between the two ideals (world 0)."""
    bl = blocks(model)
    issues = model.issues
    fig = _figure("Issue positions of the latest agreement")
    axes = fig.subplots(1, len(bl), sharey=True, squeeze=False)[0]
    left, right = _left(issues), 0.96
    fig.subplots_adjust(left=left, right=right, bottom=0.3, top=0.86, wspace=0.08)
    d_us, d_mx = model.us.disagreement[0], model.mx.disagreement[0]
    y = np.arange(len(issues))[::-1]
    for ax, (title, _, tables) in zip(axes, bl, strict=True):
        latest = latest_agreements(tables)
        for i, issue in enumerate(issues):
            lo, hi = d_us[i], 1.0 - d_mx[i]
            ax.plot([0, 1], [y[i], y[i]], color=TRACK, lw=7, solid_capstyle="butt", zorder=0)
            if lo < hi:
                ax.plot(
                    [lo, hi],
                    [y[i], y[i]],
                    color=AGREE,
                    alpha=0.4,
                    lw=7,
                    solid_capstyle="butt",
                    zorder=1,
                    label="both better off than with no deal" if i == 0 else None,
                )
            for point, colour, side in ((lo, US, "US"), (hi, MX, "Mexican")):
                ax.plot(
                    point, y[i], marker="|", ls="none", ms=16, mew=2.5, color=colour, zorder=2,
                    label=f"{side} no-deal point" if i == 0 else None,
                )  # fmt: skip
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
    label = "position (0 = Mexico's ideal, 1 = the US ideal)"
    fig.text((left + right) / 2, 0.2, label, ha="center", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def draw_dance(ax, table: TableRecord, panels: int = 1) -> None:
    """One table's negotiation (``sim.plot.dance``), made compact for one of ``panels``
    panels: the legend moves to the figure, the labels shrink."""
    plot.dance(ax, table)
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    name = ", ".join(table.issues) if len(table.issues) < 3 else "all issues"
    if panels == 1:
        outcome = f"agreed in round {table.round + 1}" if table.agreed else "no deal"
        ax.set_title(f"{name}: {outcome}", fontsize=8)
    elif panels <= 4:
        outcome = f"round {table.round + 1}" if table.agreed else "no deal"
        ax.set_title(f"{name}, {outcome}", fontsize=6.5, pad=2)
    else:
        ax.set_title(name if table.agreed else f"{name}:\nno deal", fontsize=6.5, pad=2)
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


def _latest_episode(tables: list[TableRecord]) -> list[TableRecord]:
    """The tables of the latest episode in one world's record."""
    return [t for t in tables if t.episode == tables[-1].episode] if tables else []


def dance_figure(model: SeminarModel) -> Figure:
    """The negotiation dance of the latest episode, world 0 (and the first delinked world)."""
    bl = blocks(model)
    fig = _figure("The negotiation dance (utility on each table, 0-1)")
    left, width = 0.1, 0.87 / len(bl)
    handles: dict = {}
    for b, (title, _, record) in enumerate(bl):
        x0 = left + b * width
        tables = _latest_episode(record)
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
        head = f"{title}: episode {tables[0].episode}, world 0" if tables else title
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
    return {
        "cells": pd.DataFrame(run_cells(cfg, cells)["cells"]),
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
        key = (name, model.settings, model.episode)
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
