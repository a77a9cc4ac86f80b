"""The figures of the analyses: sensitivity indices as sorted bars with their intervals,
and PRIM's peeling trajectory with the reported box marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim import plot

FIRST, TOTAL = "#56B4E9", "#0072B2"  # Okabe & Ito: sky blue and blue
KINDS = {"premium": "linked minus delinked", "linked": "linked", "delinked": "delinked"}


def outcome_label(name: str) -> str:
    """``premium.mx_utility`` as "Mexican utility, linked minus delinked"."""
    kind, _, metric = name.partition(".")
    what = {"joint_utility": "joint utility (US + Mexico)"}.get(metric) or plot.MAP_METRICS.get(
        metric, metric
    )
    return f"{what}, {KINDS[kind]}"


def indices(table: pd.DataFrame, output: str) -> plot.Figure:
    """One output's indices, the most influential parameter on top: S1 and ST (Sobol') or
    μ* and σ (Morris), with 95% bootstrap intervals."""
    sobol = "ST" in table
    rows = table.sort_values("ST" if sobol else "mu_star", kind="stable").reset_index(drop=True)
    y = np.arange(len(rows))
    fig, ax = plot.figure((7.2, 1.2 + 0.3 * len(rows)), layout="constrained")
    h = 0.38
    bars = (("S1", "first order S1", FIRST), ("ST", "total ST", TOTAL)) if sobol else (
        ("mu_star", "μ* (mean |elementary effect|)", TOTAL), ("sigma", "σ (their spread)", FIRST)
    )  # fmt: skip
    for k, (col, label, colour) in enumerate(bars):
        at = y + (h / 2 if k == 0 else -h / 2)
        low, high = f"{col}_low", f"{col}_high"
        err = None
        if low in rows:
            err = np.vstack([rows[col] - rows[low], rows[high] - rows[col]]).clip(min=0)
        ax.barh(at, rows[col], h, xerr=err, color=colour, label=label, capsize=2,
                error_kw={"elinewidth": 0.8, "ecolor": "#333333"})  # fmt: skip
    ax.axvline(0, color=plot.GREY, lw=0.8)
    ax.set_yticks(y, rows["parameter"], fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    unit = "share of the output's variance" if sobol else "change of the output over the range"
    ax.set_xlabel(f"{'Sobol′' if sobol else 'Morris'} index ({unit})")
    ax.set_title(outcome_label(output), fontsize=10)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def peeling(path: pd.DataFrame, outcome: str) -> plot.Figure:
    """PRIM's peeling trajectory: each box's coverage against its density, shaded by the
    number of restricted parameters, the reported box ringed."""
    fig, ax = plot.figure((6.4, 4.6), layout="constrained")
    points = ax.scatter(path.coverage, path.density, c=path.res_dim, cmap="viridis", s=18, zorder=2)
    fig.colorbar(points, ax=ax, label="parameters restricted")
    chosen = path[path.chosen]
    ax.scatter(chosen.coverage, chosen.density, s=140, facecolors="none", edgecolors="#D55E00",
               linewidths=1.8, zorder=3, label="the box reported")  # fmt: skip
    ax.set_xlabel("coverage (share of the cases inside the box)")
    ax.set_ylabel("density (share of the box's points that are cases)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"PRIM's peeling trajectory: {outcome}", fontsize=10)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return fig


def draw(out: Path, formats) -> list[Path]:
    """The figures of the analysis in ``out`` (from its ``indices.csv`` or ``peeling.csv``)
    into ``out/figures``."""
    folder = out / "figures"
    folder.mkdir(exist_ok=True)
    written = []
    if (out / "indices.csv").exists():
        table = pd.read_csv(out / "indices.csv")
        for output, rows in table.groupby("output", sort=False):
            fig = indices(rows.drop(columns="output"), output)
            written += plot.save(fig, folder / f"indices_{output}", formats)
    if (out / "peeling.csv").exists():
        path = pd.read_csv(out / "peeling.csv")
        outcome = (out / "discovery.txt").read_text().splitlines()[0]
        written += plot.save(peeling(path, outcome), folder / "peeling", formats)
    return written
