"""The record as tests: every stylised pattern of seeds/patterns.yaml checked against the model,
before and after a calibration to them, and a prediction of the later patterns from the earlier
ones (README.md beside this file)."""

from __future__ import annotations

import shutil

import pandas as pd

from experiments.common import EXPERIMENTS, ROOT, Numbers, linkage

FOLDER = EXPERIMENTS / "record"
# rejection ABC: 4,000 prior draws, the 200 nearest kept, 400 simulated together
CALIBRATE = ["experiment=calibrate", "calibration.n=200", "calibration.quantile=0.05",
             "calibration.batch=400", "replications=20"]  # fmt: skip
UNTIL = "2020-12"


def run() -> None:
    FOLDER.mkdir(exist_ok=True)
    say = Numbers(FOLDER)
    print("== record")
    before = patterns(say, "record_before", "before calibration (scenario values)")
    shutil.copy(before / "figures" / "patterns.png", FOLDER / "patterns.png")

    fit = linkage("record_calibrate", *CALIBRATE)
    shutil.copy(fit / "calibration_record.yaml", ROOT / "conf" / "calibration" / "record.yaml")
    small(fit / "figures" / "posterior.png", FOLDER / "posterior.png")
    posterior(say, fit)
    after = patterns(say, "record_after", "after calibration (calibration=record)",
                     "calibration=record")  # fmt: skip
    shutil.copy(after / "figures" / "patterns.png", FOLDER / "patterns_calibrated.png")
    table = pd.concat([
        pd.read_csv(before / "patterns.csv").assign(when="before"),
        pd.read_csv(after / "patterns.csv").assign(when="after"),
    ])  # fmt: skip
    table.round(4).to_csv(FOLDER / "patterns.csv", index=False)

    early = linkage("record_until", *CALIBRATE, f"calibration.until={UNTIL}")
    out_of_sample(say, early)
    recovery(say, fit)
    outlook(say)
    say.save()


def small(src, dst, width: int = 1100) -> None:
    """A copy ``width`` pixels wide in 256 colours: the pair plot is large at full size."""
    from PIL import Image

    im = Image.open(src).convert("RGB")
    im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    im.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(dst)
    print(f"  wrote {dst.relative_to(ROOT)} ({dst.stat().st_size / 1024:.0f} KB)")


def patterns(say: Numbers, name: str, what: str, *extra: str):
    out = linkage(name, "experiment=patterns", *extra)
    t = pd.read_csv(out / "patterns.csv")
    say(f"{what}: {int(t['pass'].sum())} of {len(t)} patterns reproduced")
    for _, r in t.iterrows():
        say(f"  {'pass' if r['pass'] else 'FAIL'} {r['id']}: {r['value']:.3f} {r['test']} "
            f"{r['against']:.3f}; margin {r['margin']:+.3f} [{r['margin_low']:+.3f}, "
            f"{r['margin_high']:+.3f}]")  # fmt: skip
    say()
    return out


def posterior(say: Numbers, fit) -> None:
    post = pd.read_csv(fit / "posterior.csv")
    rates = pd.read_csv(fit / "predictive.csv")
    say("posterior of the free parameters (200 kept of 4,000 prior draws): mean [5%, 95%]")
    for name in post.columns.drop("distance"):
        q = post[name].quantile([0.05, 0.95])
        say(f"  {name:26s} {post[name].mean():8.3f} [{q.iloc[0]:.3f}, {q.iloc[1]:.3f}]")
    say(f"  distance of the kept draws: {post.distance.min():.3f} to {post.distance.max():.3f}")
    say("pass rate per pattern, posterior-predictive (prior-predictive):")
    for _, r in rates.iterrows():
        say(f"  {r['id']:42s} {r['posterior']:.2f} ({r['prior']:.2f})")
    say(f"  mean {rates.posterior.mean():.2f} ({rates.prior.mean():.2f})")
    say()


def out_of_sample(say: Numbers, early) -> None:
    rates = pd.read_csv(early / "predictive.csv")
    say(f"fitted to the patterns ending by {UNTIL}, predicting the later ones:")
    for use, part in rates.groupby("use", sort=False):
        say(f"  {use:9s} {len(part):2d} patterns: posterior-predictive pass rate "
            f"{part.posterior.mean():.2f}, prior-predictive {part.prior.mean():.2f}")  # fmt: skip
        for _, r in part.iterrows():
            say(f"    {r['id']:42s} {r['posterior']:.2f} ({r['prior']:.2f})")
    say()


def recovery(say: Numbers, fit) -> None:
    """Parameter recovery: patterns made from the model at the fitted point (each pattern's
    own run within +-0.02 of its value there), fitted by the same rejection ABC with the
    targets' own worlds (common random numbers); which parameters come back?"""
    import numpy as np

    from sim import patterns
    from sim.analysis import calibrate, record
    from sim.config import PRIORS

    names = list(PRIORS)
    theta = pd.read_csv(fit / "posterior.csv")[names].mean().to_numpy()
    found = patterns.load(ROOT / "seeds" / "patterns.yaml", ROOT / "seeds" / "evidence.yaml")
    synthetic = calibrate.recovery_patterns(found, names, theta, replications=20, seed=1)

    def simulate(X, seed):
        return record.margins(synthetic, names, X, 20, seed=1)

    priors = {k: tuple(v) for k, v in PRIORS.items()}
    result = calibrate.fit(priors, simulate, n=200, quantile=0.05, batch=400, seed=3)
    post = result.posterior
    say("parameter recovery (the fitted point as truth; 200 kept of 4,000 draws):")
    say("  parameter                   truth   posterior mean [5%, 95%]   covered  width/prior")
    for j, name in enumerate(names):
        lo, hi = np.quantile(post[:, j], [0.05, 0.95])
        ratio = (hi - lo) / (0.9 * (priors[name][1] - priors[name][0]))
        say(f"  {name:26s} {theta[j]:7.3f}   {post[:, j].mean():7.3f} [{lo:.3f}, {hi:.3f}]"
            f"   {'yes' if lo <= theta[j] <= hi else 'NO ':3s}      {ratio:.2f}")  # fmt: skip
    say()


def outlook(say: Numbers) -> None:
    """2025 on: the comprehensive framework linked and delinked at the fitted values."""
    out = linkage("record_outlook", "scenario=comprehensive_framework", "experiment=map",
                  "map.trust=[0.25]", "map.pressure=[0.6]", "map.framework=[linked,delinked]",
                  "calibration=record", "figures.enabled=false")  # fmt: skip
    cells = pd.read_csv(out / "cells.csv").set_index("framework")
    say("2025 on (comprehensive_framework at its trust 0.25 and pressure 0.6, fitted values):")
    for fw in ("linked", "delinked"):
        r = cells.loc[fw]
        say(f"  {fw:8s} Mexican utility {r.mx_utility:.3f} ± {r.mx_utility_ci95:.3f}, US "
            f"{r.us_utility:.3f} ± {r.us_utility_ci95:.3f}, final Mexican trust "
            f"{r.final_trust_mx:.3f}, unilateral actions {r.unilateral_actions:.3f}")  # fmt: skip
