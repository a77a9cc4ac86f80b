"""``experiment=calibrate``: approximate Bayesian computation of the model's free parameters
against the record's patterns (docs/model.md §11.2).

Rejection ABC with ELFI (Lintusaari et al. 2018): parameter points are drawn from the uniform
priors of ``calibration.priors`` in batches of ``calibration.batch``; each batch runs, as
per-world parameters of one model per scenario run, through every pattern (``sim.analysis.
record.margins``); the distance of a point is the size of its failures,

    d(theta) = sqrt( sum_p min(margin_p(theta), 0)^2 ),

so a point that reproduces every pattern is at distance 0; the ``calibration.quantile`` of
points nearest are kept as the posterior sample. The margins of the kept points are posterior-
predictive draws of each pattern, those of all points prior-predictive ones.

With ``calibration.until`` only the patterns whose period ends by then enter the distance;
the later patterns are then run at the kept points and at as many prior draws, and their pass
rates compared (out-of-sample prediction).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim import patterns
from sim.analysis import record
from sim.config import Config, ConfigError
from sim.files import written_together

log = logging.getLogger("linkage")


@dataclass
class Fit:
    """Rejection ABC's result: the prior draws and, of them, the kept (posterior) ones."""

    names: list[str]
    draws: np.ndarray  # (N, k) every prior draw
    margins: np.ndarray  # (N, P) their margins
    kept: np.ndarray  # (n,) indices of the draws kept, nearest first

    @property
    def posterior(self) -> np.ndarray:
        return self.draws[self.kept]

    @property
    def distance(self) -> np.ndarray:
        return distance(self.margins)


def distance(margins: np.ndarray) -> np.ndarray:
    """The size of a point's failures: sqrt(sum_p min(margin_p, 0)^2), (N,)."""
    return np.sqrt(np.sum(np.minimum(margins, 0.0) ** 2, axis=1))


class Checkpoint:
    """Simulated batches kept on disk (``folder/batch-<i>.npz``), so that an interrupted
    calibration resumes: ELFI draws the same points for the same seed, and a batch whose
    points are those kept is read back instead of simulated again."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def get(self, i: int, X: np.ndarray) -> np.ndarray | None:
        path = self.folder / f"batch-{i}.npz"
        if not path.exists():
            return None
        with np.load(path) as kept:
            if kept["X"].shape == X.shape and np.array_equal(kept["X"], X):
                return kept["margins"]
        return None

    def put(self, i: int, X: np.ndarray, margins: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with written_together([self.folder / f"batch-{i}.npz"]) as (tmp,):
            with open(tmp, "wb") as f:
                np.savez(f, X=X, margins=margins)


def fit(
    priors: dict[str, tuple[float, float]],
    simulate: Callable[[np.ndarray, int], np.ndarray],
    n: int,
    quantile: float,
    batch: int,
    seed: int,
    progress: bool = False,
    checkpoint: Checkpoint | None = None,
) -> Fit:
    """Rejection ABC with ELFI: ``n / quantile`` draws from the uniform ``priors``, each
    ``batch`` of them simulated at once by ``simulate(X (B, k), seed) -> margins (B, P)``; the
    ``n`` nearest (by :func:`distance`) are kept. With a ``checkpoint``, batches simulated
    before (an interrupted run of the same calibration) are read back."""
    import elfi

    names = list(priors)
    model = elfi.ElfiModel()
    nodes = [elfi.Prior("uniform", lo, hi - lo, model=model, name=_node(name))
             for name, (lo, hi) in priors.items()]  # fmt: skip
    seen_draws, seen_margins = [], []

    def simulator(*columns, batch_size=1, random_state=None):
        X = np.column_stack([np.asarray(c, float).reshape(batch_size) for c in columns])
        batch_seed = int(random_state.randint(2**31 - 1))
        i = len(seen_draws)
        m = checkpoint.get(i, X) if checkpoint is not None else None
        if m is None:
            m = simulate(X, batch_seed)
            if checkpoint is not None:
                checkpoint.put(i, X, m)
        else:
            log.info("calibrate: batch %d read back from %s", i + 1, checkpoint.folder)
        seen_draws.append(X)
        seen_margins.append(m)
        return m

    sim = elfi.Simulator(simulator, *nodes, observed=np.zeros((1, 1)), name="margins")
    elfi.Distance(lambda m, observed: distance(m), sim, name="d")
    total = int(np.ceil(n / quantile))
    elfi.Rejection(model["d"], batch_size=batch, seed=seed).sample(n, n_sim=total, bar=progress)
    draws, margins = np.concatenate(seen_draws), np.concatenate(seen_margins)
    kept = np.argsort(distance(margins), kind="stable")[:n]
    return Fit(names, draws, margins, kept)


def recovery_patterns(
    found: list[patterns.Pattern], names: list[str], theta: np.ndarray, replications: int,
    seed: int, delta: float = 0.02,
) -> list[patterns.Pattern]:  # fmt: skip
    """Patterns the model reproduces at the known point ``theta`` (k,), for a parameter
    recovery: each pattern's own run, its value at ``theta`` within +-``delta`` (two one-sided
    patterns; references are dropped)."""
    own = [replace(p, direction="above", against=0.0) for p in found]  # margin = the value
    at = record.margins(own, names, np.asarray(theta, float)[None, :], replications, seed)[0]
    out = []
    for p, v in zip(own, at, strict=True):
        low = replace(p, id=f"{p.id}.low", against=float(v - delta))
        out += [low, replace(p, id=f"{p.id}.high", direction="below", against=float(v + delta))]
    return out


def _node(name: str) -> str:
    return name.replace(".", "__")  # ELFI's node names are identifiers


def write(
    cfg: Config, out: Path, values: tuple[str, ...] = (), store: Path | None = None
) -> dict[str, Path]:
    """Calibrate to the patterns of ``cfg.patterns``; write posterior.csv, the posterior
    predictive pass rates, the fitted values as a config group option, and the figures.

    Simulated batches are kept under ``store`` (``store``, as the runner's cells) by a
    fingerprint of everything that decides them, so the same command resumes where an
    interrupted one stopped; without a store they are kept in the run directory."""
    c = cfg.calibration
    found = patterns.load(cfg.patterns.file, cfg.patterns.evidence)
    if cfg.patterns.ids:
        found = [p for p in found if p.id in cfg.patterns.ids]
    fitted = [p for p in found if c.until is None or p.end <= c.until]
    later = [p for p in found if p not in fitted]
    if not fitted:
        raise ConfigError("calibration.until", c.until, "a month by which a pattern ends")
    names = list(c.priors)

    def simulate(X, seed):
        log.info("calibrate: %d points through %d patterns", len(X), len(fitted))
        return record.margins(fitted, names, X, cfg.replications, seed, values)

    priors = {k: (float(v[0]), float(v[1])) for k, v in c.priors.items()}
    progress = cfg.output.progress
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")
    root = store if store is not None else out / ".cells"
    checkpoint = Checkpoint(root / "calibration" / _fingerprint(cfg, fitted, values))
    result = fit(priors, simulate, c.n, c.quantile, c.batch, cfg.seed, progress, checkpoint)
    post = pd.DataFrame(result.posterior, columns=names)
    post["distance"] = result.distance[result.kept]
    post["weight"] = 1.0 / len(post)  # rejection ABC: the kept draws weigh the same
    rates = _rates(fitted, result.margins[result.kept], result.margins, "fitted")
    if later:
        rng = np.random.default_rng(cfg.seed)
        lo, hi = np.array([priors[k] for k in names]).T
        prior_x = lo + (hi - lo) * rng.random((len(result.kept), len(names)))
        at_post = record.margins(later, names, result.posterior, cfg.replications, cfg.seed, values)
        at_prior = record.margins(later, names, prior_x, cfg.replications, cfg.seed, values)
        rates = pd.concat([rates, _rates(later, at_post, at_prior, "predicted")])
    paths = {"posterior": out / "posterior.csv", "predictive": out / "predictive.csv",
             "calibration": out / "calibration_record.yaml"}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with written_together(list(paths.values())) as (t_post, t_pred, t_yaml):
        post.to_csv(t_post, index=False)
        rates.to_csv(t_pred, index=False)
        t_yaml.write_text(option(cfg, post[names].mean(), len(fitted)))
    for kind, part in rates.groupby("use", sort=False):
        log.info("%s patterns: posterior-predictive pass rate %.2f (prior %.2f)", kind,
                 part.posterior.mean(), part.prior.mean())  # fmt: skip
    if cfg.figures.enabled and cfg.figures.formats:
        paths |= _figures(cfg, post, names, priors, out)
    return paths


def _fingerprint(cfg: Config, fitted, values) -> str:
    """What decides the simulated batches: the priors, the sizes, the seed, the patterns fitted
    and the model values; a change in any starts afresh."""
    import hashlib
    import json

    c = cfg.calibration
    what = {"priors": c.priors, "n": c.n, "quantile": c.quantile, "batch": c.batch,
            "seed": cfg.seed, "replications": cfg.replications, "values": list(values),
            "patterns": [repr(p) for p in fitted]}  # fmt: skip
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:24]


def _rates(found, posterior_margins, prior_margins, use: str) -> pd.DataFrame:
    """Each pattern's pass rate among posterior and prior-predictive draws."""
    return pd.DataFrame({
        "id": [p.id for p in found], "use": use, "period_end": [p.end for p in found],
        "posterior": (posterior_margins > patterns.TOL).mean(axis=0),
        "prior": (prior_margins > patterns.TOL).mean(axis=0),
    })  # fmt: skip


def option(cfg: Config, means: pd.Series, n_patterns: int) -> str:
    """The posterior means as a ``calibration`` config group option (conf/calibration/)."""
    c = cfg.calibration
    lines = [
        "# @package _global_",
        "# The free parameters at their posterior means, fitted by rejection ABC to the",
        f"# record's patterns ({n_patterns} of {cfg.patterns.file}"
        + (f", those ending by {c.until}" if c.until else "")
        + "):",
        f"#   linkage experiment=calibrate calibration.n={c.n} calibration.quantile={c.quantile} "
        f"calibration.batch={c.batch} replications={cfg.replications} seed={cfg.seed}",
    ]
    nested: dict = {"calibration": {"name": "record"}}
    for name, value in means.items():  # dotted names as the nested keys Hydra composes
        *parents, last = name.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = float(f"{value:.6g}")
    return "\n".join(lines) + "\n" + yaml.safe_dump(nested, sort_keys=False)


def _figures(cfg, post: pd.DataFrame, names, priors, out: Path) -> dict[str, Path]:
    from sim import plot

    k = len(names)
    fig, axes = plot.figure((2.2 * k, 2.2 * k), k, k, layout="constrained", squeeze=False)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(post[a], bins=20, range=priors[a], color=plot.US)
                ax.set_xlim(priors[a])
            elif i > j:
                ax.scatter(post[b], post[a], s=4, color=plot.US, alpha=0.5)
                ax.set_xlim(priors[b])
                ax.set_ylim(priors[a])
            else:
                ax.set_axis_off()
            if i == k - 1:
                ax.set_xlabel(b, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(a, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle(f"Posterior of the free parameters ({len(post)} kept draws; axes: prior ranges)")
    (out / "figures").mkdir(exist_ok=True)
    drawn = plot.save(fig, out / "figures" / "posterior", cfg.figures.formats)
    return {f"posterior.{p.suffix[1:]}": p for p in drawn}
