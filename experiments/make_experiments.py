"""Regenerate every experiment: run its commands, draw its figures, print its numbers.

    python experiments/make_experiments.py                      # all three experiments
    python experiments/make_experiments.py sequencing           # one (or several) by name

Each experiment runs the ``linkage`` commands its README shows (the console script next to
this Python, with ``store=null`` and an explicit run directory under the gitignored
``outputs/experiments/``), copies or draws its figures into ``experiments/<name>/`` and
prints the numbers the README quotes; the same numbers go to ``experiments/<name>/numbers.txt``
so that a rerun can be compared with the text. Runs are seeded (``seed=0``): the same code
gives the same numbers. The whole script takes two to three minutes on two cores.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402

from sim import plot  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
WORK = ROOT / "outputs" / "experiments"
LINKAGE = Path(sys.executable).parent / "linkage"
DPI = 90

# Okabe & Ito: countries as in sim.plot (US blue, Mexico vermillion); frameworks apart
FRAMEWORK_COLOUR = {"linked": "#009E73", "delinked": "#E69F00", "sequenced": "#CC79A7"}
FRAMEWORKS = list(FRAMEWORK_COLOUR)
SCENARIOS = [
    "baseline",
    "merida_2007",
    "tariff_threat_2019",
    "fto_threat_2019",
    "cienfuegos_2020",
    "bicentennial_2021",
    "zambada_2024",
    "comprehensive_framework",
    "north_american_treaty",
]
GRID_21 = "[" + ",".join(f"{i / 20:g}" for i in range(21)) + "]"


# --- running the command line --------------------------------------------------------------
def linkage(name: str, *args: str, multirun: bool = False) -> Path:
    """Run ``linkage ARGS`` into a fresh ``outputs/experiments/<name>``; return that folder."""
    out = WORK / name
    shutil.rmtree(out, ignore_errors=True)
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    cmd = [str(LINKAGE), *(["-m"] if multirun else []), *args, "store=null", f"{key}={out}"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    print(f"  [{time.perf_counter() - start:5.1f} s] linkage {' '.join(args)}", flush=True)
    return out


class Numbers:
    """The numbers an experiment's README quotes: printed, and kept in numbers.txt."""

    def __init__(self, folder: Path):
        self.folder, self.lines = folder, []

    def __call__(self, text: str = "") -> None:
        print(text)
        self.lines.append(text)

    def table(self, df: pd.DataFrame, floatfmt="%.3f") -> None:
        self(df.to_string(float_format=lambda v: floatfmt % v))

    def save(self) -> None:
        (self.folder / "numbers.txt").write_text("\n".join(self.lines) + "\n")


def savefig(fig, path: Path, dpi: int = DPI) -> None:
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    kb = path.stat().st_size / 1024
    print(f"  wrote {path.relative_to(ROOT)} ({kb:.0f} KB)")
    if kb > 150:
        print(f"  warning: {path.name} is larger than 150 KB")


def grid(cells: pd.DataFrame, values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A (trust, pressure) indexed series as x (trust), y (pressure), z[pressure, trust]."""
    table = (
        values.rename("v").reset_index().pivot_table(index="pressure", columns="trust", values="v")
    )
    return table.columns.to_numpy(), table.index.to_numpy(), table.to_numpy()


def diverging(ax, x, y, z, lim, label, contour=True):
    """A PuOr map centred on zero with its zero contour, in the style of sim.plot."""
    mesh = ax.pcolormesh(x, y, z, cmap="PuOr", norm=TwoSlopeNorm(0.0, -lim, lim), shading="nearest")
    if contour and np.nanmin(z) < 0 < np.nanmax(z):
        ax.contour(x, y, z, levels=[0.0], colors="black", linewidths=1.3)
    ax.set_xlabel("initial trust (both sides, 0-1)")
    ax.set_ylabel("US coercive pressure π (0-1)")
    ax.set_title(label, fontsize=9)
    return mesh


def by_framework(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    return cells.pivot_table(index=["trust", "pressure"], columns="framework", values=metric)


def zero_line(delta: pd.Series) -> list[str]:
    """For each trust, the pressures at which delinking pays Mexico (delta < 0)."""
    out = []
    for t, s in delta.groupby(level="trust"):
        neg = s[s < 0].index.get_level_values("pressure")
        span = f"{neg.min():.2f}-{neg.max():.2f} ({len(neg)} cells)" if len(neg) else "none"
        out.append(f"    trust {t:.2f}: delinking pays Mexico at pressure {span}")
    return out


# --- 1. the headline map -------------------------------------------------------------------
def linkage_map() -> None:
    folder = EXPERIMENTS / "linkage_map"
    folder.mkdir(exist_ok=True)
    say = Numbers(folder)
    print("== linkage_map")
    many = linkage("map_20")
    one = linkage("map_1", "episodes=1")
    for src, name in (
        (one, "map_mx_utility_1_episode.png"),
        (many, "map_mx_utility_20_episodes.png"),
    ):
        shutil.copy(src / "figures" / "map_mx_utility.png", folder / name)
        print(f"  copied {name}")
    shutil.copy(
        many / "figures" / "map_final_trust_mx.png", folder / "map_final_trust_mx_20_episodes.png"
    )
    # the mechanisms, each switched off in turn (50 replications: the maps are smooth enough)
    variants = {
        "20 episodes, trust frozen": ("frozen", "trust_prior=1e6"),
        "20 episodes, no backlash": ("no_backlash", "backlash.trust=0", "backlash.salience=0"),
        "20 episodes, no unilateral action": ("no_unilateral", "unilateral.rate=0"),
    }
    runs = {"1 episode": one, "20 episodes": many}
    for label, (name, *args) in variants.items():
        runs[label] = linkage(f"map_{name}", "replications=50", *args)
    cells = {k: pd.read_csv(v / "cells.csv") for k, v in runs.items()}
    trajs = pd.read_csv(many / "trajectories.csv")

    deltas = {}
    for label, c in cells.items():
        mx = by_framework(c, "mx_utility")
        deltas[label] = mx.linked - mx.delinked
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

    # why: the episode-by-episode difference at two cells, and the trust learning behind it
    say("Episode by episode at three cells (20-episode run; linked - delinked Mexican utility,")
    say("and Mexican trust in the US under each framework):")
    rows = []
    for t, p in ((0.3, 0.8), (0.1, 0.9), (0.5, 0.5)):
        here = trajs[np.isclose(trajs.trust, t) & np.isclose(trajs.pressure, p)]
        piv = here.pivot_table(
            index="episode", columns="framework", values=["mx_utility", "trust_mx"]
        )
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

    # figure: the five maps on one colour scale, and the difference over episodes
    lim = max(float(np.nanmax(np.abs(d.to_numpy()))) for d in deltas.values())
    fig, axes = plt.subplots(2, 3, figsize=(12.5, 7.4), layout="constrained")
    for ax, (label, d) in zip(axes.flat, deltas.items(), strict=False):
        x, y, z = grid(cells[label], d)
        mesh = diverging(
            ax, x, y, z, lim, f"{label}:\ndelinking pays Mexico in {np.mean(d < 0):.0%} of cells"
        )
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
    for (t, p), style in (((0.3, 0.8), "-"), ((0.1, 0.9), "--"), ((0.5, 0.5), ":")):
        here = trajs[np.isclose(trajs.trust, t) & np.isclose(trajs.pressure, p)]
        piv = here.pivot_table(index="episode", columns="framework", values="mx_utility")
        ax.plot(
            piv.index,
            piv.linked - piv.delinked,
            style,
            color=plot.MX,
            label=f"trust {t}, pressure {p}",
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("episode")
    ax.set_ylabel("Mexican utility, linked − delinked")
    ax.set_title("full model, episode by episode, at three cells", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.suptitle(
        "baseline: where linkage pays Mexico, and which mechanism moves the line", fontsize=11
    )
    savefig(fig, folder / "mechanisms.png", dpi=80)
    say.save()


# --- 2. the historical episodes ------------------------------------------------------------
EVENTS = {  # the dated events each trajectory panel marks (episode, label)
    "tariff_threat_2019": [(6, "threat")],
    "fto_threat_2019": [(4, "threat"), (5, "withdrawn")],
    "cienfuegos_2020": [(10, "arrest"), (12, "law"), (13, "new US admin.")],
    "zambada_2024": [(7, "capture")],
    "merida_2007": [(7, "Allende")],
}


def positions(scenario: str, framework: str, *overrides: str, replications: int = 200):
    """Implemented positions per issue and Mexico's bargaining weights, by episode.

    The output files have no per-issue columns, so this replays one cell in process and
    reads, after each episode, the model's ``outcome`` (the US's value of an issue is its
    implemented position) and Mexico's negotiating salience after backlash.
    """
    from sim import runner
    from sim.config import load
    from sim.model import LinkageModel

    cfg = load(
        [f"scenario={scenario}", "experiment=single", f"framework={framework}"]
        + [f"replications={replications}", *overrides]
    )
    model = LinkageModel(cfg, runner.cells_for(cfg))
    x, salience_mx = [], []
    for _ in range(cfg.episodes):
        model.step()
        x.append(model.outcome.v_us.mean(axis=0))
        salience_mx.append(model.mx.salience.mean(axis=0))
    index = pd.RangeIndex(1, cfg.episodes + 1, name="episode")
    return (
        pd.DataFrame(np.array(x), columns=cfg.issues, index=index),
        pd.DataFrame(np.array(salience_mx), columns=cfg.issues, index=index),
    )


def historical_episodes() -> None:
    folder = EXPERIMENTS / "historical_episodes"
    folder.mkdir(exist_ok=True)
    say = Numbers(folder)
    print("== historical_episodes")
    sweep = linkage(
        "historical",
        "scenario=" + ",".join(SCENARIOS),
        "framework=" + ",".join(FRAMEWORKS),
        "experiment=single",
        "replications=200",
        "figures.enabled=false",
        multirun=True,
    )
    cells = pd.read_csv(sweep / "cells.csv")
    traj = pd.read_csv(sweep / "trajectories.csv")
    # counterfactuals: the same scenario without its unilateral action or threat
    cienfuegos_later = (
        "[{episode: 12, type: salience, country: MX, issue: sovereignty, value: 0.5},"
        "{episode: 13, type: pressure, value: 0.2},"
        "{episode: 13, type: trust_shock, country: US, value: 0.3}]"
    )
    counter = {
        scenario: linkage(
            label,
            f"scenario={scenario}",
            "framework=linked,delinked",
            "experiment=single",
            "replications=200",
            "figures.enabled=false",
            f"events={events}",
            multirun=True,
        )
        for scenario, label, events in (
            ("tariff_threat_2019", "cf_tariff", "[]"),
            ("cienfuegos_2020", "cf_cienfuegos", cienfuegos_later),
            ("zambada_2024", "cf_zambada", "[]"),
        )
    }
    cf_traj = {k: pd.read_csv(v / "trajectories.csv") for k, v in counter.items()}

    cols = [*SUMMARY_COLUMNS, "linked"]
    summary = cells.set_index(["scenario", "framework"])
    cis = summary[
        [f"{c}_ci95" for c in ("mx_utility", "us_utility", "final_trust_mx", "final_trust_us")]
    ]
    summary = summary[cols]
    summary = summary.reindex(pd.MultiIndex.from_product([SCENARIOS, FRAMEWORKS]))
    summary.round(4).to_csv(folder / "summary.csv", index_label=["scenario", "framework"])
    say("Every scenario x framework, 200 replications, the scenario's own trust, pressure and")
    say("episodes; means over worlds and episodes (final_trust_*: after the last episode):")
    say.table(summary)
    say()
    say("The same as a Markdown table (for the README):")
    say(markdown(summary))

    def at(df, scenario, framework, episode, metric):
        row = df[(df.scenario == scenario) & (df.framework == framework) & (df.episode == episode)]
        return float(row[metric].iloc[0])

    # tariff threat: migration and trade positions before and after the threat
    say()
    say("tariff_threat_2019: implemented positions (1 = US ideal), mean over worlds")
    for fw in ("linked", "delinked"):
        x, _ = positions("tariff_threat_2019", fw)
        x0, _ = positions("tariff_threat_2019", fw, "events=[]")
        say(
            f"  {fw:8s} migration: episodes 1-5 {x.migration.loc[1:5].mean():.3f}, 6-20 "
            f"{x.migration.loc[6:].mean():.3f} (no escalation: {x0.migration.loc[6:].mean():.3f}); "
            f"trade: 1-5 {x.trade.loc[1:5].mean():.3f}, 6-20 {x.trade.loc[6:].mean():.3f} "
            f"(no escalation: {x0.trade.loc[6:].mean():.3f})"
        )
        if fw == "linked":
            x_linked, x_linked_nothreat = x, x0
        else:
            x_delinked = x

    def late(df, fw, metric):
        t = df[(df.scenario == "tariff_threat_2019") & (df.framework == fw)]
        return t[t.episode >= 6][metric].mean()

    cf = cf_traj["tariff_threat_2019"]
    for fw in ("linked", "delinked"):
        say(
            f"  {fw:8s} Mexican trust in the US: episode 5 "
            f"{at(traj, 'tariff_threat_2019', fw, 5, 'trust_mx'):.3f}, episode 20 "
            f"{at(traj, 'tariff_threat_2019', fw, 20, 'trust_mx'):.3f} (no escalation: "
            f"{at(cf, 'tariff_threat_2019', fw, 20, 'trust_mx'):.3f}); episodes 6-20: US utility "
            f"{late(traj, fw, 'us_utility'):.3f} (no escalation {late(cf, fw, 'us_utility'):.3f}), "
            f"Mexican utility {late(traj, fw, 'mx_utility'):.3f} (no escalation "
            f"{late(cf, fw, 'mx_utility'):.3f}), threats executed "
            f"{late(traj, fw, 'threats_executed'):.3f}"
        )

    # FTO threat: the threat month
    say()
    say("fto_threat_2019: around the threat (episode 4) and its withdrawal (episode 5)")
    for fw in ("linked", "delinked"):
        x, _ = positions("fto_threat_2019", fw)
        say(
            f"  {fw:8s} drugs position ep 3/4/6: {x.drugs.loc[3]:.3f}/{x.drugs.loc[4]:.3f}/"
            f"{x.drugs.loc[6]:.3f}; arms position ep 3/4/5/6: "
            + "/".join(f"{x.arms.loc[e]:.3f}" for e in (3, 4, 5, 6))
            + "; US utility ep 3/4/6: "
            + "/".join(f"{at(traj, 'fto_threat_2019', fw, e, 'us_utility'):.3f}" for e in (3, 4, 6))
            + "; Mexican trust ep 3/4/5/8: "
            + "/".join(
                f"{at(traj, 'fto_threat_2019', fw, e, 'trust_mx'):.3f}" for e in (3, 4, 5, 8)
            )
        )

    # Cienfuegos and Zambada: the trust collapse and the sovereignty backlash
    for scenario, shock, label in (
        ("cienfuegos_2020", 10, "the arrest"),
        ("zambada_2024", 7, "the capture"),
    ):
        say()
        say(f"{scenario}: Mexican trust in the US and Mexico's bargaining weight on sovereignty")
        cf = cf_traj[scenario]
        for fw in ("linked", "delinked"):
            _, s = positions(scenario, fw)
            trust = [
                at(traj, scenario, fw, e, "trust_mx") for e in (shock - 1, shock, shock + 2, 20)
            ]
            cf_trust = [
                float(cf[(cf.framework == fw) & (cf.episode == e)].trust_mx.iloc[0])
                for e in (shock, 20)
            ]
            say(
                f"  {fw:8s} trust before/at/2 after {label}/end: "
                + "/".join(f"{v:.3f}" for v in trust)
                + f" (without it, at {label} and end: {cf_trust[0]:.3f}/{cf_trust[1]:.3f});"
                f" sovereignty weight before/after {label}/end: {s.sovereignty.loc[shock - 1]:.3f}/"
                f"{s.sovereignty.loc[shock]:.3f}/{s.sovereignty.loc[20]:.3f}"
            )
        if scenario == "cienfuegos_2020":
            say(
                "  US trust in Mexico, linked, episodes 12/13/20: "
                + "/".join(
                    f"{at(traj, scenario, 'linked', e, 'trust_us'):.3f}" for e in (12, 13, 20)
                )
            )

    say()
    say("merida_2007: US trust in Mexico around the Allende shock (episode 7), linked/delinked:")
    for fw in ("linked", "delinked"):
        say(
            f"  {fw:8s} episodes 6/7/8/12/20: "
            + "/".join(
                f"{at(traj, 'merida_2007', fw, e, 'trust_us'):.3f}" for e in (6, 7, 8, 12, 20)
            )
        )
    say()
    say(
        "bicentennial_2021, sequenced: share of worlds on one table, episodes 1-10: "
        + "/".join(
            f"{at(traj, 'bicentennial_2021', 'sequenced', e, 'linked'):.2f}" for e in range(1, 11)
        )
    )
    say(
        "  trust (US, Mexico) at episode 5: "
        f"{at(traj, 'bicentennial_2021', 'sequenced', 5, 'trust_us'):.3f}, "
        f"{at(traj, 'bicentennial_2021', 'sequenced', 5, 'trust_mx'):.3f}"
    )

    _dot_plot(pd.concat([summary, cis.reindex(summary.index)], axis=1), folder / "summary.png")
    _trust_figure(traj, cf_traj, folder / "trust_after_shocks.png")
    _positions_figure(x_linked, x_linked_nothreat, x_delinked, folder / "tariff_positions.png")
    say.save()


# The summary table's columns (cells.csv names) and their headings.
SUMMARY = {
    "mx_utility": "MX utility",
    "us_utility": "US utility",
    "agreement_rate": "agreement",
    "efficiency": "efficiency",
    "final_trust_mx": "final MX trust",
    "final_trust_us": "final US trust",
    "unilateral_actions": "unilateral / ep.",
    "reneged": "reneged / ep.",
}
SUMMARY_COLUMNS = list(SUMMARY)


def markdown(summary: pd.DataFrame) -> str:
    heads, cols = list(SUMMARY.values()), SUMMARY_COLUMNS
    lines = [
        "| scenario | framework | " + " | ".join(heads) + " |",
        "|---" * (len(heads) + 2) + "|",
    ]
    for (scenario, fw), row in summary.iterrows():
        name = scenario if fw == FRAMEWORKS[0] else ""
        lines.append(f"| {name} | {fw} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")
    return "\n".join(lines)


def _dot_plot(summary: pd.DataFrame, path: Path) -> None:
    metrics = [
        ("mx_utility", "Mexican utility (0-1)"),
        ("us_utility", "US utility (0-1)"),
        ("final_trust_mx", "final Mexican trust in the US (0-1)"),
        ("final_trust_us", "final US trust in Mexico (0-1)"),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(14, 4.8), sharey=True, layout="constrained")
    ypos = np.arange(len(SCENARIOS))[::-1]
    for ax, (m, label) in zip(axes, metrics, strict=True):
        for j, fw in enumerate(FRAMEWORKS):
            rows = summary.xs(fw, level=1).loc[SCENARIOS]
            ax.errorbar(
                rows[m],
                ypos + (1 - j) * 0.22,
                xerr=rows[f"{m}_ci95"],
                fmt="o",
                color=FRAMEWORK_COLOUR[fw],
                ms=5,
                elinewidth=1,
                capsize=0,
                label=fw,
            )
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
        for y in ypos:
            ax.axhline(y, color="0.9", lw=0.6, zorder=0)
    axes[0].set_yticks(ypos, SCENARIOS)
    fig.legend(
        *axes[0].get_legend_handles_labels(),
        title="framework",
        loc="outside lower center",
        ncols=3,
        fontsize=8,
        title_fontsize=8,
    )
    fig.suptitle(
        "Each scenario at its own trust and pressure: means over 200 worlds and the "
        "scenario's episodes (bars: 95% intervals)",
        fontsize=10,
    )
    savefig(fig, path)


WITHOUT = {
    "tariff_threat_2019": "no June escalation",
    "cienfuegos_2020": "no arrest",
    "zambada_2024": "no capture",
}


def _trust_figure(traj, cf_traj, path: Path) -> None:
    panels = ["tariff_threat_2019", "fto_threat_2019", "cienfuegos_2020", "zambada_2024"]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.8), sharey=True, layout="constrained")
    for ax, scenario in zip(axes, panels, strict=True):
        for fw in ("linked", "delinked"):
            d = traj[(traj.scenario == scenario) & (traj.framework == fw)].sort_values("episode")
            ax.plot(d.episode, d.trust_mx, color=FRAMEWORK_COLOUR[fw], lw=1.8, label=f"{fw}")
            if scenario in cf_traj:
                c = cf_traj[scenario]
                c = c[c.framework == fw].sort_values("episode")
                ax.plot(
                    c.episode,
                    c.trust_mx,
                    "--",
                    color=FRAMEWORK_COLOUR[fw],
                    lw=1.2,
                    label=f"{fw}, {WITHOUT[scenario]}",
                )
        for e, text in EVENTS.get(scenario, []):
            ax.axvline(e, color="0.4", lw=0.8, ls=":")
            ax.text(e + 0.2, 0.04, text, rotation=90, fontsize=7, color="0.3", va="bottom")
        ax.set_title(scenario, fontsize=9)
        ax.set_xlabel("episode")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="upper left")
    axes[0].set_ylabel("Mexican trust in the US (0-1)")
    fig.suptitle(
        "Mexican trust after threats and unilateral action (mean over 200 worlds)", fontsize=10
    )
    savefig(fig, path)


def _positions_figure(linked, linked_nothreat, delinked, path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True, layout="constrained")
    colours = {
        "trade": "#56B4E9",
        "security": "#0072B2",
        "migration": "#D55E00",
        "sovereignty": "#000000",
    }
    for ax, (x, title) in zip(
        axes,
        (
            (linked, "linked (threat from episode 6)"),
            (linked_nothreat, "linked, no June escalation (pressure stays 0.3)"),
            (delinked, "delinked (the threat has no table)"),
        ),
        strict=True,
    ):
        for issue, colour in colours.items():
            ax.plot(x.index, x[issue], color=colour, lw=1.8, label=issue)
        ax.axvline(6, color="0.4", lw=0.8, ls=":")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("episode (month; 6 = June 2019)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("implemented position (1 = US ideal)")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("tariff_threat_2019: where each issue settles (mean over 200 worlds)", fontsize=10)
    savefig(fig, path)


# --- 3. sequencing -------------------------------------------------------------------------
def versus_best(cells: pd.DataFrame, metric: str):
    """Sequenced minus the better pure framework, with the 95% noise band of that difference."""
    t = by_framework(cells, metric)
    ci = by_framework(cells, f"{metric}_ci95")
    linked_best = t.linked >= t.delinked
    best = t.linked.where(linked_best, t.delinked)
    best_ci = ci.linked.where(linked_best, ci.delinked)
    return t.sequenced - best, np.sqrt(ci.sequenced**2 + best_ci**2), linked_best


SEQ_METRICS = (
    ("mx_utility", "Mexican utility"),
    ("us_utility", "US utility"),
    ("nash_product", "Nash product"),
)


def sequencing() -> None:
    folder = EXPERIMENTS / "sequencing"
    folder.mkdir(exist_ok=True)
    say = Numbers(folder)
    print("== sequencing")
    coarse = "[" + ",".join(f"{i / 10:g}" for i in range(11)) + "]"
    maps = {
        "baseline": linkage(
            "sequencing",
            "map.framework=[linked,delinked,sequenced]",
            "replications=50",
            "figures.enabled=false",
        ),
        "bicentennial_2021": linkage(
            "sequencing_bicentennial",
            "scenario=bicentennial_2021",
            "map.framework=[linked,delinked,sequenced]",
            "replications=50",
            "figures.enabled=false",
            f"map.trust={coarse}",
            f"map.pressure={coarse}",
        ),
    }
    tables = {k: pd.read_csv(v / "cells.csv") for k, v in maps.items()}
    results = {}
    for scenario, cells in tables.items():
        n = cells[["trust", "pressure"]].drop_duplicates().shape[0]
        say(f"{scenario}: {n} trust x pressure cells, 50 replications of 20 episodes, link_at 0.7.")
        say("  sequenced - the better of linked and delinked (for that side); 'clearly' = by more")
        say("  than the 95% noise band of the difference:")
        for metric, label in SEQ_METRICS:
            d, noise, linked_best = versus_best(cells, metric)
            results[(scenario, metric)] = (d, noise)
            say(
                f"  {label:16s} sequenced better in {np.mean(d > 0):5.1%} of cells, clearly in "
                f"{np.mean(d > noise):5.1%}, clearly worse in {np.mean(d < -noise):5.1%}; largest "
                f"gain {d.max():+.4f} at trust {d.idxmax()[0]:.2f}, pressure {d.idxmax()[1]:.2f}; "
                f"median {d.median():+.4f}; worst {d.min():+.4f} at trust {d.idxmin()[0]:.2f}, "
                f"pressure {d.idxmin()[1]:.2f}; linked is the better pure framework in "
                f"{linked_best.mean():5.1%} of cells"
            )
        d, noise = results[(scenario, "mx_utility")]
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
        share = by_framework(cells, "linked").sequenced
        results[(scenario, "linked")] = share
        say(
            "  share of episodes sequenced runs on one table, mean over pressure, at trust "
            "0.1 / 0.3 / 0.5 / 0.7 / 0.9: "
            + " / ".join(
                f"{share.xs(t, level='trust').mean():.2f}" for t in (0.1, 0.3, 0.5, 0.7, 0.9)
            )
        )
    # other thresholds, baseline, 11 x 11 (sequenced only: the pure frameworks do not
    # depend on link_at, and every cell has its own random stream, so the pure cells of the
    # 21 x 21 run serve)
    say("baseline, other thresholds (11 x 11 cells): sequenced clearly better / clearly worse")
    say("than the better pure framework, for Mexico; for the US; by Nash product:")
    base = tables["baseline"]
    base = base[
        base.trust.isin(np.round(np.arange(11) / 10, 2))
        & base.pressure.isin(np.round(np.arange(11) / 10, 2))
    ]
    for link_at in (0.5, 0.6, 0.7, 0.8, 0.9):
        r = linkage(
            f"sequencing_link_at_{link_at}",
            "map.framework=[sequenced]",
            f"framework.link_at={link_at}",
            "replications=50",
            "figures.enabled=false",
            f"map.trust={coarse}",
            f"map.pressure={coarse}",
        )
        seq = pd.read_csv(r / "cells.csv")
        both = pd.concat([base[base.framework != "sequenced"], seq])
        parts = []
        for metric, _ in SEQ_METRICS:
            d, noise, _ = versus_best(both, metric)
            parts.append(f"{np.mean(d > noise):4.0%} / {np.mean(d < -noise):4.0%}")
        say(
            f"  link_at {link_at}: "
            + "; ".join(parts)
            + f"; share of episodes linked {seq.linked.mean():.2f}"
        )

    fig, axes = plt.subplots(2, 4, figsize=(16, 7.4), layout="constrained")
    for row, scenario in enumerate(tables):
        cells = tables[scenario]
        for col, (metric, label) in enumerate(SEQ_METRICS):
            ax = axes[row, col]
            d, noise = results[(scenario, metric)]
            x, y, z = grid(cells, d)
            lim = float(np.nanmax(np.abs(z))) or 1e-9
            mesh = diverging(
                ax,
                x,
                y,
                z,
                lim,
                f"{scenario}, {label}:\nsequenced − better pure framework",
                contour=False,
            )
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
            fig.colorbar(mesh, ax=ax, label="difference (>0: sequencing pays)")
        ax = axes[row, 3]
        x, y, z = grid(cells, results[(scenario, "linked")])
        mesh = ax.pcolormesh(x, y, z, cmap="Greys", vmin=0, vmax=1, shading="nearest")
        ax.set_xlabel("initial trust (both sides, 0-1)")
        ax.set_ylabel("US coercive pressure π (0-1)")
        ax.set_title(f"{scenario}, sequenced:\nshare of episodes run on one table", fontsize=9)
        fig.colorbar(mesh, ax=ax, label="share of episodes linked (0-1)")
    fig.suptitle(
        "Confidence first, then one table (link at trust 0.7): sequenced minus the better of "
        "linked and delinked, for each side; dots where the gain exceeds the 95% noise band",
        fontsize=10,
    )
    savefig(fig, folder / "sequenced_vs_best.png", dpi=72)
    say.save()


EXPERIMENTS_TO_RUN = {
    "linkage_map": linkage_map,
    "historical_episodes": historical_episodes,
    "sequencing": sequencing,
}


def main(argv: list[str]) -> None:
    names = argv or list(EXPERIMENTS_TO_RUN)
    unknown = [n for n in names if n not in EXPERIMENTS_TO_RUN]
    if unknown:
        sys.exit(f"unknown experiment {unknown[0]!r}; choose from {list(EXPERIMENTS_TO_RUN)}")
    start = time.perf_counter()
    for name in names:
        EXPERIMENTS_TO_RUN[name]()
    print(f"done in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
