"""Parameters as batch axes: every numeric model parameter may differ from world to world
(docs/model.md §10).

A parameter is named as on the command line, by its dotted config name: ``threat.size``,
``countries.MX.concession``, ``framework.link_at``. A country's salience or disagreement
values are named one issue at a time (``countries.MX.salience.sovereignty``) or as a whole
vector (``countries.MX.salience``: a list in the order of ``issues``, or a mapping from
issue to value). Setting some of a country's weights leaves the others in proportion,
scaled so that all still sum to 1.

:func:`point` checks one point's values as the config would and puts them in canonical
form; :func:`per_world` turns the points of a batch into arrays over its worlds, (W,) or
(W, n): a plain config is the case where every world has the same values.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from functools import cache

import numpy as np

from sim.config import UNIT, Config, ConfigError, Range, RatifierConfig

SIDES = ("US", "MX")
VECTORS = ("salience", "disagreement")  # per-issue values of a country
VECTOR_NAMES = tuple(f"countries.{s}.{v}" for s in SIDES for v in VECTORS)
# Parts of the config that are not model parameters, and whole-number settings that shape
# the batch itself (they cannot differ between the worlds of one batch).
NOT_PARAMETERS = {
    "experiment", "map", "design", "space", "sensitivity", "discovery", "patterns", "calibration",
    "output",
    "figures",
    "events", "scenario",
}  # fmt: skip
STRUCTURAL = {"seed", "replications", "episodes", "rounds", "jobs", "shards", "shard"}


@cache
def scalars() -> dict[str, Range | None]:
    """Every numeric scalar parameter, by dotted name, with its allowed range."""
    out: dict[str, Range | None] = {}

    def walk(schema, prefix: str) -> None:
        for f in fields(schema):
            name = f"{prefix}{f.name}"
            if not prefix and (f.name in NOT_PARAMETERS or f.name in STRUCTURAL):
                continue
            default = f.default_factory() if callable(f.default_factory) else f.default
            if is_dataclass(default):
                walk(type(default), f"{name}.")
            elif "float" in str(f.type) and "dict" not in str(f.type) and "list" not in str(f.type):
                out[name] = f.metadata.get("rule")

    walk(Config, "")
    return out


# a ratifier's numeric fields, with the ranges its schema gives them
RATIFIER_SCALARS = {
    f.name: f.metadata["rule"] for f in fields(RatifierConfig) if f.name in ("threshold", "weight")
}


def ratifier_names(cfg: Config) -> list[str]:
    """Each ratifier's parameters (docs/model.md §4.1): ``countries.<side>.ratifiers.<name>.``
    ``threshold``, ``weight`` and ``salience.<issue>``."""
    out = []
    for side in SIDES:
        for r in getattr(cfg.countries, side).ratifiers:
            base = f"countries.{side}.ratifiers.{r.name}"
            out += [f"{base}.{k}" for k in RATIFIER_SCALARS]
            out += [f"{base}.salience.{k}" for k in cfg.issues]
    return out


def names(cfg: Config) -> list[str]:
    """Every parameter name a point may set, for this config's issues."""
    per_issue = [f"{v}.{k}" for v in VECTOR_NAMES for k in cfg.issues]
    return [*scalars(), *VECTOR_NAMES, *per_issue, *ratifier_names(cfg)]


def _unknown(cfg: Config, name: str, value) -> ConfigError:
    parts = name.split(".")
    if len(parts) > 4 and parts[0] == "countries" and parts[2] == "ratifiers":
        known = [r.name for r in getattr(cfg.countries, parts[1], cfg.countries.MX).ratifiers]
        return ConfigError(
            name, value, f"a parameter of a ratifier in countries.{parts[1]}.ratifiers {known}: "
            "threshold, weight or salience.<issue>",
        )  # fmt: skip
    close = difflib.get_close_matches(name, names(cfg), n=3)
    hint = f"did you mean {' or '.join(close)}?" if close else "docs/model.md §10 lists them"
    structural = name in STRUCTURAL or name.split(".")[0] in NOT_PARAMETERS
    what = "shapes the run, it cannot vary from point to point" if structural else hint
    return ConfigError(name, value, f"a numeric model parameter ({what})")


def _number(name: str, value, rule: Range | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ConfigError(name, value, rule.allowed() if rule else "a number") from None
    if not math.isfinite(value):
        raise ConfigError(name, value, rule.allowed() if rule else "a finite number")
    if rule is not None:
        rule.check(name, value)
    return float(value)


def _vector(cfg: Config, name: str, value) -> tuple[float, ...]:
    issues = cfg.issues
    if isinstance(value, Mapping):
        if set(value) != set(issues):
            raise ConfigError(name, dict(value), f"a value for each issue of {issues}, no other")
        value = [value[k] for k in issues]
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != len(issues):
        raise ConfigError(name, value, f"{len(issues)} values, one per issue of {issues}")
    out = tuple(_number(f"{name}.{k}", v, UNIT) for k, v in zip(issues, value, strict=True))
    if name.endswith(".salience") and abs(sum(out) - 1.0) > 1e-6:
        raise ConfigError(name, list(value), "weights that sum to 1 (within 1e-6)")
    return out


def value(cfg: Config, name: str, given):
    """``given`` for parameter ``name`` in canonical form (a float, or a tuple in issue order
    for a whole vector), or :class:`ConfigError` naming the parameter, the value and what
    is allowed."""
    if name in scalars():
        return _number(name, given, scalars()[name])
    if name in VECTOR_NAMES:
        return _vector(cfg, name, given)
    base, _, issue = name.rpartition(".")
    if base in VECTOR_NAMES and issue in cfg.issues:
        return _number(name, given, UNIT)
    if name in ratifier_names(cfg):
        return _number(name, given, RATIFIER_SCALARS.get(issue, UNIT))
    raise _unknown(cfg, name, given)


def point(cfg: Config, values: Mapping[str, object]) -> dict[str, object]:
    """One point's parameter values, checked and canonical; a point may not name a whole
    vector and one of its issues, and the weights it sets must leave a valid vector."""
    out = {name: value(cfg, name, v) for name, v in values.items()}
    for side in SIDES:
        for vec in VECTORS:
            whole = f"countries.{side}.{vec}"
            some = [n for n in out if n.startswith(whole + ".")]
            if whole in out and some:
                raise ConfigError(some[0], out[some[0]], f"no per-issue value beside {whole}")
            if vec == "salience" and some:
                _weights(cfg, side, {n.rpartition(".")[2]: out[n] for n in some})
    return out


def _weights(cfg: Config, side: str, named: dict[str, float]) -> np.ndarray:
    """The country's weights with the ``named`` issues set and the others rescaled in
    proportion so that all sum to 1 (docs/model.md §10)."""
    base = getattr(cfg.countries, side).salience
    fixed = sum(named.values())
    rest = sum(w for k, w in base.items() if k not in named)
    key = f"countries.{side}.salience"
    if fixed > 1.0 + 1e-9:
        shown = ", ".join(f"{key}.{k}={v:g}" for k, v in named.items())
        raise ConfigError(key, shown, "weights set on one point that sum to at most 1")
    if rest <= 0.0 and abs(fixed - 1.0) > 1e-9:
        others = [k for k in cfg.issues if k not in named]
        raise ConfigError(
            f"{key}.{next(iter(named))}",
            named[next(iter(named))],
            f"weights summing to 1: the other issues {others} have no weight to rescale",
        )
    scale = (1.0 - fixed) / rest if rest > 0 else 0.0
    return np.array([named.get(k, base[k] * scale) for k in cfg.issues])


def config_value(cfg: Config, name: str):
    """The plain config's value of a scalar parameter (None: unset)."""
    node = cfg
    for part in name.split("."):
        node = getattr(node, part)
    return node


def per_world(cfg: Config, points: Sequence[Mapping[str, object]], sizes: Sequence[int]):
    """Every parameter's values over the worlds of a batch: points[i] (canonical, see
    :func:`point`) holds for ``sizes[i]`` consecutive worlds, the config for what it does not
    name. Scalars are (W,) arrays, ``countries.<side>.<vector>`` (W, n) arrays in issue order.

    A country's initial trust ``countries.<side>.trust`` left unset is ``trust``.
    """
    named = set().union(*points) if points else set()

    def column(name, base):
        if name not in named:
            return np.repeat(np.asarray([base], float), sum(sizes), axis=0)
        rows = [p.get(name, base) for p in points]
        return np.repeat(np.asarray(rows, float), sizes, axis=0)

    out = {}
    for name in scalars():
        base = config_value(cfg, name)
        if base is not None:  # a country's initial trust left unset is ``trust``, below
            out[name] = column(name, base)
    for side in SIDES:
        key = f"countries.{side}.trust"
        if key not in out:  # unset in the config: each point's ``trust`` unless it sets it
            rows = [p.get(key, p.get("trust", cfg.trust)) for p in points]
            out[key] = np.repeat(np.asarray(rows, float), sizes)
        for vec in VECTORS:
            out[f"countries.{side}.{vec}"] = _vectors(cfg, side, vec, points, sizes, named)
        for r in getattr(cfg.countries, side).ratifiers:
            base = f"countries.{side}.ratifiers.{r.name}"
            for k in RATIFIER_SCALARS:
                out[f"{base}.{k}"] = column(f"{base}.{k}", getattr(r, k))
            out[f"{base}.salience"] = np.stack(
                [column(f"{base}.salience.{k}", r.salience.get(k, 0.0)) for k in cfg.issues], 1
            )
    return out


def _vectors(cfg, side, vec, points, sizes, named) -> np.ndarray:
    whole = f"countries.{side}.{vec}"
    base = getattr(getattr(cfg.countries, side), vec)
    plain = np.array([base[k] for k in cfg.issues], float)
    if not any(n == whole or n.startswith(whole + ".") for n in named):
        return np.repeat(plain[None, :], sum(sizes), axis=0)
    rows = []
    for p in points:
        if whole in p:
            rows.append(np.asarray(p[whole], float))
            continue
        some = {n.rpartition(".")[2]: p[n] for n in p if n.startswith(whole + ".")}
        if not some:
            rows.append(plain)
        elif vec == "salience":
            rows.append(_weights(cfg, side, some))
        else:
            rows.append(np.array([some.get(k, base[k]) for k in cfg.issues], float))
    return np.repeat(np.asarray(rows), sizes, axis=0)
