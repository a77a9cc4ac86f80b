"""Figures: the linked-minus-delinked maps, trajectories with bands, the negotiation dance.

The one plotting layer: the run's figures (``sim.report``) and the seminar app's
(``sim.app_figures``) take their palette, bands, maps, trajectories and dance from here.
Colours are Okabe & Ito's colour-blind-safe palette (US blue, Mexico vermillion); maps of
differences use ColorBrewer's PuOr, centred on zero, with the zero contour drawn; every
band is the 95% interval of the mean over worlds, as in the tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib import rcParams
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from sim.bargaining import Tables, frontier
from sim.config import FiguresConfig
from sim.issues import nash_point, pareto_frontier

if TYPE_CHECKING:
    from sim.model import TableRecord

# The palette: Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies.
US, MX, GREY = "#0072B2", "#D55E00", "#7F7F7F"
AGREE, NASH, AGREEMENT = "#009E73", "#009E73", "#CC79A7"
TRACK = "#DDDDDD"  # the background of a scale (the app's issue positions)
FRAMEWORK_COLOURS = {
    "linked": "#009E73",
    "delinked": "#E69F00",
    "sequenced": "#CC79A7",
    "custom": "#56B4E9",
}
DIVERGING = "PuOr"  # ColorBrewer, for differences; always centred on zero
AXIS_LABELS = {
    "trust": "initial trust (both sides, 0-1)",
    "pressure": "US coercive pressure π (0-1)",
}
MAP_METRICS = {
    "mx_utility": "Mexican utility",
    "us_utility": "US utility",
    "joint_gain": "joint gain",
    "efficiency": "efficiency (share of max. joint gain)",
    "agreement_rate": "agreement rate (share of issues)",
    "final_trust_mx": "final Mexican trust in the US",
    "final_trust_us": "final US trust in Mexico",
}


def figure(figsize, *grid, **kw) -> tuple[Figure, object]:
    """A figure and its axes, outside pyplot: no global state, any backend (or none)."""
    fig = Figure(figsize=figsize, dpi=110, layout=kw.pop("layout", None))
    return fig, fig.subplots(*grid, **kw)


def save(fig: Figure, path: Path, formats: Sequence[str] | None = None) -> list[Path]:
    """``fig`` as ``path.<format>`` for each format (default: ``figures.formats``'s),
    cropped to what it draws."""
    # Measure the crop once: savefig's bbox_inches="tight" lays the figure out again for
    # every format, which costs as much as rendering it.
    fig.draw_without_rendering()
    crop = fig.get_tightbbox().padded(rcParams["savefig.pad_inches"])
    out = []
    for fmt in FiguresConfig().formats if formats is None else formats:
        p = path.with_name(f"{path.name}.{fmt}")
        fig.savefig(p, bbox_inches=crop)
        out.append(p)
    return out


def difference_grid(cells: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linked minus delinked ``metric`` on the trust x pressure grid: (trust, pressure, diff)."""
    keys = ["scenario", "trust", "pressure"]
    lk = cells[cells.framework == "linked"].set_index(keys)[metric]
    dl = cells[cells.framework == "delinked"].set_index(keys)[metric]
    diff = (lk - dl).dropna().reset_index()
    table = diff.pivot_table(index="pressure", columns="trust", values=metric)
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


def difference_map(ax, cells: pd.DataFrame, metric: str, title: str | None = None, short=False):
    """A diverging map of linked - delinked over trust x pressure, zero contour drawn."""
    trust, pressure, z = difference_grid(cells, metric)
    label = "linked − delinked" if short else f"Δ {metric} (linked − delinked; >0 favours linkage)"
    mesh = diverging_map(ax, trust, pressure, z, colorbar=label)
    ax.set_xlabel(AXIS_LABELS["trust"])
    ax.set_ylabel(AXIS_LABELS["pressure"])
    ax.set_title(title or f"{MAP_METRICS.get(metric, metric)}: linked − delinked")
    return mesh


def maps(
    cells: pd.DataFrame, out: Path, formats: Sequence[str] | None = None, prefix=""
) -> dict[str, str]:
    """One map per metric plus the headline panel, for one scenario; {file stem: caption}."""
    captions = {}
    if not {"linked", "delinked"} <= set(cells.framework):
        return captions
    scenario = cells.scenario.iloc[0]
    for metric, label in MAP_METRICS.items():
        fig, ax = figure((5.2, 4.2))
        difference_map(ax, cells, metric)
        fig.suptitle(f"{scenario}: where linkage pays", fontsize=10)
        save(fig, out / f"{prefix}map_{metric}", formats)
        captions[f"{prefix}map_{metric}"] = (
            f"Linked minus delinked {label}, mean over worlds and episodes, for each initial "
            "trust (x) and US pressure (y). Purple: linkage does better; orange: delinking "
            "does better; the black line is where they tie."
        )
    captions[f"{prefix}map_mx_utility"] += (
        " The headline figure: in the orange region Mexico is better off keeping the issues "
        "apart; the zero line is where delinking starts to pay Mexico."
    )
    fig, axes = figure((15, 8.5), 2, 3, layout="constrained")
    for ax, metric in zip(axes.flat, list(MAP_METRICS)[:6], strict=True):
        difference_map(ax, cells, metric, MAP_METRICS[metric], short=True)
    fig.suptitle(f"{scenario}: linked − delinked over trust × pressure", fontsize=12)
    save(fig, out / f"{prefix}maps", formats)
    captions[f"{prefix}maps"] = (
        "The six difference maps side by side (each with its own colour scale)."
    )
    return captions


def nearest_cells(cells: pd.DataFrame, wanted) -> list[tuple[float, float]]:
    """The grid cells closest to each wanted (trust, pressure), without repeats."""
    pts = cells[["trust", "pressure"]].drop_duplicates().to_numpy()
    out = []
    for t, p in wanted:
        best = tuple(pts[np.argmin((pts[:, 0] - t) ** 2 + (pts[:, 1] - p) ** 2)])
        if best not in out:
            out.append(best)
    return out


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


def trajectories(traj: pd.DataFrame, trust: float, pressure: float):
    """Trust, utilities and agreement over episodes, one column per framework, 95% bands."""
    here = traj[np.isclose(traj.trust, trust) & np.isclose(traj.pressure, pressure)]
    frameworks = list(dict.fromkeys(here.framework))
    fig, axes = figure((4.2 * len(frameworks), 8), 3, len(frameworks), sharey="row", squeeze=False)
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
    fig.suptitle(
        f"{here.scenario.iloc[0]}: trajectories at trust {trust:g}, pressure {pressure:g} "
        "(mean over worlds, 95% band)",
        fontsize=10,
    )
    return fig


def dance(ax, table: TableRecord, title: str | None = None):
    """One table's offers in the utility plane, with the frontier, disagreement and Nash point.

    ``table`` is one :class:`~sim.model.TableRecord` of ``LinkageModel.record``. Utilities
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
