"""Sequencing: does confidence-building first, then one table, beat both pure frameworks,
and where? (README.md beside this file.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.common import EXPERIMENTS, Numbers, by_framework, grid, linkage, map_axes, savefig
from sim import plot

FOLDER = EXPERIMENTS / "sequencing"
COARSE = "[" + ",".join(f"{i / 10:g}" for i in range(11)) + "]"
ALL_THREE = "map.framework=[linked,delinked,sequenced]"
METRICS = (
    ("mx_utility", "Mexican utility"),
    ("us_utility", "US utility"),
    ("nash_product", "Nash product"),
)
LINK_AT = (0.5, 0.6, 0.7, 0.8, 0.9)


def versus_best(cells: pd.DataFrame, metric: str):
    """Sequenced minus the better pure framework, with the 95% noise band of that difference."""
    t = by_framework(cells, metric)
    ci = by_framework(cells, f"{metric}_ci95")
    linked_best = t.linked >= t.delinked
    best = t.linked.where(linked_best, t.delinked)
    best_ci = ci.linked.where(linked_best, ci.delinked)
    return t.sequenced - best, np.sqrt(ci.sequenced**2 + best_ci**2), linked_best


def run() -> None:
    FOLDER.mkdir(exist_ok=True)
    say = Numbers(FOLDER)
    print("== sequencing")
    quiet = ["replications=50", "figures.enabled=false"]
    coarse = [f"map.trust={COARSE}", f"map.pressure={COARSE}"]
    maps = {
        "baseline": linkage("sequencing", ALL_THREE, *quiet),
        "bicentennial_2021": linkage(
            "sequencing_bicentennial", "scenario=bicentennial_2021", ALL_THREE, *quiet, *coarse
        ),
    }
    tables = {k: pd.read_csv(v / "cells.csv") for k, v in maps.items()}
    results = {scenario: tabulate(say, scenario, cells) for scenario, cells in tables.items()}
    thresholds(say, tables["baseline"], quiet + coarse)
    draw(results)
    say.save()


def tabulate(say: Numbers, scenario: str, cells: pd.DataFrame) -> dict[str, tuple]:
    """Sequenced against the better pure framework, per metric: {metric: (diff, noise)},
    and {"linked": share of episodes sequenced runs on one table}."""
    n = cells[["trust", "pressure"]].drop_duplicates().shape[0]
    say(f"{scenario}: {n} trust x pressure cells, 50 replications of 20 episodes, link_at 0.7.")
    say("  sequenced - the better of linked and delinked (for that side); 'clearly' = by more")
    say("  than the 95% noise band of the difference:")
    out = {}
    for metric, label in METRICS:
        d, noise, linked_best = versus_best(cells, metric)
        out[metric] = (d, noise)
        say(
            f"  {label:16s} sequenced better in {np.mean(d > 0):5.1%} of cells, clearly in "
            f"{np.mean(d > noise):5.1%}, clearly worse in {np.mean(d < -noise):5.1%}; largest "
            f"gain {d.max():+.4f} at trust {d.idxmax()[0]:.2f}, pressure {d.idxmax()[1]:.2f}; "
            f"median {d.median():+.4f}; worst {d.min():+.4f} at trust {d.idxmin()[0]:.2f}, "
            f"pressure {d.idxmin()[1]:.2f}; linked is the better pure framework in "
            f"{linked_best.mean():5.1%} of cells"
        )
    d, noise = out["mx_utility"]
    clear = d[d > noise].sort_values(ascending=False)
    if len(clear):
        ts = clear.index.get_level_values("trust")
        ps = clear.index.get_level_values("pressure")
        say(
            f"  cells where sequencing clearly pays Mexico ({len(clear)}): trust "
            f"{ts.min():.2f}-{ts.max():.2f}, pressure {ps.min():.2f}-{ps.max():.2f}; "
            f"{np.mean((ts <= 0.5) & (ps >= 0.7)):.0%} of them at trust <= 0.5 and "
            "pressure >= 0.7; the largest:"
        )
    for (t, p), v in clear.head(10).items():
        say(f"    trust {t:.2f}, pressure {p:.2f}: {v:+.4f} (noise {noise.loc[(t, p)]:.4f})")
    share = by_framework(cells, "linked")
    out["linked"] = (share.sequenced, by_framework(cells, "linked_ci95").sequenced)
    say(
        "  share of episodes sequenced runs on one table, mean over pressure, at trust "
        "0.1 / 0.3 / 0.5 / 0.7 / 0.9: "
        + " / ".join(
            f"{share.sequenced.xs(t, level='trust').mean():.2f}" for t in (0.1, 0.3, 0.5, 0.7, 0.9)
        )
    )
    return out


def thresholds(say: Numbers, base: pd.DataFrame, args: list[str]) -> None:
    """Other link_at values on the baseline's coarse grid. Only sequenced runs: the pure
    frameworks do not depend on link_at, and every cell has its own random stream, so the
    pure cells of the 21 x 21 run serve."""
    say("baseline, other thresholds (11 x 11 cells): sequenced clearly better / clearly worse")
    say("than the better pure framework, for Mexico; for the US; by Nash product:")
    tenths = np.round(np.arange(11) / 10, 2)
    pure = base[base.trust.isin(tenths) & base.pressure.isin(tenths)]
    pure = pure[pure.framework != "sequenced"]
    for link_at in LINK_AT:
        r = linkage(
            f"sequencing_link_at_{link_at}",
            "map.framework=[sequenced]",
            f"framework.link_at={link_at}",
            *args,
        )
        seq = pd.read_csv(r / "cells.csv")
        both = pd.concat([pure, seq])
        parts = []
        for metric, _ in METRICS:
            d, noise, _ = versus_best(both, metric)
            parts.append(f"{np.mean(d > noise):4.0%} / {np.mean(d < -noise):4.0%}")
        say(
            f"  link_at {link_at}: "
            + "; ".join(parts)
            + f"; share of episodes linked {seq.linked.mean():.2f}"
        )


def draw(results: dict[str, dict]) -> None:
    """Per scenario (rows): sequenced minus the better pure framework for each metric, and
    how often sequencing runs on one table."""
    fig, axes = plot.figure((16, 7.4), 2, 4, layout="constrained")
    for row, (scenario, out) in enumerate(results.items()):
        for col, (metric, label) in enumerate(METRICS):
            ax = axes[row, col]
            d, noise = out[metric]
            plot.diverging_map(
                ax, *grid(d), contour=False, colorbar="difference (>0: sequencing pays)"
            )
            map_axes(ax, f"{scenario}, {label}:\nsequenced − better pure framework")
            clear = d[d > noise].index
            if len(clear):
                ax.plot(
                    [t for t, _ in clear],
                    [p for _, p in clear],
                    ".",
                    color="black",
                    ms=3,
                    label="sequenced clearly better",
                )
                ax.legend(fontsize=7, loc="lower right")
        ax = axes[row, 3]
        share, ci = out["linked"]
        for p, style in ((0.0, "-"), (0.5, "--"), (1.0, ":")):
            s, c = share.xs(p, level="pressure"), ci.xs(p, level="pressure")
            plot.band(ax, s.index, s, c, plot.GREY, f"pressure {p:g}", style)
        ax.axvline(0.7, color="black", lw=0.8, ls=":")
        ax.set_xlabel(plot.AXIS_LABELS["trust"])
        ax.set_ylabel("share of episodes on one table (0-1)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        ax.set_title(f"{scenario}, sequenced:\nhow often it runs linked (link at 0.7)", fontsize=9)
    fig.suptitle(
        "Confidence first, then one table (link at trust 0.7): sequenced minus the better of "
        "linked and delinked, for each side; dots where the gain exceeds the 95% noise band",
        fontsize=10,
    )
    savefig(fig, FOLDER / "sequenced_vs_best.png", dpi=72)
