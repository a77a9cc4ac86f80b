"""``experiment=patterns``: the record's stylised patterns (``sim.patterns``) checked against
the model.

Every distinct run the patterns read (a scenario, a framework and its edits) is simulated once,
in process, with the experiment's ``replications`` and ``seed`` and the model values set on the
command line (``trust_prior=20`` applies to every scenario); every pattern then reads its
metric, averaged over its episodes, from its run and from its reference. A pattern's *margin*
is how far the value lies on the side the record says: value minus what it is compared with
for ``above``, the reverse for ``below``. It passes when the whole 95% interval of the margin
(worlds as independent draws) is positive: reproduced beyond Monte Carlo noise.

Writes ``patterns.csv`` and, with figures, ``figures/patterns.png``; prints
"k of n patterns reproduced".
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import patterns
from sim.config import Config
from sim.config import load as load_config
from sim.files import written_together

log = logging.getLogger("linkage")
Z = 1.959963984540054  # the normal quantile of a two-sided 95% interval


@dataclass(frozen=True)
class Estimate:
    """A metric averaged over a run's episodes and worlds, and its 95% half-width."""

    value: float
    half_width: float
    sd: float
    n: int


def _group(run: patterns.Run) -> tuple:
    return run.scenario, run.framework, run.overrides


def _needed(found: list[patterns.Pattern]) -> dict[tuple, set[str]]:
    """The distinct runs the patterns read (their own and their references), each with the
    metrics read from it."""
    needed: dict[tuple, set[str]] = {}
    for p in found:
        for r in (p.run, p.against):
            if isinstance(r, patterns.Run):
                needed.setdefault(_group(r), set()).add(r.metric)
    return needed


# what the command line of experiment=patterns sets that is not a model value for its runs
NOT_FOR_RUNS = ("experiment", "patterns", "calibration", "scenario", "framework",
                "replications", "seed", "hydra", "figures", "output", "store", "jobs", "map",
                "design")  # fmt: skip


def model_overrides(task: list[str]) -> list[str]:
    """The model values among the command line's overrides (Hydra's ``overrides.task``), and
    the choice of a fitted set (``calibration=record``): they apply to every run, after its
    scenario and before the pattern's own edits."""
    keep = []
    for o in task:
        key = o.lstrip("+~").split("=", 1)[0]
        if key == "calibration" or key.split(".")[0] not in NOT_FOR_RUNS:  # a fitted set: kept
            keep.append(o)
    return keep


def simulate(group: tuple, metrics: set[str], replications: int, seed: int,
             values: tuple[str, ...] = ()) -> dict:  # fmt: skip
    """One run of ``group`` (scenario, framework, overrides), with the model ``values`` (Hydra
    overrides) set first: per metric, (episodes, worlds). The one-point batch of
    :func:`simulate_points` that sets no parameter: the scenario's own cell."""
    batch = simulate_points(group, metrics, [], np.empty((1, 0)), replications, seed, values)
    return {m: a[:, 0, :] for m, a in batch.items()}


def estimate(series: np.ndarray, run: patterns.Run) -> Estimate:
    """``run``'s metric from its (episodes, worlds) series: each world's mean over the
    episodes, then the mean over worlds (worlds where it is undefined left out)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a world with no defined value
        per_world = np.nanmean(series[run.first - 1 : run.last], axis=0)
    per_world = per_world[np.isfinite(per_world)]
    n = len(per_world)
    if n == 0:
        return Estimate(np.nan, np.nan, np.nan, 0)
    sd = float(np.std(per_world, ddof=1)) if n > 1 else 0.0
    return Estimate(float(np.mean(per_world)), Z * sd / np.sqrt(n), sd, n)


def evaluate(found: list[patterns.Pattern], replications: int, seed: int,
             values: tuple[str, ...] = ()) -> pd.DataFrame:  # fmt: skip
    """One row per pattern: its value, what it is compared with, the margin and the verdict."""
    needed = _needed(found)
    series = {}
    for i, (group, metrics) in enumerate(needed.items(), 1):
        log.info("patterns: run %d of %d: %s", i, len(needed), " ".join([*group[:2], *group[2]]))
        series[group] = simulate(group, metrics, replications, seed, values)

    def of(run):
        return estimate(series[_group(run)][run.metric], run)

    rows = []
    for p in found:
        v = of(p.run)
        if isinstance(p.against, patterns.Run):
            a = of(p.against)
            reference = _describe(p.against, p.run)
        else:
            a, reference = Estimate(p.against, 0.0, 0.0, 0), "a number from the papers"
        sign = 1.0 if p.direction == "above" else -1.0
        margin = sign * (v.value - a.value)
        half = float(np.hypot(v.half_width, a.half_width))
        rows.append(
            {
                "id": p.id,
                "scenario": p.run.scenario,
                "framework": p.run.framework,
                "metric": p.run.metric,
                "episodes": f"{p.run.first}-{p.run.last}",
                "period": f"{p.start}..{p.end}",
                "test": f"{p.direction} {reference}",
                "value": v.value,
                "value_low": v.value - v.half_width,
                "value_high": v.value + v.half_width,
                "against": a.value,
                "against_low": a.value - a.half_width,
                "against_high": a.value + a.half_width,
                "margin": margin,
                "margin_low": margin - half,
                "margin_high": margin + half,
                # reproduced beyond Monte Carlo noise: the whole interval on the record's side
                "pass": bool(margin - half > patterns.TOL),
            }
        )
    return pd.DataFrame(rows)


def _describe(ref: patterns.Run, run: patterns.Run) -> str:
    """What a reference changes from the pattern's own run, in words."""
    parts = []
    for name in ("scenario", "framework", "metric"):
        if getattr(ref, name) != getattr(run, name):
            parts.append(f"{name} {getattr(ref, name)}")
    if (ref.first, ref.last) != (run.first, run.last):
        parts.append(f"episodes {ref.first}-{ref.last}")
    if ref.overrides != run.overrides:
        parts.append("edited: " + " ".join(ref.overrides))
    return "the same run with " + "; ".join(parts)


def figure(table: pd.DataFrame):
    """One row per pattern: its margin and 95% interval; the pass region shaded."""
    from sim import plot

    n = len(table)
    fig, ax = plot.figure((9, 1.4 + 0.3 * n), layout="constrained")  # a row per pattern
    y = np.arange(n)[::-1]
    lim = float(np.nanmax(np.abs(table[["margin_low", "margin_high"]].to_numpy()))) * 1.1 or 1.0
    ax.axvspan(0, lim, color=plot.AGREE, alpha=0.12, lw=0)
    ax.axvline(0, color="black", lw=0.8)
    colours = np.where(table["pass"], plot.AGREE, plot.MX)
    ax.errorbar(
        table.margin,
        y,
        xerr=[table.margin - table.margin_low, table.margin_high - table.margin],
        fmt="none",
        ecolor=colours,
        elinewidth=1.4,
    )
    ax.scatter(table.margin, y, c=colours, marker="o", zorder=3, s=22)
    names = zip(table.id, table.scenario, table.framework, strict=True)
    ax.set_yticks(y, [f"{i} ({s}, {f})" for i, s, f in names], fontsize=7)
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(
        "margin in the record's direction (the metric's units); shaded: reproduced;\n"
        "bars: 95% intervals over worlds; orange: not reproduced (the bar not wholly > 0)"
    )
    ax.set_title(f"The record's patterns: {int(table['pass'].sum())} of {n} reproduced")
    return fig


def write(cfg: Config, out: Path, values: tuple[str, ...] = ()) -> dict[str, Path]:
    """Check the patterns of ``cfg.patterns``; write ``patterns.csv`` (and the figure)."""
    found = patterns.load(cfg.patterns.file, cfg.patterns.evidence)
    if cfg.patterns.ids:
        found = [p for p in found if p.id in cfg.patterns.ids]
    table = evaluate(found, cfg.replications, cfg.seed, values)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"patterns": out / "patterns.csv"}
    with written_together(list(paths.values())) as (tmp,):
        table.to_csv(tmp, index=False)
    if cfg.figures.enabled and cfg.figures.formats:
        from sim import plot

        (out / "figures").mkdir(exist_ok=True)
        drawn = plot.save(figure(table), out / "figures" / "patterns", cfg.figures.formats)
        paths |= {f"figure.{p.suffix[1:]}": p for p in drawn}
    print(f"linkage: {int(table['pass'].sum())} of {len(table)} patterns reproduced")
    return paths


def simulate_points(
    group: tuple, metrics: set[str], names: list[str], X: np.ndarray, replications: int,
    seed: int, values: tuple[str, ...] = (),
) -> dict:  # fmt: skip
    """``group`` at each of the B parameter points ``X`` (B, k) (columns ``names``), as one
    batch of per-world parameters (docs/model.md §10): per metric, (episodes, B, replications)."""
    from sim import cells, params
    from sim.model import LinkageModel

    scenario, framework, overrides = group
    run = [f"scenario={scenario}", f"framework={framework}", "experiment=single"]
    cfg = load_config([*run, f"replications={replications}", f"seed={seed}", *values, *overrides])
    points = [
        cells.make(cfg.scenario.name, framework,
                   params.point(cfg, dict(zip(names, map(float, row), strict=True))),
                   cfg.trust, cfg.pressure)
        for row in X
    ]  # fmt: skip
    model = LinkageModel(cfg, points)
    out = {m: np.empty((cfg.episodes, len(X), replications)) for m in metrics}
    for e in range(cfg.episodes):
        model.step()
        for m in metrics:
            out[m][e] = model.metrics[m].reshape(len(X), replications)
    return out


def margins(found: list[patterns.Pattern], names: list[str], X: np.ndarray, replications: int,
            seed: int, values: tuple[str, ...] = ()) -> np.ndarray:  # fmt: skip
    """Every pattern's margin (B, P) at each parameter point of ``X`` (B, k): the batched
    simulator of the calibration (``sim.analysis.calibrate``)."""
    series = {g: simulate_points(g, m, names, X, replications, seed, values)
              for g, m in _needed(found).items()}  # fmt: skip

    def of(run):  # (B,): each point's mean over its worlds of their episode means
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            window = series[_group(run)][run.metric][run.first - 1 : run.last]
            return np.nanmean(np.nanmean(window, axis=0), axis=1)

    out = np.empty((len(X), len(found)))
    for j, p in enumerate(found):
        against = of(p.against) if isinstance(p.against, patterns.Run) else p.against
        out[:, j] = (1.0 if p.direction == "above" else -1.0) * (of(p.run) - against)
    return out
