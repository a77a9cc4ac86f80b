"""The headline map: on the baseline, where does linkage pay Mexico, in one episode and over
20, and which mechanism moves the line? (README.md beside this file.)"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd

from experiments.common import (
    EXPERIMENTS,
    Numbers,
    by_framework,
    grid,
    linkage,
    map_axes,
    positions,
    savefig,
)
from sim import plot

FOLDER = EXPERIMENTS / "linkage_map"
# Each mechanism switched off in turn: (label, run name, overrides)
MECHANISMS = [
    ("20 episodes, trust frozen", "frozen", ["trust_prior=1e6"]),
    ("20 episodes, no backlash", "no_backlash", ["backlash.trust=0", "backlash.salience=0"]),
    ("20 episodes, no unilateral action", "no_unilateral", ["unilateral.rate=0"]),
]
CELLS = [(0.3, 0.8), (0.1, 0.9), (0.5, 0.5)]  # traced episode by episode: the corner, and a control


def zero_line(delta: pd.Series) -> list[str]:
    """For each trust, the pressures at which delinking pays Mexico (delta < 0)."""
    out = []
    for t, s in delta.groupby(level="trust"):
        neg = s[s < 0].index.get_level_values("pressure")
        span = f"{neg.min():.2f}-{neg.max():.2f} ({len(neg)} cells)" if len(neg) else "none"
        out.append(f"    trust {t:.2f}: delinking pays Mexico at pressure {span}")
    return out


def at_cell(trajs: pd.DataFrame, t: float, p: float, values) -> pd.DataFrame:
    here = trajs[np.isclose(trajs.trust, t) & np.isclose(trajs.pressure, p)]
    return here.pivot_table(index="episode", columns="framework", values=values)


def run() -> None:
    FOLDER.mkdir(exist_ok=True)
    say = Numbers(FOLDER)
    print("== linkage_map")
    many = linkage("map_20")
    one = linkage("map_1", "episodes=1")
    for src, name, dest in (
        (one, "map_mx_utility", "map_mx_utility_1_episode.png"),
        (many, "map_mx_utility", "map_mx_utility_20_episodes.png"),
        (many, "map_final_trust_mx", "map_final_trust_mx_20_episodes.png"),
    ):
        shutil.copy(src / "figures" / f"{name}.png", FOLDER / dest)
        print(f"  copied {dest}")
    runs = {"1 episode": one, "20 episodes": many}
    for label, name, args in MECHANISMS:
        # 50 replications: the maps are smooth enough
        runs[label] = linkage(f"map_{name}", "replications=50", *args)
    cells = {k: pd.read_csv(v / "cells.csv") for k, v in runs.items()}
    trajs = pd.read_csv(many / "trajectories.csv")

    deltas = {}
    for label, c in cells.items():
        mx = by_framework(c, "mx_utility")
        deltas[label] = mx.linked - mx.delinked
    tabulate(say, cells, deltas, trajs)
    draw(cells, deltas, trajs)
    chosen(say)
    say.save()


def chosen(say: Numbers) -> None:
    """framework=chosen framework.rule=consent on the same map, beside linked and delinked:
    where do the sides link, and is the region where Mexico blocks the region where
    delinking pays Mexico under fixed frameworks?"""
    out = linkage("map_chosen", "map.framework=[linked,delinked,chosen]",
                  "framework.rule=consent")  # fmt: skip
    shutil.copy(out / "figures" / "map_choice.png", FOLDER / "map_choice_consent.png")
    print("  copied map_choice_consent.png")
    cells = pd.read_csv(out / "cells.csv")
    c = cells[cells.framework == "chosen"].set_index(["trust", "pressure"])
    mx = by_framework(cells, "mx_utility")
    pays = (mx.linked - mx.delinked) < 0  # delinking pays Mexico under fixed frameworks
    blocks = c.blocked_mx > 0.5  # Mexico blocks in most worlds and episodes
    both = (pays & blocks).sum()
    say()
    say("framework=chosen framework.rule=consent on the same 21 x 21 map (100 replications):")
    say(f"  linked in {c.linked.mean():.1%} of worlds and episodes over the map; Mexico blocks "
        f"in {c.blocked_mx.mean():.1%}, the US in {c.blocked_us.mean():.1%}")  # fmt: skip
    say(f"  cells where Mexico blocks most of the time: {blocks.sum()} of {len(c)}; where "
        f"delinking pays Mexico (fixed frameworks): {pays.sum()}; both: {both}")  # fmt: skip
    n_pays, n_blocks = max(int(pays.sum()), 1), max(int(blocks.sum()), 1)
    say(f"  of the cells where delinking pays Mexico, Mexico blocks in {both / n_pays:.0%}; "
        f"of those where it blocks, delinking pays it in {both / n_blocks:.0%}")  # fmt: skip
    t, p = c.index.get_level_values("trust"), c.index.get_level_values("pressure")
    say(f"  Mexico blocks most of the time at trust {t[blocks].min():.2f}-{t[blocks].max():.2f}"
        f" and pressure {p[blocks].min():.2f}-{p[blocks].max():.2f}")  # fmt: skip


def tabulate(say: Numbers, cells, deltas, trajs) -> None:
    say("Linked minus delinked Mexican utility (mean over worlds and episodes), baseline,")
    say("21 x 21 trust x pressure cells:")
    for label, d in deltas.items():
        say(
            f"  {label:34s} delinking pays Mexico in {np.mean(d < 0):5.1%} of cells; "
            f"min {d.min():+.3f} at trust {d.idxmin()[0]:.2f}, pressure {d.idxmin()[1]:.2f}; "
            f"max {d.max():+.3f} at trust {d.idxmax()[0]:.2f}, pressure {d.idxmax()[1]:.2f}; "
            f"at (0.3, 0.8) {d.loc[(0.3, 0.8)]:+.3f}"
        )
        us = by_framework(cells[label], "us_utility")
        say(f"  {'':34s} linkage pays the US in {np.mean(us.linked > us.delinked):.1%} of cells")
    for label in ("1 episode", "20 episodes"):
        say(f"  where delinking pays Mexico, {label}:")
        for line in zero_line(deltas[label]):
            say(line)

    # why the line moves: the difference episode by episode, and the trust learning behind it
    say("Episode by episode at three cells (20-episode run; linked - delinked Mexican utility,")
    say("and Mexican trust in the US under each framework):")
    rows = []
    for t, p in CELLS:
        piv = at_cell(trajs, t, p, ["mx_utility", "trust_mx"])
        for e in (1, 2, 3, 5, 10, 20):
            rows.append(
                {
                    "trust": t,
                    "pressure": p,
                    "episode": e,
                    "d_mx_utility": piv.loc[e, ("mx_utility", "linked")]
                    - piv.loc[e, ("mx_utility", "delinked")],
                    "trust_mx_linked": piv.loc[e, ("trust_mx", "linked")],
                    "trust_mx_delinked": piv.loc[e, ("trust_mx", "delinked")],
                }
            )
    say.table(pd.DataFrame(rows).set_index(["trust", "pressure", "episode"]))
    c20 = cells["20 episodes"]
    ft = by_framework(c20, "final_trust_mx")
    say(
        "Final Mexican trust, mean over the map: linked "
        f"{ft.linked.mean():.3f}, delinked {ft.delinked.mean():.3f}; at pressure 1: linked "
        f"{ft.linked.xs(1.0, level='pressure').mean():.3f}, delinked "
        f"{ft.delinked.xs(1.0, level='pressure').mean():.3f}"
    )
    say("One episode at pressure 0.8: implemented positions on the linked table (1 = US ideal)")
    for t in (0.45, 0.5):
        x, _ = positions("baseline", "linked", f"trust={t}", "pressure=0.8", "episodes=1")
        say(f"  trust {t}: " + ", ".join(f"{k} {v:.3f}" for k, v in x.iloc[0].items()))
    for side, name in (("mx", "Mexican trust in the US"), ("us", "US trust in Mexico")):
        f = by_framework(c20, f"final_trust_{side}")
        init = f.index.get_level_values("trust").to_numpy()
        say(
            f"{name} ends above its initial value in {np.mean(f.linked.to_numpy() > init):.1%} "
            f"of cells linked, {np.mean(f.delinked.to_numpy() > init):.1%} delinked; lowest final "
            f"value {min(f.linked.min(), f.delinked.min()):.3f}"
        )
    ua = by_framework(c20, "unilateral_actions")
    say(
        "Unilateral actions per episode, mean over the map: linked "
        f"{ua.linked.mean():.4f}, delinked {ua.delinked.mean():.4f}"
    )


def draw(cells, deltas, trajs) -> None:
    """The five maps on one colour scale, and the difference over episodes at three cells."""
    lim = max(float(np.nanmax(np.abs(d.to_numpy()))) for d in deltas.values())
    fig, axes = plot.figure((12.5, 7.4), 2, 3, layout="constrained")
    for ax, (label, d) in zip(axes.flat, deltas.items(), strict=False):
        mesh = plot.diverging_map(ax, *grid(d), lim=lim, colorbar=None)
        map_axes(ax, f"{label}:\ndelinking pays Mexico in {np.mean(d < 0):.0%} of cells")
    fig.colorbar(
        mesh,
        ax=axes[0, :],
        shrink=0.9,
        label=(
            "Mexican utility,\nlinked − delinked\n(>0: linkage pays Mexico;\n"
            "same scale in all five maps)"
        ),
    )
    ax = axes[1, 2]
    for (t, p), style in zip(CELLS, ("-", "--", ":"), strict=True):
        mean = at_cell(trajs, t, p, "mx_utility")
        ci = at_cell(trajs, t, p, "mx_utility_ci95")
        # linked and delinked cells draw independent streams: their intervals add in quadrature
        noise = np.sqrt(ci.linked**2 + ci.delinked**2)
        label = f"trust {t}, pressure {p}"
        plot.band(ax, mean.index, mean.linked - mean.delinked, noise, plot.MX, label, style)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("episode")
    ax.set_ylabel("Mexican utility, linked − delinked")
    ax.set_title("full model, episode by episode, at three cells (95% bands)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.suptitle(
        "baseline: where linkage pays Mexico, and which mechanism moves the line", fontsize=11
    )
    savefig(fig, FOLDER / "mechanisms.png", dpi=80)
