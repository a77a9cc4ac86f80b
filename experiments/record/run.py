"""The record as tests: every stylised pattern of seeds/patterns.yaml checked against the model
at the scenarios' own values (README.md beside this file)."""

from __future__ import annotations

import shutil

import pandas as pd

from experiments.common import EXPERIMENTS, Numbers, linkage

FOLDER = EXPERIMENTS / "record"


def run() -> None:
    FOLDER.mkdir(exist_ok=True)
    say = Numbers(FOLDER)
    print("== record")
    out = linkage("record_patterns", "experiment=patterns")
    table = pd.read_csv(out / "patterns.csv")
    shutil.copy(out / "figures" / "patterns.png", FOLDER / "patterns.png")
    table.round(4).to_csv(FOLDER / "patterns.csv", index=False)
    k, n = int(table["pass"].sum()), len(table)
    say(f"{k} of {n} patterns reproduced (200 worlds per run, each scenario at its own values)")
    say()
    for _, r in table.iterrows():
        verdict = "pass" if r["pass"] else "FAIL"
        sure = "" if r["sure"] else " (interval crosses 0)"
        say(f"  {verdict} {r['id']}: {r['metric']} over episodes {r['episodes']} of "
            f"{r['scenario']} {r['framework']} = {r['value']:.3f} [{r['value_low']:.3f}, "
            f"{r['value_high']:.3f}], {r['test']} {r['against']:.3f}; margin {r['margin']:+.3f} "
            f"[{r['margin_low']:+.3f}, {r['margin_high']:+.3f}]{sure}")  # fmt: skip
    by_period = table.assign(late=table.period.str[:4] >= "2021")
    for late, part in by_period.groupby("late"):
        when = "2021 and later" if late else "up to 2020"
        say(f"  periods {when}: {int(part['pass'].sum())} of {len(part)} reproduced")
    say.save()
