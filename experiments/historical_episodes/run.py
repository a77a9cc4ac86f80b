"""The historical episodes: every shipped scenario linked, delinked and sequenced, and three
counterfactuals (scenario/ beside this file). Does the model reproduce what the papers
report? (README.md beside this file.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.common import EXPERIMENTS, ROOT, Numbers, linkage, positions, savefig
from sim import plot
from sim.config import scenario_names

FOLDER = EXPERIMENTS / "historical_episodes"
CONFIG_DIR = FOLDER.relative_to(ROOT)  # the counterfactual scenarios; commands run from ROOT
FRAMEWORKS = ["linked", "delinked", "sequenced"]
# The table's order: the reference case, the episodes in time, then the papers' proposals.
# Every shipped scenario runs; one this list does not know comes last.
ORDER = [
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
# scenario -> its counterfactual in scenario/ (the same minus one event), and the legend's words
COUNTERFACTUALS = {
    "tariff_threat_2019": ("tariff_threat_2019_without_escalation", "no June escalation"),
    "cienfuegos_2020": ("cienfuegos_2020_without_arrest", "no arrest"),
    "zambada_2024": ("zambada_2024_without_capture", "no capture"),
}
# The trust panels, and the dated events each marks: (episode, what happened)
MARKS = {
    "tariff_threat_2019": [(6, "threat")],
    "fto_threat_2019": [(4, "threat"), (5, "withdrawn")],
    "cienfuegos_2020": [(10, "arrest"), (12, "law"), (13, "new US admin.")],
    "zambada_2024": [(7, "capture")],
}
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


def scenarios() -> list[str]:
    shipped = scenario_names()
    return [s for s in ORDER if s in shipped] + sorted(set(shipped) - set(ORDER))


def at(df: pd.DataFrame, scenario: str, framework: str, episode: int, metric: str) -> float:
    row = df[(df.scenario == scenario) & (df.framework == framework) & (df.episode == episode)]
    return float(row[metric].iloc[0])


def markdown(summary: pd.DataFrame) -> str:
    heads = list(SUMMARY.values())
    lines = [
        "| scenario | framework | " + " | ".join(heads) + " |",
        "|---" * (len(heads) + 2) + "|",
    ]
    for (scenario, fw), row in summary.iterrows():
        name = scenario if fw == FRAMEWORKS[0] else ""
        lines.append(f"| {name} | {fw} | " + " | ".join(f"{row[c]:.3f}" for c in SUMMARY) + " |")
    return "\n".join(lines)


def run() -> None:
    FOLDER.mkdir(exist_ok=True)
    say = Numbers(FOLDER)
    print("== historical_episodes")
    names = scenarios()
    single = ["experiment=single", "replications=200", "figures.enabled=false"]
    sweep = linkage(
        "historical",
        "scenario=" + ",".join(names),
        "framework=" + ",".join(FRAMEWORKS),
        *single,
        multirun=True,
    )
    cells = pd.read_csv(sweep / "cells.csv")
    traj = pd.read_csv(sweep / "trajectories.csv")
    cf_traj = {}
    for scenario, (counterfactual, _) in COUNTERFACTUALS.items():
        out = linkage(
            counterfactual,
            f"--config-dir={CONFIG_DIR}",
            f"scenario={counterfactual}",
            "framework=linked,delinked",
            *single,
            multirun=True,
        )
        cf_traj[scenario] = pd.read_csv(out / "trajectories.csv")

    summary = cells.set_index(["scenario", "framework"])
    summary = summary.reindex(pd.MultiIndex.from_product([names, FRAMEWORKS]))
    summary[[*SUMMARY, "linked"]].round(4).to_csv(
        FOLDER / "summary.csv", index_label=["scenario", "framework"]
    )
    say("Every scenario x framework, 200 replications, the scenario's own trust, pressure and")
    say("episodes; means over worlds and episodes (final_trust_*: after the last episode):")
    say.table(summary[[*SUMMARY, "linked"]])
    say()
    say("The same as a Markdown table (for the README):")
    say(markdown(summary))
    tariff = tariff_threat(say, traj, cf_traj["tariff_threat_2019"])
    coercive_bundle(say, tariff)
    fto_threat(say, traj)
    shocks(say, traj, cf_traj)
    merida_and_bicentennial(say, traj)

    draw_summary(summary, names)
    draw_trust(traj, cf_traj)
    draw_positions(tariff)
    say.save()


def tariff_threat(say: Numbers, traj, cf) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Migration and trade before and after the threat, with and without it; returns the
    positions, {framework: (with the escalation, without it)}."""
    say()
    say("tariff_threat_2019: implemented positions (1 = US ideal), mean over worlds")
    counterfactual, _ = COUNTERFACTUALS["tariff_threat_2019"]
    out = {}
    for fw in ("linked", "delinked"):
        x, _ = positions("tariff_threat_2019", fw)
        x0, _ = positions(counterfactual, fw, config_dir=ROOT / CONFIG_DIR)
        out[fw] = x, x0
        say(
            f"  {fw:8s} migration: episodes 1-5 {x.migration.loc[1:5].mean():.3f}, 6-20 "
            f"{x.migration.loc[6:].mean():.3f} (no escalation: {x0.migration.loc[6:].mean():.3f}); "
            f"trade: 1-5 {x.trade.loc[1:5].mean():.3f}, 6-20 {x.trade.loc[6:].mean():.3f} "
            f"(no escalation: {x0.trade.loc[6:].mean():.3f})"
        )

    def late(df, fw, metric):
        t = df[(df.scenario == "tariff_threat_2019") & (df.framework == fw)]
        return t[t.episode >= 6][metric].mean()

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
    return out


def coercive_bundle(say: Numbers, tariff) -> None:
    """The record's June 2019 as a choice (framework=chosen framework.rule=coercive): is the
    bundle of the lever (trade) and migration accepted once pressure jumps at episode 6, and
    does Mexico's migration position move toward the US by more than under delinked; and
    without the escalation, is the bundle refused or migration left where it was?"""
    counterfactual, _ = COUNTERFACTUALS["tariff_threat_2019"]
    coercive = ("framework.rule=coercive",)
    say()
    say("tariff_threat_2019 with framework=chosen framework.rule=coercive (200 replications):")
    runs = {
        "escalation": linkage("historical_coercive", "scenario=tariff_threat_2019",
                              "experiment=single", "framework=chosen", *coercive,
                              "replications=200", "figures.enabled=false"),
        "no escalation": linkage("historical_coercive_cf", f"--config-dir={CONFIG_DIR}",
                                 f"scenario={counterfactual}", "experiment=single",
                                 "framework=chosen", *coercive, "replications=200",
                                 "figures.enabled=false"),
    }  # fmt: skip
    x = {
        "escalation": positions("tariff_threat_2019", "chosen", *coercive)[0],
        "no escalation": positions(counterfactual, "chosen", *coercive,
                                   config_dir=ROOT / CONFIG_DIR)[0],
    }  # fmt: skip
    for name, out in runs.items():
        t = pd.read_csv(out / "trajectories.csv").set_index("episode")
        accepted = t.threats - t.blocked_mx  # offered (a threat), less refused
        m = x[name].migration
        say(
            f"  {name:13s} bundle offered in {t.threats.loc[1:5].mean():.0%} of worlds in "
            f"episodes 1-5 and {t.threats.loc[6]:.0%} at episode 6, accepted in "
            f"{accepted.loc[1:5].mean():.0%} and {accepted.loc[6]:.0%}; migration position "
            f"1-5 {m.loc[1:5].mean():.3f}, 6-20 {m.loc[6:].mean():.3f} (moved "
            f"{m.loc[6:].mean() - m.loc[1:5].mean():+.3f}); trade 1-5 "
            f"{x[name].trade.loc[1:5].mean():.3f}, 6-20 {x[name].trade.loc[6:].mean():.3f}"
        )
    d = tariff["delinked"][0].migration
    say(f"  delinked      migration position 1-5 {d.loc[1:5].mean():.3f}, 6-20 "
        f"{d.loc[6:].mean():.3f} (moved {d.loc[6:].mean() - d.loc[1:5].mean():+.3f})")  # fmt: skip


def fto_threat(say: Numbers, traj) -> None:
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


def shocks(say: Numbers, traj, cf_traj) -> None:
    """Cienfuegos and Zambada: the trust collapse and the sovereignty backlash."""
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
            cf_trust = [at(cf, scenario, fw, e, "trust_mx") for e in (shock, 20)]
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


def merida_and_bicentennial(say: Numbers, traj) -> None:
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


def draw_summary(summary: pd.DataFrame, names: list[str]) -> None:
    metrics = [
        ("mx_utility", "Mexican utility (0-1)"),
        ("us_utility", "US utility (0-1)"),
        ("final_trust_mx", "final Mexican trust in the US (0-1)"),
        ("final_trust_us", "final US trust in Mexico (0-1)"),
    ]
    fig, axes = plot.figure((14, 4.8), 1, 4, sharey=True, layout="constrained")
    ypos = np.arange(len(names))[::-1]
    for ax, (m, label) in zip(axes, metrics, strict=True):
        for j, fw in enumerate(FRAMEWORKS):
            rows = summary.xs(fw, level=1).loc[names]
            ax.errorbar(
                rows[m],
                ypos + (1 - j) * 0.22,
                xerr=rows[f"{m}_ci95"],
                fmt="o",
                color=plot.FRAMEWORK_COLOURS[fw],
                ms=5,
                elinewidth=1,
                capsize=0,
                label=fw,
            )
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
        for y in ypos:
            ax.axhline(y, color="0.9", lw=0.6, zorder=0)
    axes[0].set_yticks(ypos, names)
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
    savefig(fig, FOLDER / "summary.png")


def draw_trust(traj, cf_traj) -> None:
    fig, axes = plot.figure((15, 3.8), 1, len(MARKS), sharey=True, layout="constrained")
    for ax, (scenario, marks) in zip(axes, MARKS.items(), strict=True):
        runs = [(traj[traj.scenario == scenario], "-", "")]
        if scenario in COUNTERFACTUALS:
            runs.append((cf_traj[scenario], "--", f", {COUNTERFACTUALS[scenario][1]}"))
        for df, style, suffix in runs:
            for fw in ("linked", "delinked"):
                d = df[df.framework == fw].sort_values("episode")
                colour = plot.FRAMEWORK_COLOURS[fw]
                plot.band(ax, d.episode, d.trust_mx, d.trust_mx_ci95, colour, fw + suffix, style)
        for e, text in marks:
            ax.axvline(e, color=plot.GREY, lw=0.8, ls=":")
            ax.text(e + 0.2, 0.04, text, rotation=90, fontsize=7, color=plot.GREY, va="bottom")
        ax.set_title(scenario, fontsize=9)
        ax.set_xlabel("episode (month)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="upper left")
    axes[0].set_ylabel("Mexican trust in the US (0-1)")
    fig.suptitle(
        "Mexican trust after threats and unilateral action (mean over 200 worlds, 95% bands; "
        "dashed: without the shock)",
        fontsize=10,
    )
    savefig(fig, FOLDER / "trust_after_shocks.png")


def draw_positions(x: dict[str, tuple[pd.DataFrame, pd.DataFrame]]) -> None:
    """One panel per issue: where it settles, by framework, with and without the threat."""
    without = COUNTERFACTUALS["tariff_threat_2019"][1]
    issues = list(x["linked"][0].columns)
    fig, axes = plot.figure((15, 3.8), 1, len(issues), sharey=True, layout="constrained")
    for ax, issue in zip(axes, issues, strict=True):
        for fw, runs in x.items():
            for df, style, label in zip(runs, ("-", "--"), (fw, f"{fw}, {without}"), strict=True):
                colour = plot.FRAMEWORK_COLOURS[fw]
                ax.plot(df.index, df[issue], style, color=colour, lw=1.8, label=label)
        ax.axvline(6, color=plot.GREY, lw=0.8, ls=":")
        ax.set_title(issue, fontsize=9)
        ax.set_xlabel("episode (month; 6 = June 2019)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("implemented position (1 = US ideal)")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(
        "tariff_threat_2019: where each issue settles (mean over 200 worlds; dashed: pressure "
        "stays 0.3, no June escalation)",
        fontsize=10,
    )
    savefig(fig, FOLDER / "tariff_positions.png")
