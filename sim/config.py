"""The configuration schema (Hydra structured configs) and its value checks.

The dataclasses below are the only place where config names and defaults live; the YAML
files in ``conf/`` only choose among them. OmegaConf checks types, unknown keys and group
choices when Hydra composes the config; :func:`validate` then checks values (ranges, weights
that sum to one, tables that partition the issues) and raises one :class:`ConfigError`
that names the key, the value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

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


class ExperimentName(Enum):
    single = "single"
    map = "map"


class EventType(Enum):
    """Dated scenario edits (DESIGN 1.7); ``sim.events`` documents what each does."""

    unilateral_action = "unilateral_action"
    trust_shock = "trust_shock"
    salience = "salience"
    reliability = "reliability"
    pressure = "pressure"
    disagreement = "disagreement"


@dataclass
class CountryConfig:
    salience: dict[str, float] = field(default_factory=dict)
    disagreement: dict[str, float] = field(default_factory=dict)
    concession: float = 1.0  # e: 0.2 Boulware, 1 linear, 2 conceder
    reliability: float = 0.9
    trust: float | None = None  # initial trust in the partner; None = top-level ``trust``


@dataclass
class Countries:
    US: CountryConfig = field(default_factory=CountryConfig)
    MX: CountryConfig = field(default_factory=CountryConfig)


@dataclass
class FrameworkConfig:
    name: FrameworkName = FrameworkName.linked
    tables: list[list[str]] | None = None  # for ``custom``: a partition of the issues
    link_at: float = 0.7  # ``sequenced``: link once both trusts reach this
    hysteresis: float = 0.1  # ... and delink when either falls below link_at - hysteresis


@dataclass
class ThreatConfig:
    lever: str = "trade"
    size: float = 1.5  # penalty on Mexico's lever value if a threat table fails
    self_cost: float = 0.2  # share of that penalty the US bears itself


@dataclass
class BacklashConfig:
    trust: float = 1.0  # beta evidence per threat, times pressure
    salience: float = 0.05  # Mexican sovereignty salience per threat, times pressure
    issue: str = "sovereignty"  # the issue whose salience backlash raises


@dataclass
class UnilateralConfig:
    rate: float = 0.3
    gain: float = 0.2
    harm: float = 0.2
    trust: float = 2.0
    salience: float = 0.1
    issue: str = "security"  # no agreement on this issue invites the US to act alone


@dataclass
class GuarantorConfig:
    """A third party that monitors compliance and vouches for both sides (``sim.guarantor``)."""

    name: str | None = None  # e.g. Canada; None = no guarantor
    vouching: float = 0.0  # share of each side's distrust the guarantor's word removes
    monitoring: float = 0.0  # share of the reneging risk its monitoring deters


@dataclass
class EventConfig:
    episode: int = MISSING
    type: EventType = MISSING
    country: Side | None = None
    issue: str | None = None
    value: float | None = None


@dataclass
class ScenarioMeta:
    name: str = "baseline"
    provenance: list[str] = field(default_factory=list)
    teaching: str = ""


@dataclass
class ExperimentConfig:
    name: ExperimentName = ExperimentName.map


@dataclass
class MapConfig:
    trust: list[float] = field(default_factory=lambda: [i / 20 for i in range(21)])
    pressure: list[float] = field(default_factory=lambda: [i / 20 for i in range(21)])
    framework: list[FrameworkName] = field(
        default_factory=lambda: [FrameworkName.linked, FrameworkName.delinked]
    )


@dataclass
class OutputConfig:
    worlds: bool = False  # also write one row per world and episode (worlds.csv)
    progress: bool | None = None  # None: a progress bar when stderr is a terminal


@dataclass
class FiguresConfig:
    enabled: bool = True
    formats: list[str] = field(default_factory=lambda: ["png", "svg"])
    # (trust, pressure) of the cells whose trajectories a map draws (the nearest grid cells)
    cells: list[list[float]] = field(default_factory=lambda: [[0.2, 0.8], [0.5, 0.5], [0.8, 0.2]])
    episode: int = 1  # the episode whose negotiation dance a single run draws


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
    events: list[EventConfig] = field(default_factory=list)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    map: MapConfig = field(default_factory=MapConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    figures: FiguresConfig = field(default_factory=FiguresConfig)
    trust: float = 0.5
    pressure: float = 0.5
    seed: int = 0
    replications: int = 100
    episodes: int = 20
    rounds: int = 50
    first_mover: Side = Side.US
    trust_prior: float = 10.0
    forgetting: float = 0.95
    confidence_weight: float = 0.25
    noise: float = 0.02
    jobs: int = 0  # worker processes for in-process grids; 0 = all local cores
    # finished cells, kept so that an interrupted run resumes (relative to the launch
    # directory); null keeps them in the run directory until the run ends
    store: str | None = "outputs/.cells"


def register() -> None:
    ConfigStore.instance().store(name="linkage_schema", node=Config)


def to_config(cfg: DictConfig | Config) -> Config:
    """The composed Hydra config as a validated :class:`Config` object."""
    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.to_object(cfg)
    validate(cfg)
    return cfg


def _unit(key, value):
    if value is None or not (0.0 <= value <= 1.0) or math.isnan(value):
        raise ConfigError(key, value, "a number in [0, 1]")


def _at_least(key, value, low, what="an integer"):
    if value < low:
        raise ConfigError(key, value, f"{what} >= {low}")


def _weights(key, weights: dict, issues: list[str], *, sums_to_one: bool):
    unknown = sorted(set(weights) - set(issues))
    if unknown:
        raise ConfigError(
            f"{key}.{unknown[0]}", weights[unknown[0]], f"an issue on the agenda {issues}"
        )
    missing = [k for k in issues if k not in weights]
    if missing:
        raise ConfigError(f"{key}.{missing[0]}", None, f"a value for every issue in {issues}")
    for k, v in weights.items():
        _unit(f"{key}.{k}", v)
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


def validate(c: Config) -> None:
    """Check every value before anything runs; raise one ConfigError for the first bad one."""
    if len(c.issues) == 0 or len(set(c.issues)) != len(c.issues):
        raise ConfigError("issues", c.issues, "a non-empty list of distinct issue names")
    for name in ("trust", "pressure", "forgetting", "confidence_weight", "noise"):
        _unit(name, getattr(c, name))
    for name in ("episodes", "rounds", "replications"):
        _at_least(name, getattr(c, name), 1)
    _at_least("seed", c.seed, 0)
    _at_least("jobs", c.jobs, 0)
    if c.trust_prior <= 0:
        raise ConfigError("trust_prior", c.trust_prior, "a number > 0")
    for side in ("US", "MX"):
        cc: CountryConfig = getattr(c.countries, side)
        key = f"countries.{side}"
        _weights(f"{key}.salience", cc.salience, c.issues, sums_to_one=True)
        _weights(f"{key}.disagreement", cc.disagreement, c.issues, sums_to_one=False)
        _unit(f"{key}.reliability", cc.reliability)
        if cc.trust is not None:
            _unit(f"{key}.trust", cc.trust)
        if not cc.concession > 0:
            raise ConfigError(
                f"{key}.concession",
                cc.concession,
                "a number > 0 (0.2 Boulware, 1 linear, 2 conceder)",
            )
    f = c.framework
    _unit("framework.link_at", f.link_at)
    _unit("framework.hysteresis", f.hysteresis)
    if f.name is FrameworkName.custom:
        if not f.tables:
            raise ConfigError(
                "framework.tables", f.tables, "a list of issue lists for framework=custom"
            )
        validate_tables("framework.tables", f.tables, c.issues)
    elif f.tables is not None:
        raise ConfigError("framework.tables", f.tables, "tables only with framework=custom")
    for name in ("size", "self_cost"):
        if getattr(c.threat, name) < 0:
            raise ConfigError(f"threat.{name}", getattr(c.threat, name), "a number >= 0")
    _unit("threat.self_cost", c.threat.self_cost)
    for group in ("backlash", "unilateral"):
        for name, v in vars(getattr(c, group)).items():
            if name != "issue" and v < 0:
                raise ConfigError(f"{group}.{name}", v, "a number >= 0")
    _unit("unilateral.rate", c.unilateral.rate)
    _unit("guarantor.vouching", c.guarantor.vouching)
    _unit("guarantor.monitoring", c.guarantor.monitoring)
    for fmt in c.figures.formats:
        if fmt not in ("png", "svg", "pdf"):
            raise ConfigError("figures.formats", fmt, "png, svg or pdf")
    if not 1 <= c.figures.episode <= c.episodes:
        raise ConfigError("figures.episode", c.figures.episode, f"an episode in 1..{c.episodes}")
    for pt in c.figures.cells:
        if len(pt) != 2:
            raise ConfigError("figures.cells", pt, "[trust, pressure] pairs")
    for i, e in enumerate(c.events):
        _validate_event(f"events[{i}]", e, c)
    if c.experiment.name is ExperimentName.map:
        for axis in ("trust", "pressure"):
            values = getattr(c.map, axis)
            if not values:
                raise ConfigError(f"map.{axis}", values, "a non-empty list of numbers in [0, 1]")
            for v in values:
                _unit(f"map.{axis}", v)
        if not c.map.framework:
            raise ConfigError("map.framework", c.map.framework, "a non-empty list of frameworks")
        if FrameworkName.custom in c.map.framework and not c.framework.tables:
            raise ConfigError("map.framework", "custom", "custom only with framework.tables set")


def _validate_event(key: str, e: EventConfig, c: Config) -> None:
    _at_least(f"{key}.episode", e.episode, 1)  # later than ``episodes``: never reached
    t = e.type
    if (
        t in (EventType.trust_shock, EventType.salience, EventType.reliability)
        and e.country is None
    ):
        raise ConfigError(f"{key}.country", None, f"US or MX for a {t.value} event")
    if t in (EventType.salience, EventType.disagreement) and e.issue not in c.issues:
        raise ConfigError(f"{key}.issue", e.issue, f"an issue on the agenda {c.issues}")
    if t is not EventType.unilateral_action:
        _unit(f"{key}.value", e.value)


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
    with initialize_config_module("sim.conf", version_base="1.3"):
        return to_config(compose("config", overrides=overrides))
