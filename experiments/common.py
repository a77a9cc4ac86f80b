"""What every experiment shares: the ``linkage`` command, the numbers log, figure files,
and the in-process replay that reads what the output files do not hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim import plot

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
WORK = ROOT / "outputs" / "experiments"
LINKAGE = Path(sys.executable).parent / "linkage"
MAX_KB = 150  # the committed figures stay small enough for a repository and a README


def linkage(name: str, *args: str, multirun: bool = False) -> Path:
    """Run ``linkage ARGS`` into a fresh ``outputs/experiments/<name>``; return that folder.

    ``store=null``: the experiments always recompute, so their numbers come from the code
    as it is, never from a cell store filled by an older run.
    """
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
    """The numbers an experiment's README quotes: printed, and kept in its numbers.txt so
    that a rerun can be compared with the text."""

    def __init__(self, folder: Path):
        self.folder, self.lines = folder, []

    def __call__(self, text: str = "") -> None:
        print(text)
        self.lines.append(text)

    def table(self, df: pd.DataFrame, floatfmt="%.3f") -> None:
        self(df.to_string(float_format=lambda v: floatfmt % v))

    def save(self) -> None:
        (self.folder / "numbers.txt").write_text("\n".join(self.lines) + "\n")


def savefig(fig, path: Path, dpi: int = 90) -> None:
    """``fig`` as the PNG ``path`` at ``dpi``, warning when it grows past MAX_KB.

    Not ``plot.save``: it has no ``dpi``, and a figure saves at the dpi it was made with.
    """
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    kb = path.stat().st_size / 1024
    print(f"  wrote {path.relative_to(ROOT)} ({kb:.0f} KB)")
    if kb > MAX_KB:
        print(f"  warning: {path.name} is larger than {MAX_KB} KB")


def by_framework(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``metric`` with one row per (trust, pressure) and one column per framework."""
    return cells.pivot_table(index=["trust", "pressure"], columns="framework", values=metric)


def grid(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A (trust, pressure) indexed series as x (trust), y (pressure), z[pressure, trust]."""
    table = (
        values.rename("v").reset_index().pivot_table(index="pressure", columns="trust", values="v")
    )
    return table.columns.to_numpy(), table.index.to_numpy(), table.to_numpy()


def map_axes(ax, title: str) -> None:
    ax.set_xlabel(plot.AXIS_LABELS["trust"])
    ax.set_ylabel(plot.AXIS_LABELS["pressure"])
    ax.set_title(title, fontsize=9)


def positions(
    scenario: str,
    framework: str,
    *overrides: str,
    replications: int = 200,
    config_dir: Path | None = None,
):
    """Implemented positions per issue and Mexico's bargaining weights, by episode.

    The output files have no per-issue columns, so this replays one cell in process and
    reads, after each episode, the model's ``outcome`` (the US's value of an issue is its
    implemented position) and Mexico's negotiating salience after backlash. ``config_dir``
    is a folder of extra scenarios, as ``linkage --config-dir``.
    """
    from sim import design
    from sim.config import load
    from sim.model import LinkageModel

    cfg = load(
        [f"scenario={scenario}", "experiment=single", f"framework={framework}"]
        + [f"replications={replications}", *overrides],
        config_dir=config_dir,
    )
    model = LinkageModel(cfg, design.cells(cfg))
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
