"""The configuration schema (Hydra structured configs) and its value checks.

The dataclasses below are the only place where config names, defaults and allowed values
live; the YAML files in ``conf/`` only choose among them. OmegaConf checks types, unknown
keys and group choices when Hydra composes the config; :func:`validate` then checks values
and raises one :class:`ConfigError` that names the key, the value and what is allowed.

Each field's range sits beside it (``param(default, Range(...))``); a check that needs
several fields is the ``check`` method of the dataclass that holds them. One rule covers
every number: NaN and infinity are never allowed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf

DEFAULT_ISSUES = ["trade", "security", "migration", "sovereignty"]


class ConfigError(ValueError):
    """A bad config value: ``key``, ``value`` and what is ``allowed``."""

    def __init__(self, key: str, value, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not allowed: {allowed}")


class Side(Enum):
    US = "US"
    MX = "MX"


class FrameworkName(Enum):
    linked = "linked"
    delinked = "delinked"
    sequenced = "sequenced"
    custom = "custom"
    chosen = "chosen"


class ChoiceRule(Enum):
    """Who decides, each episode, whether a ``framework=chosen`` world links (sim/choice.py)."""

    consent = "consent"  # both sides must expect linkage to pay them
    us_sets = "us_sets"  # the US picks the framework it expects to pay it more
    mx_sets = "mx_sets"  # Mexico does
    coercive = "coercive"  # the US may put a bundle under threat; Mexico accepts or refuses


class RatificationRule(Enum):
    """How a country's ratifiers decide (docs/model.md §4.1): ``all`` of them must approve, or
    every veto player and a majority of the others' weight."""

    all = "all"
    majority = "majority"


class ExperimentName(Enum):
    single = "single"
    map = "map"
    design = "design"
    sensitivity = "sensitivity"
    discovery = "discovery"
    patterns = "patterns"
    calibrate = "calibrate"


# experiments over a sampled space, analysed after the run by ``sim.analysis``
ANALYSED = (ExperimentName.sensitivity, ExperimentName.discovery)
# experiments whose multirun jobs keep their own outputs: no merged cells.csv
UNMERGED = (*ANALYSED, ExperimentName.patterns, ExperimentName.calibrate)
# the record's experiments: their own runs of the patterns' scenarios, not the runner's cells
RECORD = (ExperimentName.patterns, ExperimentName.calibrate)


class SensitivityMethod(Enum):
    sobol = "sobol"
    morris = "morris"


class Direction(Enum):
    below = "below"
    above = "above"


class EventType(Enum):
    """Dated scenario edits (docs/model.md §8); ``sim.events`` documents what each does."""

    unilateral_action = "unilateral_action"
    trust_shock = "trust_shock"
    salience = "salience"
    reliability = "reliability"
    pressure = "pressure"
    disagreement = "disagreement"
    ratifier_threshold = "ratifier_threshold"
    ratifier_salience = "ratifier_salience"
    veto_player = "veto_player"


@dataclass(frozen=True)
class Range:
    """Allowed numbers: ``low <= v <= high`` (``low < v`` with ``open_low``; integers only
    with ``integer``)."""

    low: float = -math.inf
    high: float = math.inf
    integer: bool = False
    open_low: bool = False
    note: str = ""  # what the values mean, appended to the message

    def allowed(self) -> str:
        kind = "an integer" if self.integer else "a number"
        low, high = self._show(self.low), self._show(self.high)
        if self.high == math.inf:
            text = f"{kind} {'>' if self.open_low else '>='} {low}"
        else:
            text = f"{kind} in {'(' if self.open_low else '['}{low}, {high}]"
        return f"{text} ({self.note})" if self.note else text

    def _show(self, x: float) -> str:
        return str(int(x)) if self.integer and math.isfinite(x) else f"{x:g}"

    def check(self, key: str, value) -> None:
        if value is None:
            raise ConfigError(key, value, self.allowed())
        above = value > self.low if self.open_low else value >= self.low
        if not (above and value <= self.high):
            raise ConfigError(key, value, self.allowed())


UNIT = Range(0.0, 1.0)
NON_NEGATIVE = Range(0.0)


def param(default, rule: Range | None = None, **kw):
    """A schema field with its allowed range beside it."""
    return field(default=default, metadata={"rule": rule}, **kw)


@dataclass
class RatifierConfig:
    """A domestic ratifier (Putnam 1988): it approves an agreement when its value, by its own
    weights, beats its expected no-deal value by ``threshold`` (docs/model.md §4.1)."""

    name: str = MISSING
    # issue -> weight; issues left out weigh nothing; need not sum to 1
    salience: dict[str, float] = field(default_factory=dict, metadata={"rule": UNIT})
    threshold: float = param(0.0, Range(-1.0, 1.0, note="utility margin over no deal"))
    weight: float = param(1.0, NON_NEGATIVE)  # its vote under ``ratification_rule: majority``
    veto: bool = False  # under ``majority``, it must approve whatever the others vote
    active: bool = True  # false: it has no say until a ``veto_player`` event

    def check(self, key: str, root: Config) -> None:
        _weights(f"{key}.salience", self.salience, root.issues, sums_to_one=False, complete=False)
        if not any(v > 0 for v in self.salience.values()):
            raise ConfigError(f"{key}.salience", dict(self.salience), "a positive weight")


@dataclass
class CountryConfig:
    # issue -> weight; the weights sum to 1 (docs/model.md §1)
    salience: dict[str, float] = field(default_factory=dict, metadata={"rule": UNIT})
    # issue -> what this country gets on it without an agreement, 0-1
    disagreement: dict[str, float] = field(default_factory=dict, metadata={"rule": UNIT})
    concession: float = param(
        1.0, Range(0.0, 100.0, open_low=True, note="0.2 Boulware, 1 linear, 2 conceder")
    )
    reliability: float = param(0.9, UNIT)
    trust: float | None = param(None, UNIT)  # initial trust in the partner; None = ``trust``
    # level II (docs/model.md §4.1): who must ratify an agreement at home; none: a unitary actor
    ratifiers: list[RatifierConfig] = field(default_factory=list)
    ratification_rule: RatificationRule = RatificationRule.all

    def check(self, key: str, root: Config) -> None:
        _weights(f"{key}.salience", self.salience, root.issues, sums_to_one=True)
        _weights(f"{key}.disagreement", self.disagreement, root.issues, sums_to_one=False)
        names = [r.name for r in self.ratifiers]
        for i, name in enumerate(names):
            if not name or "." in name or names.index(name) != i:
                raise ConfigError(
                    f"{key}.ratifiers[{i}].name", name, "a distinct name without dots"
                )


@dataclass
class RatificationConfig:
    """Level II at large (docs/model.md §4.1)."""

    # how the partner reads a failed ratification: 1 as a domestic failure (no trust lost),
    # 0 as reneging (one broken commitment per issue of the failed table)
    visible: float = param(0.5, UNIT)
    # the standard deviation of the negotiator's error about each ratifier's threshold
    noise: float = param(0.0, NON_NEGATIVE)


@dataclass
class Countries:
    US: CountryConfig = field(default_factory=CountryConfig)
    MX: CountryConfig = field(default_factory=CountryConfig)


@dataclass
class FrameworkConfig:
    name: FrameworkName = FrameworkName.linked
    tables: list[list[str]] | None = None  # for ``custom``: a partition of the issues
    link_at: float = param(0.7, UNIT)  # ``sequenced``: link once both trusts reach this
    hysteresis: float = param(0.1, UNIT)  # ... and delink when either falls below link_at - it
    rule: ChoiceRule = ChoiceRule.consent  # ``chosen``: who decides
    # ``chosen``: a side wants linkage when it expects a premium of at least this (utility)
    margin: float = param(0.0)
    # ``coercive``: the issues the US bundles on one table under threat (with the lever);
    # null: the lever and the issue the US weighs most
    bundle: list[str] | None = None

    def check(self, key: str, root: Config) -> None:
        if self.name is FrameworkName.custom:
            if not self.tables:
                raise ConfigError(
                    f"{key}.tables", self.tables, "a list of issue lists for framework=custom"
                )
            validate_tables(f"{key}.tables", self.tables, root.issues)
        elif self.tables is not None:
            raise ConfigError(f"{key}.tables", self.tables, "tables only with framework=custom")
        if self.bundle is not None:
            lever = root.threat.lever
            if self.rule is not ChoiceRule.coercive:
                raise ConfigError(f"{key}.bundle", self.bundle, "a bundle only with rule coercive")
            if (
                len(set(self.bundle)) < 2
                or lever not in self.bundle
                or any(k not in root.issues for k in self.bundle)
            ):
                raise ConfigError(
                    f"{key}.bundle", self.bundle,
                    f"two or more distinct issues of {root.issues}, the lever {lever!r} among them",
                )  # fmt: skip
        if self.rule is ChoiceRule.coercive and root.threat.lever not in root.issues:
            raise ConfigError(
                f"{key}.rule", "coercive", f"a rule that needs no lever: {root.threat.lever!r} "
                f"(threat.lever) is not an issue of {root.issues}",
            )  # fmt: skip


@dataclass
class ThreatConfig:
    lever: str = "trade"
    size: float = param(1.5, NON_NEGATIVE)  # penalty on Mexico's lever value if a threat fails
    self_cost: float = param(0.2, UNIT)  # share of that penalty the US bears itself
    # what backing down from a failed threat costs the US leader at home (Fearon 1994): the
    # larger, the likelier the threat is carried out (``pressure.credibility``); 0: pi
    audience_cost: float = param(0.0, NON_NEGATIVE)


@dataclass
class BacklashConfig:
    trust: float = param(1.0, NON_NEGATIVE)  # beta evidence per threat, times pressure
    salience: float = param(0.05, NON_NEGATIVE)  # Mexican salience of ``issue`` per threat
    issue: str = "sovereignty"  # the issue whose salience backlash raises


@dataclass
class UnilateralConfig:
    rate: float = param(0.3, UNIT)  # chance per episode, times pressure
    gain: float = param(0.2, NON_NEGATIVE)  # US gain, in units of its weight on ``issue``
    harm: float = param(0.2, NON_NEGATIVE)  # Mexican loss, in units of its backlash weight
    trust: float = param(2.0, NON_NEGATIVE)  # Mexican beta evidence per action
    salience: float = param(0.1, NON_NEGATIVE)  # Mexican backlash salience per action
    issue: str = "security"  # no agreement on this issue invites the US to act alone


@dataclass
class GuarantorConfig:
    """A third party that monitors compliance and vouches for both sides (``sim.guarantor``)."""

    name: str | None = None  # e.g. Canada; None = no guarantor
    vouching: float = param(0.0, UNIT)  # share of each side's distrust its word removes
    monitoring: float = param(0.0, UNIT)  # share of the reneging risk its monitoring deters


# The fields each event type needs (``sim.events`` says what each type does).
EVENT_FIELDS = {
    EventType.unilateral_action: (),
    EventType.trust_shock: ("country", "value"),
    EventType.salience: ("country", "issue", "value"),
    EventType.reliability: ("country", "value"),
    EventType.pressure: ("value",),
    EventType.disagreement: ("country", "issue", "value"),
    EventType.ratifier_threshold: ("country", "ratifier", "value"),
    EventType.ratifier_salience: ("country", "issue", "value"),  # ratifier: one, or all
    EventType.veto_player: ("country", "ratifier"),
}
OPTIONAL_FIELDS = {EventType.ratifier_salience: ("ratifier",)}


@dataclass
class EventConfig:
    # 1-based; an event dated after the last episode is never reached (the log says so)
    episode: int = param(MISSING, Range(1, integer=True))
    type: EventType = MISSING
    country: Side | None = None
    issue: str | None = None
    ratifier: str | None = None  # a name in countries.<country>.ratifiers
    value: float | None = param(None, UNIT)

    def check(self, key: str, root: Config) -> None:
        needed = EVENT_FIELDS[self.type]
        optional = OPTIONAL_FIELDS.get(self.type, ())
        for name in ("country", "issue", "ratifier", "value"):
            given = getattr(self, name)
            if name in optional:
                continue
            if name in needed and given is None:
                needs = f"a {name} for a {self.type.value} event ({_needs(self)})"
                raise ConfigError(f"{key}.{name}", None, needs)
            if name not in needed and given is not None:
                raise ConfigError(
                    f"{key}.{name}", _plain_value(given),
                    f"no {name} for a {self.type.value} event ({_needs(self)})",
                )  # fmt: skip
        if "issue" in needed and self.issue not in root.issues:
            raise ConfigError(f"{key}.issue", self.issue, f"an issue on the agenda {root.issues}")
        if self.ratifier is not None:
            side = self.country.value
            known = [r.name for r in getattr(root.countries, side).ratifiers]
            if self.ratifier not in known:
                where = f"a ratifier of countries.{side}.ratifiers {known}"
                raise ConfigError(f"{key}.ratifier", self.ratifier, where)
        elif (
            self.type is EventType.ratifier_salience
            and not getattr(root.countries, self.country.value).ratifiers
        ):
            raise ConfigError(
                f"{key}.country", self.country.value, "a country with ratifiers for this event"
            )


def _needs(e: EventConfig) -> str:
    needed = EVENT_FIELDS[e.type]
    return "it takes " + ", ".join(needed) if needed else "it takes no other field"


def _plain_value(v):
    return v.value if isinstance(v, Enum) else v


MAX_PROVENANCE = 1000  # evidence ids per scenario: the evidence base holds about a hundred


@dataclass
class ScenarioMeta:
    name: str = "baseline"
    provenance: list[str] = field(default_factory=list)  # evidence ids, seeds/evidence.yaml
    teaching: str = ""

    def check(self, key: str, root: Config) -> None:
        if len(self.provenance) > MAX_PROVENANCE:
            raise ConfigError(
                f"{key}.provenance",
                f"<{len(self.provenance)} ids>",
                f"at most {MAX_PROVENANCE} evidence ids (from seeds/evidence.yaml)",
            )


@dataclass
class ExperimentConfig:
    name: ExperimentName = ExperimentName.map
    # the frameworks of a point draw the same random numbers (common random numbers): the
    # difference between them is the frameworks', not sampling noise (docs/model.md §10)
    paired: bool = False


# The parameters experiment=sensitivity and experiment=discovery vary by default: every
# numeric parameter that acts in the linked and delinked frameworks without a guarantor or
# dated events (16, so Sobol's n(2D + 2) design at n = 1024 has 34,816 points).
SPACE = [
    "trust", "pressure", "threat.size", "threat.self_cost",
    "countries.US.concession", "countries.MX.concession",
    "countries.US.reliability", "countries.MX.reliability",
    "backlash.trust", "backlash.salience", "unilateral.rate",
    "trust_prior", "forgetting", "confidence_weight", "noise",
    "countries.MX.salience.sovereignty",
]  # fmt: skip

# Each parameter's range [low, high]: wide enough to hold every reading of the record in
# seeds/ (docs/model.md gives the units), narrow enough to stay inside the model's meaning.
RANGES = {
    # both ends: the record runs from the Mérida years' cooperation to "very low mutual
    # trust" in 2024 (ev-merida-2007-payan, ev-payan-low-trust-unilateralism)
    "trust": [0.0, 1.0],
    "pressure": [0.0, 1.0],  # from no coercion to the tariff ultimatum of June 2019
    "threat.size": [0.0, 3.0],  # no threat up to twice the default (1.5)
    "threat.self_cost": [0.0, 0.5],  # executing costs the US nothing up to half the threat
    # 0.5 (leaning Boulware) to 2 (conceder), symmetric about linear (1) in log scale
    "countries.US.concession": [0.5, 2.0],
    "countries.MX.concession": [0.5, 2.0],
    # a kept commitment from three times in five to always (default 0.9)
    "countries.US.reliability": [0.6, 1.0],
    "countries.MX.reliability": [0.6, 1.0],
    "backlash.trust": [0.0, 3.0],  # none up to three times the default distrust per threat
    "backlash.salience": [0.0, 0.15],  # none up to three times the default (0.05)
    "unilateral.rate": [0.0, 0.6],  # none up to twice the default (0.3)
    "unilateral.gain": [0.0, 0.4],
    "unilateral.harm": [0.0, 0.4],
    "unilateral.trust": [0.0, 4.0],
    "unilateral.salience": [0.0, 0.2],
    "trust_prior": [2.0, 30.0],  # initial trust worth 2 to 30 kept commitments (default 10)
    "forgetting": [0.8, 1.0],  # evidence kept per episode: a 5-episode memory to none lost
    "confidence_weight": [0.0, 0.5],  # default 0.25
    "noise": [0.0, 0.1],  # default 0.02
    # Mexico's weight on sovereignty, from trade's equal (0.15) to the nationalist turn
    # after 2018 (ev-payan-mexico-nationalism); the other weights rescale
    "countries.MX.salience.sovereignty": [0.15, 0.55],
    "countries.US.salience.migration": [
        0.1,
        0.5,
    ],  # the 2019 focus (ev-payan-us-focus-on-immigration)
    "countries.MX.disagreement.migration": [0.3, 0.6],
    "guarantor.vouching": [0.0, 1.0],
    "guarantor.monitoring": [0.0, 1.0],
}


@dataclass
class SpaceConfig:
    """The parameter space that experiment=sensitivity and experiment=discovery sample."""

    parameters: list[str] = field(default_factory=lambda: list(SPACE))
    ranges: dict[str, list[float]] = field(default_factory=lambda: dict(RANGES))
    # also sample a parameter named "dummy" that the model never reads: its indices show
    # the estimator's noise floor
    dummy: bool = False
    # the sample's seed; null: ``seed``. Fixed, the same points run with other random
    # streams when ``seed`` changes
    seed: int | None = param(None, Range(0, integer=True))

    def check(self, key: str, root: Config) -> None:
        if root.experiment.name not in ANALYSED:
            return
        if not self.parameters or len(set(self.parameters)) != len(self.parameters):
            raise ConfigError(f"{key}.parameters", self.parameters, "distinct parameter names")
        if root.shards > 1:  # the analysis needs every point's value at once
            raise ConfigError(
                "shards", root.shards, f"1 for experiment={root.experiment.name.value}"
            )
        if "dummy" in self.parameters:
            raise ConfigError(
                f"{key}.parameters", "dummy", f"real parameters ({key}.dummy=true adds the dummy)"
            )
        from sim import params

        for name in self.parameters:
            if name not in params.names(root):
                known = "a numeric model parameter, as docs/model.md §10 lists them"
                raise ConfigError(f"{key}.parameters", name, known)
            bounds = self.ranges.get(name)
            if bounds is None:
                raise ConfigError(
                    f"{key}.parameters",
                    name,
                    f"parameters with a range in {key}.ranges (add one: "
                    f"'+{key}.ranges={{{name}: [low, high]}}')",
                )
            if len(bounds) != 2 or not bounds[0] < bounds[1]:
                raise ConfigError(
                    f"{key}.ranges.{name}", list(bounds), "[low, high] with low < high"
                )
            for v in bounds:
                try:
                    params.value(root, name, v)
                except ConfigError as ex:
                    raise ConfigError(f"{key}.ranges.{name}", list(bounds), ex.allowed) from None
        from sim.analysis import space  # every sampled point is checked before anything runs

        space.design(root)


def _grid(n: int) -> list[float]:
    return [i / (n - 1) for i in range(n)]


@dataclass
class MapConfig:
    trust: list[float] = field(default_factory=lambda: _grid(21), metadata={"rule": UNIT})
    pressure: list[float] = field(default_factory=lambda: _grid(21), metadata={"rule": UNIT})
    # parameter name -> its values, in order; empty: {trust: map.trust, pressure: map.pressure}
    axes: dict[str, list[Any]] = field(default_factory=dict)
    framework: list[FrameworkName] = field(
        default_factory=lambda: [FrameworkName.linked, FrameworkName.delinked]
    )

    def check(self, key: str, root: Config) -> None:
        if root.experiment.name is ExperimentName.single:
            return
        if not self.framework:
            raise ConfigError(f"{key}.framework", [], "a non-empty list of frameworks")
        if FrameworkName.custom in self.framework and not root.framework.tables:
            raise ConfigError(f"{key}.framework", "custom", "custom only with framework.tables set")
        if root.experiment.name is not ExperimentName.map:
            return
        if not self.axes:
            for axis in ("trust", "pressure"):
                if not getattr(self, axis):
                    raise ConfigError(f"{key}.{axis}", [], "a non-empty list of numbers in [0, 1]")
        from sim import design  # every cell can be made: names, values, weights that sum to 1

        design.cells(root)


@dataclass
class DesignConfig:
    # a CSV file: a column per parameter (dotted names), optionally ``framework``, a row per
    # point; relative to the directory linkage is started in
    file: str | None = None

    def check(self, key: str, root: Config) -> None:
        if root.experiment.name is not ExperimentName.design:
            return
        if not self.file:
            raise ConfigError(
                f"{key}.file", self.file, "a CSV file of points for experiment=design"
            )
        from sim import design

        design.cells(root)


# worlds.csv rows of one cell are held in memory until the cell is stored (~350 bytes each)
MAX_WORLD_ROWS_PER_CELL = 2_000_000


@dataclass
class PatternsConfig:
    """``experiment=patterns``: the record's stylised patterns checked against the model
    (``sim/patterns.py``, ``sim/analysis/record.py``)."""

    # the patterns and the evidence base they cite, relative to where linkage is started
    file: str = "seeds/patterns.yaml"
    evidence: str = "seeds/evidence.yaml"
    ids: list[str] = field(default_factory=list)  # run only these; empty: every pattern

    def check(self, key: str, root: Config) -> None:
        if root.experiment.name not in RECORD:
            return
        for name in ("file", "evidence"):
            path = Path(getattr(self, name))
            if not path.is_file():
                raise ConfigError(f"{key}.{name}", str(path), "an existing YAML file")
        from sim import patterns

        known = [p.id for p in patterns.load(self.file, self.evidence)]
        for pid in self.ids:
            if pid not in known:
                raise ConfigError(f"{key}.ids", pid, f"an id of {self.file}")


# The free parameters experiment=calibrate fits, each with a uniform prior [low, high]: the
# mechanism parameters every scenario shares (a scenario's trust, pressure and weights are its
# own reading of the record, not fitted). Ranges as in RANGES (space.ranges), which says why.
PRIORS = {
    name: RANGES[name]
    for name in (
        "trust_prior", "forgetting", "confidence_weight", "noise",
        "countries.US.reliability", "countries.MX.reliability",
        "backlash.trust", "backlash.salience", "unilateral.rate",
    )
}  # fmt: skip


@dataclass
class CalibrationConfig:
    """``experiment=calibrate`` (``sim/analysis/calibrate.py``): rejection ABC of the free
    parameters against the record's patterns (``patterns.*``), with ELFI; and the fitted
    set in use (the ``calibration`` group: ``none`` by default, ``record`` the fitted one)."""

    name: str = "none"
    priors: dict[str, list[float]] = field(default_factory=lambda: dict(PRIORS))
    n: int = param(200, Range(1, 10**6, integer=True))  # posterior samples kept
    # the share of prior draws kept: n / quantile points are simulated
    quantile: float = param(0.05, Range(0.0, 1.0, open_low=True))
    batch: int = param(100, Range(1, 10**5, integer=True))  # points simulated together
    # YYYY-MM: fit only the patterns whose period ends by then; the later ones are predicted
    until: str | None = None

    def check(self, key: str, root: Config) -> None:
        if root.experiment.name is not ExperimentName.calibrate:
            return
        if not self.priors:
            raise ConfigError(f"{key}.priors", {}, "one or more parameters with [low, high]")
        from sim import params

        for name, bounds in self.priors.items():
            if name not in params.names(root) or name in ("trust", "pressure"):
                raise ConfigError(
                    f"{key}.priors", name, "a free model parameter (docs/model.md §10)"
                )
            if len(bounds) != 2 or not bounds[0] < bounds[1]:
                raise ConfigError(f"{key}.priors.{name}", list(bounds), "[low, high], low < high")
            for v in bounds:
                params.value(root, name, v)
        if self.until is not None and not re.match(r"^\d{4}-(0[1-9]|1[0-2])$", str(self.until)):
            raise ConfigError(f"{key}.until", self.until, "a month, YYYY-MM, or null")


@dataclass
class OutputConfig:
    worlds: bool = False  # also write one row per world and episode (worlds.csv)
    trajectories: bool = True  # write one row per cell and episode (trajectories.csv)
    progress: bool | None = None  # None: a progress bar when stderr is a terminal

    def check(self, key: str, root: Config) -> None:
        rows = root.replications * root.episodes
        if self.worlds and rows > MAX_WORLD_ROWS_PER_CELL:
            raise ConfigError(
                f"{key}.worlds",
                True,
                f"at most {MAX_WORLD_ROWS_PER_CELL:,} rows per cell (replications x episodes "
                f"= {rows:,}, about {rows * 350 / 2**30:.1f} GiB): fewer, or no worlds.csv",
            )


OUTCOME_KINDS = ("premium", "linked", "delinked")


def check_outcome(key: str, name: str, root: Config) -> None:
    """An outcome of a point is ``premium.<m>`` (linked minus delinked), ``linked.<m>`` or
    ``delinked.<m>``, for a metric m of cells.csv or ``joint_utility`` (US plus Mexico);
    the frameworks it reads must be in ``map.framework``."""
    from sim import metrics

    kind, _, metric = name.partition(".")
    known = [*metrics.names(root.issues), "final_trust_us", "final_trust_mx", "joint_utility"]
    if kind not in OUTCOME_KINDS or metric not in known:
        raise ConfigError(
            key, name, f"premium.<metric>, linked.<metric> or delinked.<metric>, the metric one "
            f"of {', '.join(known)}",
        )  # fmt: skip
    running = {f.value for f in root.map.framework}
    for fw in ("linked", "delinked") if kind == "premium" else (kind,):
        if fw not in running:
            raise ConfigError(
                "map.framework",
                [f.value for f in root.map.framework],
                f"a list with {fw} ({name} reads it)",
            )


@dataclass
class SensitivityConfig:
    method: SensitivityMethod = SensitivityMethod.sobol
    # Sobol: Saltelli's base sample, n(2D + 2) points with second-order indices, n(D + 2)
    # without; a power of two
    n: int = param(1024, Range(2, 2**20, integer=True))
    second_order: bool = True
    trajectories: int = param(100, Range(2, 100_000, integer=True))  # Morris: r(D + 1) points
    levels: int = param(4, Range(2, 100, integer=True))  # Morris's grid levels; even
    resamples: int = param(1000, Range(10, 100_000, integer=True))  # bootstrap for intervals
    outputs: list[str] = field(
        default_factory=lambda: [
            "premium.mx_utility", "premium.us_utility", "premium.joint_utility",
            "linked.final_trust_mx",
        ]
    )  # fmt: skip

    def check(self, key: str, root: Config) -> None:
        if root.experiment.name is not ExperimentName.sensitivity:
            return
        if self.method is SensitivityMethod.sobol and self.n & (self.n - 1):
            raise ConfigError(f"{key}.n", self.n, "a power of two (Sobol' sequences need one)")
        if self.levels % 2:
            raise ConfigError(f"{key}.levels", self.levels, "an even number of levels")
        if not self.outputs:
            raise ConfigError(f"{key}.outputs", [], "at least one outcome")
        for name in self.outputs:
            check_outcome(f"{key}.outputs", name, root)


@dataclass
class DiscoveryConfig:
    n: int = param(4000, Range(10, 10**7, integer=True))  # Latin hypercube points
    # the cases of interest: points whose ``output`` is ``direction`` ``threshold``
    output: str = "premium.mx_utility"
    direction: Direction = Direction.below
    threshold: float = 0.0
    # the box reported: the one of largest coverage on the peeling trajectory whose density
    # is at least ``density``
    density: float = param(0.8, UNIT)
    mass_min: float = param(0.05, Range(0.0, 1.0, open_low=True))  # PRIM's smallest box
    peel_alpha: float = param(0.05, Range(0.0, 0.5, open_low=True))  # share peeled a step

    def check(self, key: str, root: Config) -> None:
        if root.experiment.name is ExperimentName.discovery:
            check_outcome(f"{key}.output", self.output, root)


FIGURE_FORMATS = ("png", "svg", "pdf")


@dataclass
class FiguresConfig:
    enabled: bool = True
    # PNG at once; SVG and PDF, which take as long again each, when asked for
    formats: list[str] = field(default_factory=lambda: ["png"])
    # points in a map's two axes (default trust, pressure) whose trajectories it draws (the
    # nearest cells)
    cells: list[list[float]] = field(default_factory=lambda: [[0.2, 0.8], [0.5, 0.5], [0.8, 0.2]])
    episode: int = param(1, Range(1, integer=True))  # the episode whose dance a single run draws

    def check(self, key: str, root: Config) -> None:
        for fmt in self.formats:
            if fmt not in FIGURE_FORMATS:
                raise ConfigError(f"{key}.formats", fmt, ", ".join(FIGURE_FORMATS[:-1]) + " or pdf")
        if self.episode > root.episodes:
            raise ConfigError(f"{key}.episode", self.episode, f"an episode in 1..{root.episodes}")
        for pt in self.cells:
            if len(pt) != 2:
                raise ConfigError(f"{key}.cells", list(pt), "pairs of values of the map's two axes")


@dataclass
class Config:
    scenario: ScenarioMeta = field(default_factory=ScenarioMeta)
    issues: list[str] = field(default_factory=lambda: list(DEFAULT_ISSUES))
    countries: Countries = field(default_factory=Countries)
    framework: FrameworkConfig = field(default_factory=FrameworkConfig)
    threat: ThreatConfig = field(default_factory=ThreatConfig)
    backlash: BacklashConfig = field(default_factory=BacklashConfig)
    unilateral: UnilateralConfig = field(default_factory=UnilateralConfig)
    guarantor: GuarantorConfig = field(default_factory=GuarantorConfig)
    ratification: RatificationConfig = field(default_factory=RatificationConfig)
    events: list[EventConfig] = field(default_factory=list)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    map: MapConfig = field(default_factory=MapConfig)
    design: DesignConfig = field(default_factory=DesignConfig)
    space: SpaceConfig = field(default_factory=SpaceConfig)
    sensitivity: SensitivityConfig = field(default_factory=SensitivityConfig)
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    patterns: PatternsConfig = field(default_factory=PatternsConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    figures: FiguresConfig = field(default_factory=FiguresConfig)
    trust: float = param(0.5, UNIT)  # initial trust, both sides (docs/model.md §5)
    pressure: float = param(0.5, UNIT)  # US coercive pressure (docs/model.md §6)
    seed: int = param(0, Range(0, integer=True))
    # Upper bounds: far above any meaningful run, below what would exhaust memory at once.
    replications: int = param(100, Range(1, 10**8, integer=True))
    episodes: int = param(20, Range(1, 10_000, integer=True))
    rounds: int = param(50, Range(1, 10_000, integer=True))
    first_mover: Side = Side.US
    trust_prior: float = param(10.0, Range(0.0, 1e6, open_low=True))
    forgetting: float = param(0.95, UNIT)
    confidence_weight: float = param(0.25, UNIT)
    noise: float = param(0.02, UNIT)
    jobs: int = param(0, Range(0, 1024, integer=True))  # worker processes; 0 = all local cores
    # run only shard ``shard`` (0-based) of ``shards``: every shards-th unit of whole cells
    shards: int = param(1, Range(1, 100_000, integer=True))
    shard: int = param(0, Range(0, integer=True))
    # finished cells, kept so that an interrupted run resumes (relative to the launch
    # directory); null keeps them in the run directory until the run ends
    store: str | None = "outputs/.cells"

    def check(self, key: str, root: Config) -> None:
        if len(self.issues) == 0 or len(set(self.issues)) != len(self.issues):
            raise ConfigError("issues", self.issues, "a non-empty list of distinct issue names")
        if self.store is not None and not self.store.strip():
            raise ConfigError("store", self.store, "a directory, or null for no shared store")
        if self.shard >= self.shards:
            raise ConfigError(
                "shard", self.shard, f"a shard in 0..{self.shards - 1} (shards={self.shards})"
            )


def register() -> None:
    ConfigStore.instance().store(name="linkage_schema", node=Config)


def to_config(cfg: DictConfig | Config) -> Config:
    """The composed Hydra config as a validated :class:`Config` object."""
    if isinstance(cfg, DictConfig):
        _closed(cfg, "")
        cfg = OmegaConf.to_object(cfg)
    validate(cfg)
    return cfg


def _closed(node, key: str) -> None:
    """Refuse keys the schema does not know. Hydra lifts the schema's closure for keys
    added with ``+`` and ``to_object`` then drops them silently: a typo would run defaults."""
    if isinstance(node, DictConfig | ListConfig) and (node._is_none() or node._is_missing()):
        return
    if isinstance(node, ListConfig):
        for i, item in enumerate(node._iter_ex(resolve=False)):
            _closed(item, f"{key}[{i}]")
        return
    if not isinstance(node, DictConfig):
        return
    schema = OmegaConf.get_type(node)
    known = {f.name for f in fields(schema)} if is_dataclass(schema) else None
    for name in node.keys():
        path = f"{key}.{name}" if key else str(name)
        if known is not None and name not in known:
            where = f"a key of {key}" if key else "a config key"
            raise ConfigError(
                path, node._get_node(name)._value(), f"{where} ({', '.join(sorted(known))})"
            )
        _closed(node._get_node(name), path)


def _weights(key, weights: dict, issues: list[str], *, sums_to_one: bool, complete=True):
    unknown = sorted(set(weights) - set(issues))
    if unknown:
        raise ConfigError(
            f"{key}.{unknown[0]}", weights[unknown[0]], f"an issue on the agenda {issues}"
        )
    missing = [k for k in issues if k not in weights]
    if missing and complete:
        raise ConfigError(f"{key}.{missing[0]}", None, f"a value for every issue in {issues}")
    if sums_to_one and abs(sum(weights.values()) - 1.0) > 1e-6:
        raise ConfigError(key, dict(weights), "weights that sum to 1 (within 1e-6)")


def validate_tables(key: str, tables, issues: list[str]) -> None:
    seen = [k for table in tables for k in table]
    for k in seen:
        if k not in issues:
            raise ConfigError(key, tables, f"tables made of the issues {issues}; {k!r} is not one")
    for k in issues:
        if seen.count(k) != 1:
            where = "missing from" if seen.count(k) == 0 else "on more than one of"
            raise ConfigError(key, tables, f"a partition of {issues}; {k!r} is {where} the tables")
    if any(len(t) == 0 for t in tables):
        raise ConfigError(key, tables, "tables that each hold at least one issue")


def _numbers(key: str, value, rule: Range | None):
    """Check every number in ``value`` (a number, or lists and dicts of them)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _numbers(f"{key}.{k}", v, rule)
    elif isinstance(value, list | tuple):
        for v in value:
            _numbers(key, v, rule)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):  # one rule for every number: NaN and inf are never meant
            raise ConfigError(key, value, rule.allowed() if rule else "a finite number")
        if rule is not None:
            if rule.integer and value != int(value):
                raise ConfigError(key, value, rule.allowed())
            rule.check(key, value)


def _walk(node, key: str, root: Config) -> None:
    """Field ranges first, then the node's own cross-field check, then its children."""
    children = []
    for f in fields(node):
        value = getattr(node, f.name)
        path = f"{key}.{f.name}" if key else f.name
        if is_dataclass(value):
            children.append((value, path))
        elif isinstance(value, list) and value and is_dataclass(value[0]):
            children += [(v, f"{path}[{i}]") for i, v in enumerate(value)]
        else:
            _numbers(path, value, f.metadata.get("rule"))
    if hasattr(node, "check"):
        node.check(key, root)
    for child, path in children:
        _walk(child, path, root)


def validate(c: Config) -> None:
    """Check every value before anything runs; raise one ConfigError for the first bad one."""
    _walk(c, "", c)


def scenario_names() -> list[str]:
    """The shipped scenarios: the YAML files of ``conf/scenario`` (package ``sim.conf``)."""
    files = resources.files("sim.conf.scenario").iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".yaml"))


def load(overrides: list[str] | tuple[str, ...] = (), config_dir: str | None = None) -> Config:
    """Compose and validate the config as the command line would (for notebooks and tests).

    ``load(["scenario=tariff_threat_2019", "experiment=single", "trust=0.3"])``; with
    ``config_dir`` a folder of the user's own groups (as ``--config-dir``) is searched too.
    """
    from hydra import compose, initialize_config_module

    register()
    overrides = list(overrides)
    if config_dir is not None:
        overrides.append(f"hydra.searchpath=[file://{Path(config_dir).resolve()}]")
    from hydra.core.global_hydra import GlobalHydra

    # inside a running ``linkage`` (experiment=patterns composes each scenario it runs) Hydra
    # is already initialised: step aside for this composition, then put it back
    gh = GlobalHydra.instance()
    running = gh.hydra if gh.is_initialized() else None
    gh.clear()
    try:
        with initialize_config_module("sim.conf", version_base="1.3"):
            return to_config(compose("config", overrides=overrides))
    finally:
        if running is not None:  # Hydra's context restores a copy of the singleton: ask again
            GlobalHydra.instance().clear()
            GlobalHydra.instance().initialize(running)
