"""Stylised patterns of the record (``seeds/patterns.yaml``): what the papers report, in a
form a machine checks against the model (pattern-oriented modelling, Grimm et al. 2005).

A :class:`Pattern` reads one metric of one scenario and framework, averaged over worlds and
the episodes it names, and compares it (``direction``: above or below) with ``against``: a
number taken from the papers, or a :class:`Reference` run, which is the pattern's own run with
some of scenario, framework, Hydra overrides (a scenario edit: the counterfactual), metric and
episodes changed. :func:`load` reads the file and refuses, with one message naming the pattern
and the field, a pattern whose scenario, framework, overrides, metric, episodes or evidence id
does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.config import ConfigError, FrameworkName, scenario_names
from sim.config import load as load_config

DIRECTIONS = ("above", "below")
# a margin no larger than this is none: two values equal up to rounding do not pass
TOL = 1e-9
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Run:
    """What a pattern or its reference reads: a scenario under a framework (with overrides),
    one metric, averaged over episodes ``first`` to ``last`` (1-based, inclusive)."""

    scenario: str
    framework: str
    overrides: tuple[str, ...]
    metric: str
    first: int
    last: int


@dataclass(frozen=True)
class Pattern:
    id: str
    claim: str
    evidence: tuple[str, ...]
    start: str  # the period of the record it describes, YYYY-MM
    end: str
    run: Run
    direction: str
    against: float | Run  # a number from the papers, or a reference run
    extra: dict = field(default_factory=dict, compare=False)


def _fail(pattern: str, key: str, value, allowed: str) -> ConfigError:
    return ConfigError(f"patterns[{pattern}].{key}", value, allowed)


def _run(pid: str, raw: dict, base: Run | None, where: str) -> Run:
    """A run from ``raw``, each field defaulting to ``base``'s, checked by composing it."""

    def get(key, default):
        return raw.get(key, default)

    scenario = get("scenario", base and base.scenario)
    framework = get("framework", base and base.framework)
    overrides = tuple(get("overrides", base.overrides if base else ()))
    metric = get("metric", base and base.metric)
    episodes = get("episodes", [base.first, base.last] if base else None)
    if scenario not in scenario_names():
        raise _fail(pid, f"{where}scenario", scenario, f"a shipped scenario {scenario_names()}")
    frameworks = [f.value for f in FrameworkName]
    if framework not in frameworks:
        raise _fail(pid, f"{where}framework", framework, f"one of {frameworks}")
    try:
        cfg = load_config([f"scenario={scenario}", f"framework={framework}",
                           "experiment=single", *overrides])  # fmt: skip
    except ConfigError as ex:
        allowed = f"overrides that compose ({ex})"
        raise _fail(pid, f"{where}overrides", list(overrides), allowed) from None
    from sim import metrics

    known = metrics.names(cfg.issues)
    if metric not in known:
        raise _fail(pid, f"{where}metric", metric, f"a metric of {scenario}: {known}")
    if (
        not isinstance(episodes, list)
        or len(episodes) != 2
        or not all(isinstance(e, int) and not isinstance(e, bool) for e in episodes)
        or not 1 <= episodes[0] <= episodes[1] <= cfg.episodes
    ):
        allowed = f"[first, last], 1 <= first <= last <= {cfg.episodes} ({scenario}'s episodes)"
        raise _fail(pid, f"{where}episodes", episodes, allowed)
    return Run(scenario, framework, overrides, metric, episodes[0], episodes[1])


KEYS = {"id", "claim", "evidence", "period", "scenario", "framework", "overrides", "metric",
        "episodes", "direction", "against"}  # fmt: skip
REFERENCE_KEYS = {"scenario", "framework", "overrides", "metric", "episodes"}


def pattern(raw: dict, evidence: set[str]) -> Pattern:
    """One pattern from its YAML mapping, checked."""
    pid = raw.get("id")
    if not isinstance(pid, str) or not pid.startswith("pat-"):
        raise ConfigError("patterns[].id", pid, "an id that starts with 'pat-'")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise _fail(pid, unknown[0], raw[unknown[0]], f"a key of a pattern {sorted(KEYS)}")
    if not str(raw.get("claim", "")).strip():
        raise _fail(pid, "claim", raw.get("claim"), "the claim in words")
    ids = raw.get("evidence") or []
    if not ids:
        raise _fail(pid, "evidence", ids, "one or more evidence ids of seeds/evidence.yaml")
    for e in ids:
        if e not in evidence:
            raise _fail(pid, "evidence", e, "an id of seeds/evidence.yaml")
    period = raw.get("period") or {}
    start, end = str(period.get("start", "")), str(period.get("end", ""))
    if not (MONTH.match(start) and MONTH.match(end) and start <= end):
        raise _fail(pid, "period", period, "{start: YYYY-MM, end: YYYY-MM}, start <= end")
    run = _run(pid, raw, None, "")
    direction = raw.get("direction")
    if direction not in DIRECTIONS:
        raise _fail(pid, "direction", direction, f"one of {list(DIRECTIONS)}")
    against = raw.get("against")
    if isinstance(against, bool) or against is None:
        raise _fail(pid, "against", against, "a number from the papers or a reference run")
    if isinstance(against, int | float):
        against = float(against)
    elif isinstance(against, dict):
        bad = sorted(set(against) - REFERENCE_KEYS)
        if bad or not against:
            raise _fail(pid, "against", against, f"a reference naming some of {REFERENCE_KEYS}")
        against = _run(pid, against, run, "against.")
        if against == run:
            raise _fail(pid, "against", raw["against"], "a reference that differs from the run")
    else:
        raise _fail(pid, "against", against, "a number from the papers or a reference run")
    return Pattern(pid, " ".join(str(raw["claim"]).split()), tuple(ids), start, end, run,
                   direction, against)  # fmt: skip


def load(path: str | Path, evidence_path: str | Path) -> list[Pattern]:
    """Every pattern of ``path`` (``seeds/patterns.yaml``), checked against the evidence base
    ``evidence_path`` (``seeds/evidence.yaml``); ids must be distinct."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    items = raw.get("patterns")
    if not isinstance(items, list) or not items:
        raise ConfigError("patterns", items, "a non-empty list of patterns")
    known = {e["id"] for e in yaml.safe_load(Path(evidence_path).read_text())["evidence"]}
    out = [pattern(item, known) for item in items]
    ids = [p.id for p in out]
    for i, pid in enumerate(ids):
        if ids.index(pid) != i:
            raise ConfigError("patterns[].id", pid, "distinct pattern ids")
    return out
