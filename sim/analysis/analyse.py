"""After the runner: the analysis of ``experiment=sensitivity`` or ``experiment=discovery``
from the run's ``cells.csv``, written beside it (docs/model.md §11).

- ``points.csv``: every sampled row, its parameter values and its outcomes.
- sensitivity: ``indices.csv`` (per output and parameter: S1 and ST with their 95%
  intervals, or μ*, its interval, μ and σ) and, for Sobol' with second order,
  ``interactions.csv`` (S2 per pair).
- discovery: ``box.csv`` (PRIM's box and CART's leaf: each parameter's limits),
  ``peeling.csv`` (PRIM's trajectory) and ``discovery.txt`` (the boxes in words).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sim.analysis import discovery, outcomes, sensitivity, space
from sim.config import Config, ExperimentName
from sim.files import written_together

log = logging.getLogger("linkage")


def write(cfg: Config, out: Path, files: dict[str, Path]) -> dict[str, Path]:
    """The analysis of the run whose tables are ``files``; returns the files it wrote."""
    design = space.design(cfg)
    cells = pd.read_csv(files["cells"])
    sensitive = cfg.experiment.name is ExperimentName.sensitivity
    names = list(cfg.sensitivity.outputs) if sensitive else [cfg.discovery.output]
    Y = outcomes.of(cfg, design, cells, names)
    X = pd.DataFrame(design.X, columns=design.problem["names"])
    tables = {"points": pd.concat([X, Y], axis=1)}
    if sensitive:
        tables["indices"], pairs = sensitivity.indices(cfg, design, Y)
        if pairs is not None:
            tables["interactions"] = pairs
        for name in names:
            top = tables["indices"].query("output == @name").parameter.head(3)
            log.info("%s: most influential %s", name, ", ".join(top))
        text = None
    else:
        tables, text = _discover(cfg, X, Y[names[0]].to_numpy(), tables)
    paths = {name: out / f"{name}.csv" for name in tables}
    if text is not None:
        paths["discovery"] = out / "discovery.txt"
    with written_together(list(paths.values())) as tmp:
        for name, t in zip(paths, tmp, strict=True):
            if name == "discovery":
                t.write_text(text)
            else:
                tables[name].to_csv(t, index=name in ("box", "peeling"))
    return paths


def outcome_text(cfg: Config) -> str:
    """The case of interest in words, e.g. "premium.mx_utility < 0 (delinked pays more)"."""
    d = cfg.discovery
    sign = "<" if d.direction.value == "below" else ">"
    text = f"{d.output} {sign} {d.threshold:g}"
    if d.output.startswith("premium.") and d.threshold == 0:
        better = "delinked" if sign == "<" else "linked"
        text += f" (the {better} framework gives more)"
    return text


def _discover(cfg: Config, X: pd.DataFrame, values, tables: dict):
    d = cfg.discovery
    y = discovery.cases(values, d.direction.value, d.threshold)
    outcome = outcome_text(cfg)
    lines = [outcome, f"cases: {int(y.sum())} of {len(y)} points ({y.mean():.1%})"]
    prim, path = discovery.prim(X, y, d.density, d.mass_min, d.peel_alpha)
    tree = discovery.cart(X, y, d.mass_min, cfg.seed)
    if prim is None:
        lines.append("no box: the cases are none or all of the points")
        log.info("%s: %s", outcome, lines[-1])
        return tables, "\n".join(lines) + "\n"
    if prim.density < d.density:
        lines.append(f"no box on PRIM's trajectory reaches density {d.density:g}: the densest")
    lines.append(f"PRIM: {prim.sentence(outcome)}")
    lines.append(f"CART (check): {tree.sentence(outcome)}")
    log.info("%s", lines[-2])
    boxes = {
        name: b.limits[["low", "high", "restricted"]].assign(
            coverage=b.coverage, density=b.density, mass=b.mass
        )
        for name, b in (("prim", prim), ("cart", tree))
    }
    tables["box"] = pd.concat(boxes, names=["method"])
    tables["peeling"] = path
    return tables, "\n".join(lines) + "\n"
