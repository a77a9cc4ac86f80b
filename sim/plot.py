"""Figures: the linked-minus-delinked maps, trajectories with bands, the negotiation dance.

The one plotting layer: the run's figures (``sim.report``) and the seminar app's
(``sim.app_figures``) take their palette, bands, maps, trajectories and dance from here.
Colours are Okabe & Ito's colour-blind-safe palette (US blue, Mexico vermillion); maps of
differences use ColorBrewer's PuOr, centred on zero, with the zero contour drawn; every
band is the 95% interval of the mean over worlds, as in the tables.

A map's axes are the parameters its table varies (:func:`map_axes`): two give difference
maps, one gives lines per framework along it; each is labelled with the parameter's name and
units (:func:`axis_label`). A parameter given as a whole vector (a JSON list in the tables)
is a categorical axis: its values sit at positions 0, 1, ... in the order of the table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from sim.bargaining import Tables, frontier
from sim.config import FiguresConfig
from sim.issues import nash_point, pareto_frontier

if TYPE_CHECKING:
    from sim.record import TableRecord

# The palette: Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies.
US, MX, GREY = "#0072B2", "#D55E00", "#7F7F7F"
AGREE, NASH, AGREEMENT = "#009E73", "#009E73", "#CC79A7"
TRACK = "#DDDDDD"  # the background of a scale (the app's issue positions)
FRAMEWORK_COLOURS = {
    "linked": "#009E73",
    "delinked": "#E69F00",
    "sequenced": "#CC79A7",
    "custom": "#56B4E9",
    "chosen": "#000000",
}
DIVERGING = "PuOr"  # ColorBrewer, for differences; always centred on zero
AXIS_LABELS = {
    "trust": "initial trust (both sides, 0-1)",
    "pressure": "US coercive pressure π (0-1)",
}
# What every other parameter means, with its units (docs/model.md); the label puts the
# parameter's own name, as typed on the command line, above it.
PARAMETERS = {
    "framework.link_at": "sequenced links at trust λ (0-1)",
    "framework.hysteresis": "sequenced delinks below λ − η (trust, 0-1)",
    "framework.margin": "chosen: premium a side needs to want one table μ (utility)",
    "threat.size": "threat penalty σ (× Mexico's value of the lever)",
    "threat.self_cost": "US share of the penalty ς (0-1)",
    "threat.audience_cost": "US audience cost of backing down c (credibility)",
    "backlash.trust": "Mexican distrust per threat (β evidence, × π)",
    "backlash.salience": "Mexican backlash salience per threat (weight, × π)",
    "unilateral.rate": "US unilateral action rate μ (per episode, × π)",
    "unilateral.gain": "US gain per unilateral action (× its issue weight)",
    "unilateral.harm": "Mexican loss per unilateral action (× its weight)",
    "unilateral.trust": "Mexican distrust per unilateral action (β evidence)",
    "unilateral.salience": "Mexican backlash salience per action (weight)",
    "guarantor.vouching": "guarantor's vouching γ (share of distrust removed, 0-1)",
    "guarantor.monitoring": "guarantor's monitoring γ (share of reneging deterred, 0-1)",
    "ratification.visible": "failed ratification read as domestic v (0 reneging, 1 excused)",
    "ratification.noise": "negotiator's error about ratifier thresholds (s.d., utility)",
    "trust_prior": "strength of the trust prior s (observations)",
    "forgetting": "trust evidence kept per episode φ (0-1)",
    "confidence_weight": "trust evidence per kept non-costly commitment ω (0-1)",
    "noise": "chance of failing a non-costly commitment ν (0-1)",
}
# A country's parameters ``countries.<side>.<key>``: {side} the country, {partner} the other.
COUNTRY_PARAMETERS = {
    "concession": "{side} concession exponent (<1 Boulware, 1 linear, >1 conceder)",
    "reliability": "{side} chance of keeping a costly commitment ρ (0-1)",
    "trust": "initial {side} trust in {partner} (0-1)",
    "salience": "{side} salience weights (one per issue, summing to 1)",
    "disagreement": "{side} no-deal values (one per issue, 0-1)",
    "salience.": "{side} weight on {issue} (0-1, the others rescaled)",
    "disagreement.": "{side} no-deal value on {issue} (0-1)",
}
SIDES = {"US": ("US", "Mexico"), "MX": ("Mexican", "the US")}
RATIFIER_PARAMETERS = {
    "threshold": "{whose}: margin θ over no deal it asks (utility)",
    "weight": "{whose}: vote under a majority rule",
    "salience": "{whose}: weight on {issue} (0-1)",
}
# How captions name the default axes; any other parameter by its name
NOUNS = {"trust": "initial trust", "pressure": "US pressure"}
MAP_METRICS = {
    "mx_utility": "Mexican utility",
    "us_utility": "US utility",
    "joint_gain": "joint gain",
    "efficiency": "efficiency (share of max. joint gain)",
    "agreement_rate": "agreement rate (share of issues)",
    "final_trust_mx": "final Mexican trust in the US",
    "final_trust_us": "final US trust in Mexico",
}


def figure(figsize, *grid, margins: Mapping | None = None, **kw) -> tuple[Figure, object]:
    """A figure and its axes, outside pyplot: no global state, any backend (or none).

    ``margins`` (``Figure.subplots_adjust``'s) fix the layout where the text around the
    axes is known in advance: drawing then takes about half as long as with a layout
    engine, which measures every label before it draws. Otherwise ``layout``, as matplotlib.
    """
    layout = kw.pop("layout", None)
    fig = Figure(figsize=figsize, dpi=110, layout=None if margins else layout)
    if margins:
        fig.subplots_adjust(**margins)
    return fig, fig.subplots(*grid, **kw)


# Fixed layouts for the figures whose text is known in advance: maps over trust and pressure
# (other parameters' labels take two lines, and a vector's ticks any width), trajectories
ONE_MAP = {"left": 0.14, "right": 0.88, "bottom": 0.12, "top": 0.84}
SIX_MAPS = {"left": 0.05, "right": 0.97, "bottom": 0.07, "top": 0.9, "wspace": 0.32, "hspace": 0.3}
TRAJECTORIES = {"left": 0.1, "right": 0.98, "bottom": 0.07, "top": 0.92, "hspace": 0.22}


def _fixed(axes, margins: Mapping) -> Mapping | None:
    """``margins`` for a map over trust and pressure; None (constrained layout) otherwise."""
    return margins if set(axes) <= set(AXIS_LABELS) else None


@dataclass(frozen=True)
class Drawing:
    """A figure still to be made: its file stem, a function that makes it, and its caption.
    Making it can wait, and happen in any process (``sim.report`` draws them in parallel)."""

    stem: str
    make: Callable[[], Figure]
    caption: str
    panels: int = 1  # how long it takes to draw, roughly: the longest are started first


def save(fig: Figure, path: Path, formats: Sequence[str] | None = None) -> list[Path]:
    """``fig`` as ``path.<format>`` for each format (default: ``figures.formats``'s). A run's
    figures are laid out as they render, by fixed margins or constrained layout (see
    :func:`figure`): cropping to a tight box would lay each out a second time."""
    out = []
    for fmt in FiguresConfig().formats if formats is None else formats:
        p = path.with_name(f"{path.name}.{fmt}")
        fig.savefig(p)
        out.append(p)
    return out


def describe(name: str) -> str | None:
    """What parameter ``name`` means, with its units; None for a name not known here."""
    if name in PARAMETERS:
        return PARAMETERS[name]
    if ".ratifiers." in name:  # countries.<side>.ratifiers.<name>.<what>[.<issue>]
        _, side, _, who, what = name.split(".", 4)
        if side not in SIDES:
            return None
        whose = f"{SIDES[side][0]} ratifier {who}"
        return (
            RATIFIER_PARAMETERS.get(what.split(".")[0], "").format(
                whose=whose, issue=what.rpartition(".")[2]
            )
            or None
        )
    parts = name.split(".", 3)
    if len(parts) < 3 or parts[0] != "countries" or parts[1] not in SIDES:
        return None
    text = COUNTRY_PARAMETERS.get(parts[2] + ("." if len(parts) == 4 else ""))
    side, partner = SIDES[parts[1]]
    return text and text.format(side=side, partner=partner, issue=parts[-1])


def axis_label(name: str) -> str:
    """The label of an axis along parameter ``name``: the name as typed on the command line
    over its meaning and units (trust and pressure keep their one-line labels); the bare
    name for a parameter not known here."""
    if name in AXIS_LABELS:
        return AXIS_LABELS[name]
    text = describe(name)
    return f"{name}\n{text}" if text else name


def noun(name: str) -> str:
    """A parameter as captions name it."""
    return NOUNS.get(name, f"`{name}`")


def shown(value) -> str:
    """A parameter's value as figures and captions show it."""
    return f"{value:g}" if isinstance(value, Real) else str(value)


def map_axes(table: pd.DataFrame) -> list[str]:
    """The parameters a table (cells.csv, trajectories.csv) varies, in column order: of
    trust, pressure and the columns between pressure and seed, those with several values."""
    cols = list(table.columns)
    start = cols.index("pressure") + 1
    end = cols.index("seed") if "seed" in cols else start
    return [c for c in ["trust", "pressure", *cols[start:end]] if table[c].nunique() > 1]


def scale(table: pd.DataFrame, name: str) -> tuple[list, np.ndarray]:
    """Axis ``name``'s values in drawing order and where they are drawn: numbers ascending
    at their values; anything else (a vector, as a JSON list) in the table's order at 0, 1, ..."""
    col = table[name]
    if pd.api.types.is_numeric_dtype(col):
        values = sorted(col.dropna().unique())
        return values, np.asarray(values, float)
    values = list(dict.fromkeys(col.dropna()))
    return values, np.arange(len(values), dtype=float)


def place(table: pd.DataFrame, name: str, values) -> np.ndarray:
    """Where ``values`` of axis ``name`` are drawn (see :func:`scale`)."""
    if pd.api.types.is_numeric_dtype(table[name]):
        return np.asarray(values, float)
    order = scale(table, name)[0]
    return np.array([order.index(v) for v in values], float)


FEW = 6  # values on an axis that are ticked one by one


def ticks(ax, table: pd.DataFrame, name: str, which="x") -> None:
    """Ticks at an axis's values when it has few (a coarse sweep's cells are read by their
    values) and always on a categorical axis, labelled with its values."""
    values, positions = scale(table, name)
    axis = ax.xaxis if which == "x" else ax.yaxis
    if not pd.api.types.is_numeric_dtype(table[name]):
        axis.set_ticks(positions, values, fontsize=7, rotation=15 if which == "x" else 0)
    elif len(values) <= FEW:
        axis.set_ticks(positions, [shown(v) for v in values])


def difference_grid(
    cells: pd.DataFrame, metric: str, axes: Sequence[str] = ("trust", "pressure")
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linked minus delinked ``metric`` over two axes (default trust x pressure):
    (x values, y values, diff[y, x])."""
    x, y = axes
    keys = ["scenario", x, y]
    lk = cells[cells.framework == "linked"].set_index(keys)[metric]
    dl = cells[cells.framework == "delinked"].set_index(keys)[metric]
    diff = (lk - dl).dropna().reset_index()
    table = diff.pivot_table(index=y, columns=x, values=metric)
    table = table.reindex(
        index=[v for v in scale(cells, y)[0] if v in table.index],
        columns=[v for v in scale(cells, x)[0] if v in table.columns],
    )
    return table.columns.to_numpy(), table.index.to_numpy(), table.to_numpy()


def diverging_map(ax, x, y, z, *, lim: float | None = None, contour=True, colorbar: str | None):
    """``z[y, x]`` on a diverging scale centred on zero (``lim``: the scale's half-range,
    default the largest |z|), with the zero contour where z changes sign and, unless
    ``colorbar`` is None, a colour bar labelled ``colorbar``."""
    lim = lim or float(np.nanmax(np.abs(z))) or 1e-9
    mesh = ax.pcolormesh(
        x, y, z, cmap=DIVERGING, norm=TwoSlopeNorm(0.0, -lim, lim), shading="nearest"
    )
    if contour and len(x) > 1 and len(y) > 1 and np.nanmin(z) < 0 < np.nanmax(z):
        cs = ax.contour(x, y, z, levels=[0.0], colors="black", linewidths=1.4)
        ax.clabel(cs, fmt={0.0: "0"}, fontsize=8)
    if colorbar is not None:
        ax.figure.colorbar(mesh, ax=ax).set_label(colorbar)
    return mesh


def two_axes(cells: pd.DataFrame) -> tuple[str, str]:
    """The map's two axes, first on x; trust and pressure unless the table varies two others."""
    found = map_axes(cells)
    return tuple(found) if len(found) == 2 else ("trust", "pressure")


def difference_map(
    ax, cells: pd.DataFrame, metric: str, title: str | None = None, short=False, axes=None
):
    """A diverging map of linked - delinked over the map's two axes (default: those the
    table varies, see :func:`two_axes`), zero contour drawn."""
    x, y = axes or two_axes(cells)
    xs, ys, z = difference_grid(cells, metric, (x, y))
    label = "linked − delinked" if short else f"Δ {metric} (linked − delinked; >0 favours linkage)"
    numeric = all(pd.api.types.is_numeric_dtype(cells[a]) for a in (x, y))
    # a zero line drawn between categories would interpolate what was never run
    mesh = diverging_map(
        ax, place(cells, x, xs), place(cells, y, ys), z, contour=numeric, colorbar=label
    )
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(axis_label(y))
    ticks(ax, cells, x, "x")
    ticks(ax, cells, y, "y")
    ax.set_title(title or f"{MAP_METRICS.get(metric, metric)}: linked − delinked")
    return mesh


def map_figure(cells: pd.DataFrame, metric: str, axes=None) -> Figure:
    """One metric's difference map, as a figure of its own."""
    fixed = _fixed(axes or two_axes(cells), ONE_MAP)
    fig, ax = figure((5.2, 4.2), margins=fixed, layout="constrained")
    difference_map(ax, cells, metric, axes=axes)
    fig.suptitle(f"{cells.scenario.iloc[0]}: where linkage pays", fontsize=10)
    return fig


def maps(cells: pd.DataFrame, prefix="", axes=None) -> list[Drawing]:
    """One map per metric plus the headline panel, for one scenario, over its two axes
    (default: see :func:`two_axes`)."""
    if not {"linked", "delinked"} <= set(cells.framework):
        return []
    x, y = axes or two_axes(cells)
    if difference_grid(cells, "mx_utility", (x, y))[2].size == 0:
        return []  # no point run both linked and delinked (e.g. one shard's share)
    out = []
    for metric, label in MAP_METRICS.items():
        caption = (
            f"Linked minus delinked {label}, mean over worlds and episodes, for each "
            f"{noun(x)} (x) and {noun(y)} (y). Purple: linkage does better; orange: delinking "
            "does better; the black line is where they tie."
        )
        if metric == "mx_utility":
            caption += (
                " The headline figure: in the orange region Mexico is better off keeping the "
                "issues apart; the zero line is where delinking starts to pay Mexico."
            )
        out.append(
            Drawing(f"{prefix}map_{metric}", partial(map_figure, cells, metric, (x, y)), caption)
        )
    panel = partial(
        six,
        lambda ax, metric, label: difference_map(ax, cells, metric, label, short=True, axes=(x, y)),
        f"{cells.scenario.iloc[0]}: linked − delinked over {x} × {y}",
        _fixed((x, y), SIX_MAPS),
    )
    caption = "The six difference maps side by side (each with its own colour scale)."
    return out + [Drawing(f"{prefix}maps", panel, caption, panels=6)]


CHOICE_METRICS = {
    "linked": "share of episodes on one table",
    "blocked_mx": "share of episodes Mexico blocks linkage",
    "blocked_us": "share of episodes the US blocks linkage",
}


def choice_figure(cells: pd.DataFrame, axes) -> Figure:
    """``framework=chosen`` over the map's two axes: how often the issues share a table,
    and how often each side blocks it; the line where delinking starts to pay Mexico under
    the fixed frameworks, when the map has them, drawn over each panel."""
    x, y = axes
    chosen = cells[cells.framework == "chosen"]
    fig, panels = figure((15, 4.4), 1, 3, layout="constrained")
    fixed = {"linked", "delinked"} <= set(cells.framework)
    for ax, (metric, label) in zip(panels, CHOICE_METRICS.items(), strict=True):
        table = chosen.pivot_table(index=y, columns=x, values=metric)
        xs, ys = place(cells, x, table.columns), place(cells, y, table.index)
        mesh = ax.pcolormesh(xs, ys, table.to_numpy(), cmap="viridis", vmin=0, vmax=1,
                             shading="nearest")  # fmt: skip
        fig.colorbar(mesh, ax=ax).set_label(label)
        if fixed:
            dx, dy, z = difference_grid(cells, "mx_utility", (x, y))
            if len(dx) > 1 and len(dy) > 1 and np.nanmin(z) < 0 < np.nanmax(z):
                ax.contour(place(cells, x, dx), place(cells, y, dy), z, levels=[0.0],
                           colors="white", linewidths=1.6, linestyles="--")  # fmt: skip
        ax.set_xlabel(axis_label(x))
        ax.set_ylabel(axis_label(y))
        ticks(ax, cells, x, "x")
        ticks(ax, cells, y, "y")
        ax.set_title(label, fontsize=10)
    rule = "the framework chosen each episode"
    fig.suptitle(f"{cells.scenario.iloc[0]}: {rule}" + (
        " (white dashes: where delinking starts to pay Mexico, fixed frameworks)" if fixed else ""
    ), fontsize=11)  # fmt: skip
    return fig


def choice_maps(cells: pd.DataFrame, prefix="", axes=None) -> list[Drawing]:
    """The choice figure of a map that runs ``framework=chosen``."""
    if "chosen" not in set(cells.framework):
        return []
    axes = axes or two_axes(cells)
    caption = (
        "framework=chosen: the share of worlds and episodes whose issues share one table, "
        "and the shares in which Mexico or the US blocks it (wants separate tables while the "
        "other wants one), over the map's two axes; with linked and delinked on the map too, "
        "the white dashes are where delinking starts to pay Mexico under fixed frameworks."
    )
    return [Drawing(f"{prefix}map_choice", partial(choice_figure, cells, axes), caption, panels=3)]


def six(draw, title: str, margins: Mapping | None = None) -> Figure:
    """The first six map metrics side by side, each drawn by ``draw(ax, metric, label)``
    (``margins``: see :func:`figure`)."""
    fig, panels = figure((15, 8.5), 2, 3, margins=margins, layout="constrained")
    for ax, metric in zip(panels.flat, list(MAP_METRICS)[:6], strict=True):
        draw(ax, metric, MAP_METRICS[metric])
    fig.suptitle(title, fontsize=12)
    return fig


# Each framework's line style beside its colour: the lines stay apart in grey too.
FRAMEWORK_STYLES = {
    "linked": "o-", "delinked": "s--", "sequenced": "^-.", "custom": "D:", "chosen": "v-",
}  # fmt: skip


def profile(ax, cells: pd.DataFrame, metric: str, axis: str, title: str | None = None):
    """``metric`` along parameter ``axis``, a line per framework with its 95% band."""
    order = scale(cells, axis)[0]
    for fw in dict.fromkeys(cells.framework):
        d = cells[cells.framework == fw].groupby(axis)[[metric, f"{metric}_ci95"]].mean()
        d = d.reindex([v for v in order if v in d.index])
        colour, style = FRAMEWORK_COLOURS.get(fw, GREY), FRAMEWORK_STYLES.get(fw, "o-")
        band(ax, place(cells, axis, d.index), d[metric], d[f"{metric}_ci95"], colour, fw, style)
    ax.set_xlabel(axis_label(axis))
    ax.set_ylabel(MAP_METRICS.get(metric, metric))
    ticks(ax, cells, axis, "x")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title or f"{MAP_METRICS.get(metric, metric)} by framework")


def line_figure(cells: pd.DataFrame, metric: str, axis: str | None = None) -> Figure:
    """One metric along the map's one axis (default: the one the table varies)."""
    fig, ax = figure((5.2, 4.2), layout="constrained")
    profile(ax, cells, metric, axis or map_axes(cells)[0])
    fig.suptitle(f"{cells.scenario.iloc[0]}: where linkage pays", fontsize=10)
    return fig


def lines(cells: pd.DataFrame, prefix="", axis=None) -> list[Drawing]:
    """For a map along one parameter: one figure per map metric, every framework's line with
    its band, plus a panel of six."""
    axis = axis or map_axes(cells)[0]
    out = []
    for metric, label in MAP_METRICS.items():
        caption = (
            f"{label[0].upper()}{label[1:]}, mean over worlds and episodes, for each "
            f"{noun(axis)} (x), a line per framework; bands are 95% intervals of the mean. "
            "Where the linked line is above the delinked, linkage does better."
        )
        if metric == "mx_utility":
            caption += (
                " The headline figure: where the delinked line is above, Mexico is better off "
                "keeping the issues apart."
            )
        out.append(
            Drawing(f"{prefix}line_{metric}", partial(line_figure, cells, metric, axis), caption)
        )
    panel = partial(
        six,
        lambda ax, metric, label: profile(ax, cells, metric, axis, label),
        f"{cells.scenario.iloc[0]}: each framework along {axis}",
    )
    caption = "The six metrics side by side, each on its own scale."
    return out + [Drawing(f"{prefix}lines", panel, caption, panels=6)]


def nearest_cells(cells: pd.DataFrame, wanted, axes=("trust", "pressure")) -> list[tuple]:
    """The cells closest to each wanted point, without repeats: a point's first
    ``len(axes)`` values, in the axes' units (a categorical axis's are its positions 0, 1,
    ...); each cell as its values on ``axes``."""
    axes = list(axes)
    pts = cells[axes].drop_duplicates()
    at = np.column_stack([place(cells, a, pts[a]) for a in axes])
    out = []
    for w in wanted:
        i = np.argmin(((at - np.asarray(w[: len(axes)], float)) ** 2).sum(axis=1))
        best = tuple(pts.iloc[i])
        if best not in out:
            out.append(best)
    return out


def point_stem(point: Mapping[str, object]) -> str:
    """A point as part of a file name: ``trust0.2_pressure0.8``; a vector's values joined
    by hyphens."""
    return "_".join(f"{name}{_tag(v)}" for name, v in point.items())


def _tag(v) -> str:
    if isinstance(v, Real):
        return f"{v:g}"
    try:
        return "-".join(f"{x:g}" for x in json.loads(v))
    except (TypeError, ValueError):
        return "".join(c for c in str(v) if c.isalnum() or c in ".-")


def band(ax, x, mean, ci, color, label, style="-"):
    """A mean line with its 95% interval of the mean (``mean ± ci``, the ``_ci95`` columns
    of the tables); a missing half-width draws no band."""
    mean, ci = np.asarray(mean, float), np.nan_to_num(np.asarray(ci, float))
    ax.plot(x, mean, style, color=color, label=label, lw=1.6)
    ax.fill_between(x, mean - ci, mean + ci, color=color, alpha=0.2, lw=0)


# The metrics drawn over episodes: each one's colour and legend label.
SERIES = {
    "trust_us": (US, "US trust in Mexico"),
    "trust_mx": (MX, "Mexican trust in the US"),
    "us_utility": (US, "US utility"),
    "mx_utility": (MX, "Mexican utility"),
    "agreement_rate": (AGREE, "issues agreed and kept"),
    "linked": (GREY, "ran linked"),
}


def episode_lines(ax, x, mean: Mapping, ci: Mapping, names, style="-"):
    """Metrics ``names`` over episodes ``x``, each in its colour with its 95% band:
    ``mean[name]`` the means over worlds, ``ci[name]`` the intervals' half-widths."""
    for name in names:
        color, label = SERIES[name]
        band(ax, x, mean[name], ci[name], color, label, style)


def trajectories(traj: pd.DataFrame, trust=None, pressure=None, *, at=None):
    """Trust, utilities and agreement over episodes, one column per framework, 95% bands,
    at ``at`` ({parameter: value}; default trust ``trust`` and pressure ``pressure``)."""
    at = dict(at) if at is not None else {"trust": trust, "pressure": pressure}
    keep = np.ones(len(traj), bool)
    for name, v in at.items():
        col = traj[name]
        keep &= np.isclose(col, v) if pd.api.types.is_numeric_dtype(col) else (col == v).to_numpy()
    here = traj[keep]
    frameworks = list(dict.fromkeys(here.framework))
    k = len(frameworks)
    # the frameworks' columns are laid out by hand: each keeps its own y label
    margins = {**TRAJECTORIES, "left": TRAJECTORIES["left"] * 2 / k, "wspace": 0.1 + 0.05 * k}
    if k == 1 or not set(at) <= set(NOUNS):
        margins["top"] = 0.9  # a title of two lines
    fig, axes = figure((4.2 * k, 8), 3, k, sharey="row", squeeze=False, margins=margins)
    rows = [
        ("trust", ["trust_us", "trust_mx"]),
        ("utility", ["us_utility", "mx_utility"]),
        ("share", ["agreement_rate", "linked"]),
    ]
    for j, fw in enumerate(frameworks):
        d = here[here.framework == fw].sort_values("episode")
        for i, (ylabel, names) in enumerate(rows):
            ax = axes[i, j]
            episode_lines(ax, d.episode, d, {m: d[f"{m}_ci95"] for m in names}, names)
            ax.set_ylabel(f"{ylabel} (0-1)")
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(fw)
            if i == 2:
                ax.set_xlabel("episode")
            if j == 0:
                ax.legend(fontsize=8, loc="best")
    where = ", ".join(f"{name} {shown(v)}" for name, v in at.items())
    # other parameters' names are long, and one framework's column is narrow
    gap = " " if set(at) <= set(NOUNS) and k > 1 else "\n"
    fig.suptitle(
        f"{here.scenario.iloc[0]}: trajectories at {where}{gap}(mean over worlds, 95% band)",
        fontsize=10,
    )
    return fig


def dance(ax, table: TableRecord, title: str | None = None):
    """One table's offers in the utility plane, with the frontier, disagreement and Nash point.

    ``table`` is one :class:`~sim.record.TableRecord` of ``LinkageModel.record``. Utilities
    are normalised on the table and risk-adjusted, as the sides value them when they bargain.
    """
    w_us, w_mx, d_us, d_mx = table.w_us, table.w_mx, table.d_us, table.d_mx
    r_us, r_mx = table.reservation
    t_us, t_mx = table.trust
    one = np.ones(1)
    tab = Tables(
        w_us[None], w_mx[None], d_us[None], d_mx[None],
        t_us * one, t_mx * one, one, one, r_us * one, r_mx * one,
    )  # fmt: skip
    fu, fm = frontier(tab)
    face_us, face_mx, _ = pareto_frontier(w_us, w_mx)
    ax.plot(face_us, face_mx, color=GREY, ls="--", lw=1, label="Pareto frontier (face value)")
    ax.plot(fu[0], fm[0], color="black", lw=1.3, label=f"frontier at trust {t_us:.2f}/{t_mx:.2f}")
    offers = table.offers
    rounds = np.arange(len(offers))
    last = min(table.round, len(offers) - 1)
    shown = rounds <= last
    by_us = shown & ((rounds % 2 == 0) == (table.first_mover == "US"))
    by_mx = shown & ~by_us
    ax.plot(offers[by_us, 0], offers[by_us, 1], "o-", ms=3.5, color=US, lw=0.8, label="US offers")
    ax.plot(
        offers[by_mx, 0], offers[by_mx, 1], "s-", ms=3.5, color=MX, lw=0.8, label="Mexican offers"
    )
    ax.plot([r_us], [r_mx], "X", color="black", ms=8, label="disagreement (with threat)")
    nash = nash_point(w_us, w_mx, float(w_us @ d_us), float(w_mx @ d_mx))
    if nash is not None:
        ax.plot(*nash, "D", color=NASH, ms=7, label="Nash point (face value)")
    if table.agreed:
        ax.plot(
            *offers[last],
            "*",
            color=AGREEMENT,
            ms=16,
            mec="black",
            label=f"agreement (round {last + 1})",
        )
    ax.set_xlabel("US utility on this table (0-1)")
    ax.set_ylabel("Mexican utility on this table (0-1)")
    ax.set_xlim(min(-0.02, r_us - 0.05), 1.02)
    ax.set_ylim(min(-0.02, r_mx - 0.05), 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    ax.set_title(title or f"negotiation dance: {', '.join(table.issues)}")
