"""Two-level games: does level II explain what level I cannot? The Cienfuegos affair with and
without the security law's veto, and Mexico's win-set on the comprehensive package.
(README.md beside this file.)"""

from __future__ import annotations

import pandas as pd

from experiments.common import EXPERIMENTS, ROOT, Numbers, linkage, savefig
from sim import plot

FOLDER = EXPERIMENTS / "two_level"
CONFIG_DIR = FOLDER.relative_to(ROOT)  # the variants in scenario/; commands run from ROOT
# variant -> scenario (scenario/ beside this file, or shipped) and extra overrides
VARIANTS = {
    "level II": ("cienfuegos_2020",),
    "misread": ("cienfuegos_2020", "ratification.noise=0.1"),
    "unitary": ("cienfuegos_2020_unitary",),
    "no affair": ("cienfuegos_2020_no_affair",),
}
STYLE = {
    "level II": ("#000000", "-"),
    "misread": (plot.MX, "-."),
    "unitary": (plot.US, "--"),
    "no affair": (plot.GREY, ":"),
}
ARREST, LAW, LATER = 10, 12, 22  # the shock, the law, and twelve episodes after the shock
EPISODES = 24
FRAMEWORKS = ("linked", "delinked")
MEASURES = {
    "trust_mx": "Mexican trust in the US",
    "agreement.security": "security cooperation",
    "trust_us": "US trust in Mexico",
    "agreement_rate": "agreement rate",
}
# Mexico's congress on the comprehensive package: it ratifies trade agreements and security
# cooperation alike and judges a package by both, equally weighted (stylised)
CONGRESS = "countries.MX.ratifiers=[{name: congress, salience: {trade: 0.5, security: 0.5}}]"
THRESHOLD = "countries.MX.ratifiers.congress.threshold"
THRESHOLDS = [round(0.05 * i, 2) for i in range(9)]
PRESSURES = [0.0, 0.25, 0.5, 0.75, 1.0]


def run() -> None:
    FOLDER.mkdir(exist_ok=True)
    say = Numbers(FOLDER)
    print("== two_level")
    traj = {}
    for name, (scenario, *extra) in VARIANTS.items():
        out = linkage(
            f"two_level_{name.replace(' ', '_')}",
            f"--config-dir={CONFIG_DIR}",
            f"scenario={scenario}",
            *extra,
            "framework=" + ",".join(FRAMEWORKS),
            "experiment=single",
            "replications=200",
            f"episodes={EPISODES}",
            "figures.enabled=false",
            multirun=True,
        )
        traj[name] = pd.read_csv(out / "trajectories.csv")
    cienfuegos(say, traj)
    draw_cienfuegos(traj)

    out = linkage(
        "two_level_winsets",
        "scenario=comprehensive_framework",
        CONGRESS,
        f"+map.axes={{{THRESHOLD}: {THRESHOLDS}, pressure: {PRESSURES}}}",
        "map.framework=[linked,delinked]",
        "replications=50",
        "figures.enabled=false",
    )
    cells = pd.read_csv(out / "cells.csv")
    winsets(say, cells)
    draw_winsets(cells)
    say.save()


def value(t: pd.DataFrame, framework: str, episode: int, metric: str) -> tuple[float, float]:
    row = t[(t.framework == framework) & (t.episode == episode)].iloc[0]
    return float(row[metric]), float(row[f"{metric}_ci95"])


def cienfuegos(say: Numbers, traj: dict[str, pd.DataFrame]) -> None:
    say("cienfuegos_2020, 200 replications, 24 episodes (one a month from January 2020): the")
    say(f"arrest at {ARREST}, the security law at {LAW}; values at episode {LATER}, twelve after")
    say("the arrest (mean ± 95% half-width over worlds):")
    for fw in FRAMEWORKS:
        say(f"  {fw}:")
        for metric, label in MEASURES.items():
            parts = []
            for name, t in traj.items():
                v, ci = value(t, fw, LATER, metric)
                parts.append(f"{name} {v:.3f} ± {ci:.3f}")
            say(f"    {label:40s} " + "; ".join(parts))
        for name in ("level II", "misread"):
            t = traj[name]
            after = t[(t.framework == fw) & (t.episode >= LAW)]
            say(
                f"    {name}: tables Mexico failed to ratify per episode, {LAW}-{EPISODES}: "
                f"{after.unratified_mx.mean():.3f}; issues lost to involuntary defection "
                f"{after.involuntary.mean():.3f}; Mexico's believed win-set on the whole package "
                f"{value(t, fw, LATER, 'winset_mx')[0]:.3f} of the frontier (before the law "
                f"{value(t, fw, ARREST, 'winset_mx')[0]:.3f})"
            )
    say()
    say(f"Does the shock last? At episode {LATER}, below the run without the affair by more than")
    say("the two 95% half-widths together, in both Mexican trust and security cooperation:")
    for fw in FRAMEWORKS:
        for name in ("level II", "misread", "unitary"):
            verdicts = []
            for metric in ("trust_mx", "agreement.security"):
                v, ci = value(traj[name], fw, LATER, metric)
                v0, ci0 = value(traj["no affair"], fw, LATER, metric)
                verdicts.append(v0 - v > ci + ci0)
                say(
                    f"  {fw:8s} {name:9s} {metric:18s} gap {v0 - v:+.3f} (half-widths "
                    f"{ci + ci0:.3f})"
                )
            say(f"  {fw:8s} {name:9s} -> {'LASTS' if all(verdicts) else 'does not last'}")


def winsets(say: Numbers, cells: pd.DataFrame) -> None:
    say()
    say("comprehensive_framework with a Mexican congress weighing trade and security equally,")
    say(f"its threshold θ ({THRESHOLD}) against US pressure; 50 replications x 20 episodes:")
    lk = cells[cells.framework == "linked"].pivot_table(
        index="pressure", columns=THRESHOLD, values="winset_mx"
    )
    say("  Mexico's believed win-set on the whole package (share of the frontier), rows pressure:")
    say.table(lk, "%.2f")
    for metric in ("agreement_rate", "mx_utility"):
        diff = plot.difference_grid(cells, metric, (THRESHOLD, "pressure"))[2]
        say(f"  {metric}: linked − delinked, rows pressure {PRESSURES}, columns θ {THRESHOLDS}:")
        say(
            pd.DataFrame(diff, index=PRESSURES, columns=THRESHOLDS).to_string(
                float_format=lambda v: f"{v:+.3f}"
            )
        )
    rate = cells[cells.framework == "linked"].pivot_table(
        index="pressure", columns=THRESHOLD, values="agreement_rate"
    )
    say(
        "  agreement rate of the linked framework (the package signed and ratified), rows pressure:"
    )
    say.table(rate, "%.2f")
    for pi in PRESSURES:
        ok = [t for t in THRESHOLDS if rate.loc[pi, t] >= 0.5]
        say(
            f"  pressure {pi:.2f}: the package passes in most episodes up to θ = {max(ok)}"
            if ok
            else f"  pressure {pi:.2f}: the package passes in most episodes at no θ"
        )


def draw_cienfuegos(traj: dict[str, pd.DataFrame]) -> None:
    fig, axes = plot.figure((9, 6.2), 2, 2, sharex=True, layout="constrained")
    for i, fw in enumerate(FRAMEWORKS):
        for j, metric in enumerate(("trust_mx", "agreement.security")):
            ax = axes[i, j]
            for name, t in traj.items():
                colour, dash = STYLE[name]
                r = t[t.framework == fw].sort_values("episode")
                ax.plot(r.episode, r[metric], dash, color=colour, label=name, lw=1.6)
                ax.fill_between(
                    r.episode,
                    r[metric] - r[f"{metric}_ci95"],
                    r[metric] + r[f"{metric}_ci95"],
                    color=colour,
                    alpha=0.12,
                )
            for ep, text, ha in (
                (ARREST, "arrest ", "right"),
                (LAW, " law", "left"),
                (LATER, " +12", "left"),
            ):
                ax.axvline(ep, color=plot.GREY, lw=0.8, ls=":" if ep == LATER else "-")
                ax.text(
                    ep,
                    0.03,
                    text,
                    fontsize=7,
                    color=plot.GREY,
                    ha=ha,
                    transform=ax.get_xaxis_transform(),
                )
            ax.set_ylim(0, 1)
            ax.set_ylabel("trust (0-1)" if metric.startswith("trust") else "share of worlds (0-1)")
            ax.set_title(f"{fw}: {MEASURES[metric]}", fontsize=9)
            if i == 1:
                ax.set_xlabel("episode (month from January 2020)")
    axes[0, 0].legend(fontsize=8, loc="lower left")
    fig.suptitle(
        "The Cienfuegos affair: the security law as a veto player (level II), as a "
        "weight only (unitary), and no affair; mean and 95% band",
        fontsize=10,
    )
    savefig(fig, FOLDER / "cienfuegos_level_two.png")


def draw_winsets(cells: pd.DataFrame) -> None:
    fig, axes = plot.figure((13, 4), 1, 3, layout="constrained")
    lk = cells[cells.framework == "linked"].pivot_table(
        index="pressure", columns=THRESHOLD, values="winset_mx"
    )
    mesh = axes[0].pcolormesh(
        lk.columns, lk.index, lk.to_numpy(), cmap="viridis", vmin=0, vmax=1, shading="nearest"
    )
    fig.colorbar(mesh, ax=axes[0]).set_label("share of the package's frontier (0-1)")
    axes[0].set_title("Mexico's believed win-set on the whole package")
    for ax, metric, title in (
        (axes[1], "agreement_rate", "agreement rate: linked − delinked"),
        (axes[2], "mx_utility", "Mexican utility: linked − delinked"),
    ):
        plot.difference_map(ax, cells, metric, title, short=True, axes=(THRESHOLD, "pressure"))
    for ax in axes:
        ax.set_xlabel(f"{THRESHOLD}\ncongress's margin over no deal θ (utility)")
        ax.set_ylabel(plot.AXIS_LABELS["pressure"])
    savefig(fig, FOLDER / "winset_map.png")
