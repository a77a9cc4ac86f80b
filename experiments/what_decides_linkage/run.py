"""What decides whether linkage pays: Sobol' and Morris indices of the linkage premium, and
the region where delinking pays Mexico (README.md beside this file)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd

from experiments.common import EXPERIMENTS, ROOT, Numbers, linkage

FOLDER = EXPERIMENTS / "what_decides_linkage"
OUTPUTS = ("premium.mx_utility", "premium.us_utility", "premium.joint_utility",
           "linked.final_trust_mx")  # fmt: skip
FIGURES = {  # run, figure -> the name it is committed under
    ("sobol", "indices_premium.mx_utility.png"): "sobol_premium_mx.png",
    ("sobol", "indices_premium.us_utility.png"): "sobol_premium_us.png",
    ("sobol", "indices_linked.final_trust_mx.png"): "sobol_final_trust_mx.png",
    ("morris", "indices_premium.mx_utility.png"): "morris_premium_mx.png",
    ("discovery", "peeling.png"): "peeling.png",
}


def run() -> None:
    FOLDER.mkdir(exist_ok=True)
    say = Numbers(FOLDER)
    print("== what_decides_linkage")
    runs = {
        "sobol": linkage("what_decides_sobol", "experiment=sensitivity", "space.dummy=true"),
        "morris": linkage(
            "what_decides_morris",
            "experiment=sensitivity",
            "sensitivity.method=morris",
            "space.dummy=true",
        ),  # fmt: skip
        "discovery": linkage("what_decides_discovery", "experiment=discovery"),
    }
    for (name, figure), committed in FIGURES.items():
        shutil.copy(runs[name] / "figures" / figure, FOLDER / committed)
        print(f"  wrote {(FOLDER / committed).relative_to(ROOT)}")
    sobol = pd.read_csv(runs["sobol"] / "indices.csv")
    morris = pd.read_csv(runs["morris"] / "indices.csv")
    indices(say, sobol, morris)
    interactions(say, pd.read_csv(runs["sobol"] / "interactions.csv"))
    premium_sign(say, pd.read_csv(runs["sobol"] / "points.csv"))
    box = discovered(say, runs["discovery"])
    record(say, box)
    pairing(say)
    say.save()


def indices(say: Numbers, sobol: pd.DataFrame, morris: pd.DataFrame) -> None:
    say("Sobol' (N = 1024, 16 parameters and a dummy: 36,864 points x 2 frameworks, 20")
    say("replications of 20 episodes, paired streams). Per outcome: the six largest total")
    say("indices ST [95% interval], S1, and the dummy's; the sum of S1 (1 = additive model).")
    for out in OUTPUTS:
        t = sobol[sobol.output == out].set_index("parameter")
        say(f"  {out}: sum of S1 {t.S1.drop('dummy').sum():.2f}")
        for name, r in t.drop("dummy").head(6).iterrows():
            say(
                f"    {name:36s} ST {r.ST:5.2f} [{r.ST_low:5.2f}, {r.ST_high:5.2f}]  "
                f"S1 {r.S1:5.2f} [{r.S1_low:5.2f}, {r.S1_high:5.2f}]"
            )
        d = t.loc["dummy"]
        say(f"    {'dummy (never read)':36s} ST {d.ST:5.2f}  S1 {d.S1:5.2f}")
    say()
    say("Morris (100 trajectories, 4 levels, 1,800 points) against Sobol': the top five by mu*")
    say("and by ST, and the parameters they share.")
    for out in OUTPUTS:
        m = morris[(morris.output == out) & (morris.parameter != "dummy")]
        s = sobol[(sobol.output == out) & (sobol.parameter != "dummy")]
        top_m, top_s = list(m.parameter.head(5)), list(s.parameter.head(5))
        shared = [p for p in top_m if p in top_s]
        dummy = morris[(morris.output == out) & (morris.parameter == "dummy")].mu_star.iloc[0]
        say(f"  {out}: {len(shared)} of 5 shared; Morris {top_m}; Sobol' {top_s}; "
            f"dummy mu* {dummy:.2g}")  # fmt: skip
    say()


def interactions(say: Numbers, pairs: pd.DataFrame) -> None:
    say("The largest pair interactions S2 of Mexico's premium [95% interval]:")
    t = pairs[(pairs.output == "premium.mx_utility") & (pairs["with"] != "dummy")]
    for _, r in t.nlargest(3, "S2").iterrows():
        say(f"  {r.parameter} x {r['with']}: {r.S2:.3f} [{r.S2_low:.3f}, {r.S2_high:.3f}]")
    say()


def premium_sign(say: Numbers, points: pd.DataFrame) -> None:
    p = points.drop_duplicates(subset=[c for c in points.columns if c != "dummy"])
    mx, us = p["premium.mx_utility"], p["premium.us_utility"]
    say(f"Over the Sobol' sample's {len(p):,} distinct points:")
    joint = p["premium.joint_utility"]
    say(f"  delinking pays Mexico (premium < 0) at {np.mean(mx < 0):.1%}; linkage pays the US "
        f"at {np.mean(us > 0):.1%}; joint premium > 0 at {np.mean(joint > 0):.1%}")  # fmt: skip
    say(f"  Mexico's premium: median {mx.median():+.4f}, 5-95% {mx.quantile(0.05):+.4f} to "
        f"{mx.quantile(0.95):+.4f}")  # fmt: skip
    say()


def discovered(say: Numbers, out) -> None:
    say("Scenario discovery (4,000 Latin-hypercube points, paired streams):")
    for line in (out / "discovery.txt").read_text().splitlines():
        say(f"  {line}")
    box = pd.read_csv(out / "box.csv")
    prim = box[(box.method == "prim") & box.restricted]
    for _, r in prim.iterrows():
        say(f"  PRIM limits {r.parameter}: {r.low:.3f} to {r.high:.3f}")
    say()
    return prim.set_index("parameter")


HISTORY = ("tariff_threat_2019", "fto_threat_2019", "cienfuegos_2020", "bicentennial_2021",
           "zambada_2024")  # fmt: skip


def record(say: Numbers, box: pd.DataFrame) -> None:
    """Where the shipped historical scenarios (their values cited from seeds/evidence.yaml)
    sit against PRIM's box, parameter by restricted parameter; pressure at its highest."""
    from sim.config import load

    say("The historical scenarios against PRIM's box (restricted parameters only; pressure at")
    say("its highest over the scenario's events):")
    for name in HISTORY:
        cfg = load([f"scenario={name}", "experiment=single"])
        peak = max([cfg.pressure] + [e.value for e in cfg.events if e.type.value == "pressure"])
        verdicts = []
        for param, r in box.iterrows():
            v = peak if param == "pressure" else value(cfg, param)
            ok = r.low <= v <= r.high
            verdicts.append(
                (ok, f"{param} {v:g} {'in' if ok else 'OUT of'} [{r.low:.2f}, {r.high:.2f}]")
            )
        inside = all(ok for ok, _ in verdicts)
        say(
            f"  {name}: {'inside' if inside else 'outside'} the box; "
            + "; ".join(t for _, t in verdicts)
        )
    say()


def value(cfg, name: str) -> float:
    """A parameter's value in a config, per-issue weights included."""
    node = cfg
    for part in name.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return float(node)


def pairing(say: Numbers) -> None:
    """The premium's noise with and without common random numbers: each design run with two
    seeds; the spread of the difference between seeds is twice the noise's variance."""
    say("Common random numbers: the noise of Mexico's premium at a point (sd between two seeds,")
    say("over 500 Latin-hypercube points, 20 replications) with and without paired streams:")
    sd = {}
    for paired in ("true", "false"):
        seeds = []
        for seed in (0, 1):
            out = linkage(
                f"what_decides_pairing_{paired}_{seed}", "experiment=discovery",
                "discovery.n=500", f"experiment.paired={paired}", f"seed={seed}",
                "figures.enabled=false", "space.seed=0",
            )  # fmt: skip
            seeds.append(pd.read_csv(out / "points.csv")["premium.mx_utility"])
        sd[paired] = float(np.std(seeds[0] - seeds[1], ddof=1) / np.sqrt(2))
    yes, no = sd["true"], sd["false"]
    say(f"  paired: sd {yes:.4f} (95% interval +-{1.96 * yes:.4f}); unpaired: sd {no:.4f} "
        f"(+-{1.96 * no:.4f}); paired / unpaired {yes / no:.2f}")  # fmt: skip
