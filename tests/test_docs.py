"""The docs name only config keys, code and sections that exist.

``docs/odd.md`` and ``docs/model.md`` quote config names in backticks (`threat.size`,
`countries.MX.salience.trade`), command lines (`framework=sequenced framework.link_at=0.6`)
and code as ``module.name`` (`bargaining.negotiate`, `agents.Country.base_salience`). The rule
for telling them apart:

- a backticked word that looks like a dotted name (``^[a-z_]\\w*(\\.[A-Za-z_]\\w*)*$``) is a
  config name if it resolves in the schema (``sim.config.Config``, walked through its nested
  dataclasses; a ``dict`` level is keyed by an issue of the default agenda or of a shipped
  scenario); otherwise it is a code reference if its first part is a module of ``sim/``, and
  must then resolve there; otherwise, if its first part is a top-level config field, it is an
  unknown config name. Anything else (metric names, file names, scenario names) is not checked;
- every ``KEY=VALUE`` in backticks or in a fenced block is an override, and KEY must be a config
  name (a group choice such as ``framework=sequenced`` must name a file in ``conf/<group>/``);
- in a table column headed "config ...", every backticked word must be a config name, and
  where the next column is headed "default", the default it states must be the one the
  composed baseline config has.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import types
import typing
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pytest
import yaml

from sim.config import DEFAULT_ISSUES, Config, load

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHECKED = [DOCS / "odd.md", DOCS / "model.md"]
SIM = ROOT / "sim"
CONF = ROOT / "conf"

NAME = re.compile(r"[a-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
OVERRIDE = re.compile(r"[+~]{0,2}([a-z_][A-Za-z0-9_.]*)=(.*)")
SPAN = re.compile(r"`([^`\n]+)`")
FILE_SUFFIXES = {"csv", "md", "py", "yaml", "yml", "png", "svg", "pdf", "json", "txt", "ipynb"}
GROUPS = ("scenario", "framework", "experiment")  # Hydra groups: their choice is a file


def scenario_issues() -> set[str]:
    issues = set(DEFAULT_ISSUES)
    for path in sorted((CONF / "scenario").glob("*.yaml")):
        issues |= set((yaml.safe_load(path.read_text()) or {}).get("issues") or [])
    return issues


ISSUES = scenario_issues()
TOP = {f.name for f in dataclasses.fields(Config)}


# --- the schema ------------------------------------------------------------------------


def _unwrap(t):
    """``X | None`` -> ``X``."""
    if isinstance(t, types.UnionType) or typing.get_origin(t) is typing.Union:
        args = [a for a in typing.get_args(t) if a is not type(None)]
        return args[0] if len(args) == 1 else t
    return t


def in_schema(name: str) -> bool:
    """Whether the dotted ``name`` is a key of the config schema."""
    node, parts = Config, name.split(".")
    for i, part in enumerate(parts):
        if not dataclasses.is_dataclass(node):
            return False
        hints = typing.get_type_hints(node)
        if part not in {f.name for f in dataclasses.fields(node)}:
            return False
        t, rest = _unwrap(hints[part]), parts[i + 1 :]
        if not rest:
            return True
        if typing.get_origin(t) is dict:  # keyed by issue: countries.MX.salience.trade
            return len(rest) == 1 and rest[0] in ISSUES
        node = t
    return True


def group_choice_exists(group: str, value: str) -> bool:
    choices = [v.strip() for v in value.strip("'\"").split(",")]
    plain = [v for v in choices if re.fullmatch(r"[a-z0-9_]+", v)]
    return all((CONF / group / f"{v}.yaml").exists() for v in plain)


# --- the code --------------------------------------------------------------------------


def is_module(name: str) -> bool:
    return (SIM / f"{name.split('.')[0]}.py").exists()


def _instance_attribute(cls, attr: str) -> bool:
    if dataclasses.is_dataclass(cls) and attr in {f.name for f in dataclasses.fields(cls)}:
        return True
    if attr in getattr(cls, "__annotations__", {}):
        return True
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return False
    return re.search(rf"\bself\.{re.escape(attr)}\b[^=\n]*(?<![<>!=])=(?!=)", source) is not None


def in_code(name: str) -> bool:
    """Whether ``module.attr[.attr]`` names something in ``sim/`` (an instance attribute
    assigned in a class, or a dataclass field, counts as the last part)."""
    first, *rest = name.split(".")
    obj = importlib.import_module(f"sim.{first}")
    for i, attr in enumerate(rest):
        if hasattr(obj, attr):
            obj = getattr(obj, attr)
        elif inspect.isclass(obj) and i == len(rest) - 1:
            return _instance_attribute(obj, attr)
        else:
            return False
    return True


# --- the docs --------------------------------------------------------------------------


@dataclass
class Mention:
    path: Path
    line: int
    text: str  # a name, or the KEY of a KEY=VALUE override
    value: str | None = None  # the VALUE of an override
    strict: bool = False  # in a config column, or an override: must be a config name
    default: str | None = None  # the default its table states, if any

    def __str__(self):
        where = f"{self.path.relative_to(ROOT)}:{self.line}"
        return f"{where}: `{self.text}`" + (f" = {self.value}" if self.value is not None else "")


def _pieces(span: str, path, line, strict, fenced=False):
    if "(" in span.split("=")[0]:
        return  # Python, not a command line: LinkageModel(cfg, record_worlds=[0])
    for piece in span.split():
        piece = piece.strip("'\"")
        m = OVERRIDE.fullmatch(piece)
        if m and "=" in piece:
            key = m.group(1)
            if key.split(".")[0] != "hydra":
                yield Mention(path, line, key, value=m.group(2), strict=True)
        elif not fenced and NAME.fullmatch(piece):
            if "." in piece and piece.rsplit(".", 1)[1] in FILE_SUFFIXES:
                continue  # cells.csv, sim/config.py
            yield Mention(path, line, piece, strict=strict)


def _columns(line: str) -> list[str]:
    """The cells of a table row, splitting on | outside code spans."""
    masked = SPAN.sub(lambda m: "x" * len(m.group(0)), line)
    cuts = [i for i, c in enumerate(masked) if c == "|"]
    return [line[a + 1 : b] for a, b in zip(cuts, cuts[1:], strict=False)]


def mentions(path: Path) -> list[Mention]:
    out: list[Mention] = []
    lines = path.read_text().splitlines()
    fenced = False
    config_cols: dict[int, int | None] = {}  # config column -> its default column
    scenario_cols: set[int] = set()
    for i, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            out += _pieces(line, path, i, strict=True, fenced=True)
            continue
        if not line.startswith("|"):
            config_cols, scenario_cols = {}, set()
            for m in SPAN.finditer(line):
                out += _pieces(m.group(1), path, i, strict=False)
            continue
        cells = _columns(line)
        if i < len(lines) and re.match(r"^\|[\s:|-]+\|\s*$", lines[i]):  # a header row
            heads = [c.strip().lower() for c in cells]
            config_cols = {}
            scenario_cols = {j for j, h in enumerate(heads) if h == "scenario"}
            for j, h in enumerate(heads):
                if h.startswith("config"):
                    has_default = j + 1 < len(heads) and heads[j + 1].startswith("default")
                    config_cols[j] = j + 1 if has_default else None
            continue
        if re.match(r"^\|[\s:|-]+\|\s*$", line):
            continue
        for j, cell in enumerate(cells):
            if j in scenario_cols:
                out += [Mention(path, i, "scenario", value=v) for v in SPAN.findall(cell)]
                continue
            strict = j in config_cols
            found = [p for m in SPAN.finditer(cell) for p in _pieces(m.group(1), path, i, strict)]
            if strict and config_cols[j] is not None and config_cols[j] < len(cells):
                for p in found:
                    p.default = cells[config_cols[j]].strip()
            out += found
    return out


def classify(m: Mention) -> str:
    """``config``, ``code``, ``ignored``, or what is wrong: ``unknown``."""
    if in_schema(m.text):
        if m.value is not None and m.text in GROUPS and not group_choice_exists(m.text, m.value):
            return "unknown"
        return "config"
    if m.value is None and "." in m.text and is_module(m.text):
        return "code" if in_code(m.text) else "unknown"
    if m.strict or m.text.split(".")[0] in TOP:
        return "unknown"
    return "ignored"


ALL = [m for path in CHECKED for m in mentions(path)]


# --- the tests -------------------------------------------------------------------------


def test_the_checker_tells_known_from_unknown_names():
    for good in (
        "threat.size",
        "countries.MX.reliability",
        "countries.MX.salience.trade",
        "countries.US.disagreement.health",
        "framework.link_at",
        "guarantor.vouching",
        "map.trust",
        "scenario.provenance",
        "trust",
    ):
        assert in_schema(good), good
    for bad in (
        "threat.sizes",
        "countries.CA.trust",
        "countries.MX.salience.bananas",
        "framework.link_at.x",
        "trust.prior",
    ):
        assert not in_schema(bad), bad
    assert in_code("trust.prior") and in_code("agents.Country.base_salience")
    assert in_code("model.Round.x") and not in_code("model.LinkageModel.no_such_thing")
    assert classify(Mention(ROOT, 0, "trust.prio")) == "unknown"
    assert classify(Mention(ROOT, 0, "framework", value="nonesuch")) == "unknown"
    assert classify(Mention(ROOT, 0, "framework", value="linked,delinked")) == "config"


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.name)
def test_the_docs_name_many_config_keys(path):
    names = {m.text for m in ALL if m.path == path and classify(m) == "config"}
    assert len(names) >= 30, sorted(names)
    assert {"framework.link_at", "countries.MX.reliability", "threat.size"} <= names


def test_every_config_name_in_the_docs_exists():
    unknown = [str(m) for m in ALL if classify(m) == "unknown" and not is_module(m.text)]
    unknown += [
        str(m)
        for m in ALL
        if classify(m) == "unknown" and is_module(m.text) and m.text.split(".")[0] in TOP
    ]
    assert not unknown, (
        "config names in the docs that resolve neither in the schema nor in sim/:\n"
        + ("\n".join(unknown))
    )


def test_every_code_reference_in_the_docs_exists():
    unknown = [
        str(m)
        for m in ALL
        if classify(m) == "unknown" and is_module(m.text) and m.text.split(".")[0] not in TOP
    ]
    assert not unknown, "code the docs name that sim/ lacks:\n" + "\n".join(unknown)


def _actual(cfg: Config, name: str):
    obj = cfg
    for part in name.split("."):
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    if name in GROUPS:
        obj = obj.name
    if isinstance(obj, list):
        return [v.value if isinstance(v, Enum) else v for v in obj]
    return obj.value if isinstance(obj, Enum) else obj


def _stated(text: str, actual):
    """The default as the docs state it, parsed like YAML; parentheses are comments."""
    text = re.sub(r"\([^)]*\)", "", text).strip()
    spans = SPAN.findall(text)
    if isinstance(actual, list):
        body = (spans[0] if spans else text).strip()
        return [yaml.safe_load(body if body.startswith("[") else f"[{body}]")]
    values = spans if spans else [v for v in text.split(",") if v.strip()]
    return [yaml.safe_load(v.strip()) for v in values]


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _same(stated, actual) -> bool:
    if isinstance(actual, bool) or actual is None or isinstance(actual, str | list):
        return stated == actual
    return isinstance(stated, int | float) and stated == pytest.approx(actual)


def test_every_default_the_docs_state_is_the_baseline_default():
    cfg = load([])
    rows: dict[tuple, list[Mention]] = {}
    for m in ALL:
        if m.default is not None and m.value is None and classify(m) == "config":
            rows.setdefault((m.path, m.line, m.default), []).append(m)
    wrong, checked = [], 0
    for (_, _, default), keys in rows.items():
        actual = [_actual(cfg, m.text) for m in keys]
        stated = _stated(default, actual[0])
        if len(stated) == 1:
            stated = stated * len(keys)
        if len(stated) != len(keys) or any(
            isinstance(s, str) and _number(a) for s, a in zip(stated, actual, strict=True)
        ):
            continue  # a default written as prose (e.g. per-issue weights)
        for m, s, a in zip(keys, stated, actual, strict=True):
            checked += 1
            if not _same(s, a):
                wrong.append(f"{m}: the docs say {s!r}, the baseline config has {a!r}")
    assert checked >= 40, checked
    assert not wrong, "defaults the docs misstate:\n" + "\n".join(wrong)


def test_the_per_issue_defaults_the_docs_state_are_the_baselines():
    """Rows such as `countries.US.salience.trade` | US (0.20, 0.40, ...); MX (0.35, ...)."""
    cfg = load([])
    found = 0
    for m in ALL:
        hit = re.fullmatch(r"US \(([^)]*)\); MX \(([^)]*)\)", m.default or "")
        what = m.text.split(".")
        if not hit or len(what) != 4 or what[0] != "countries":
            continue
        for side, values in zip(("US", "MX"), hit.groups(), strict=True):
            stated = [float(v) for v in values.split(",")]
            table = getattr(getattr(cfg.countries, side), what[2])
            assert stated == pytest.approx([table[k] for k in cfg.issues]), f"{m}: {side}"
            found += 1
    assert found == 4


def model_sections() -> set[str]:
    text = (DOCS / "model.md").read_text()
    return set(re.findall(r"^## (\d+)\.", text, re.M)) | set(
        re.findall(r"^### (\d+\.\d+) ", text, re.M)
    )


def test_every_reference_to_a_section_of_model_md_exists():
    sections = model_sections()
    assert {"1", "3.4", "11"} <= sections
    bad = []
    for path in [*sorted(DOCS.glob("*.md")), *sorted(SIM.glob("*.py"))]:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            for ref in re.findall(r"model\.md\s*§\s*(\d+(?:\.\d+)?)", line):
                if ref not in sections:
                    bad.append(f"{path.relative_to(ROOT)}:{i}: docs/model.md §{ref}")
    assert not bad, "sections of docs/model.md that do not exist:\n" + "\n".join(bad)


def test_odd_points_to_model_md_for_every_submodel():
    odd = (DOCS / "odd.md").read_text()
    cited = set(re.findall(r"docs/model\.md §(\d+(?:\.\d+)?)", odd))
    submodels = {"1", "2", "3.1", "3.2", "3.3", "3.4", "3.5", "4", "5", "6", "7", "8", "9", "10"}
    assert submodels <= cited


def test_the_docs_stand_on_their_own():
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        assert "DESIGN" not in text and "../shared" not in text, path.name


def test_the_docs_readme_lists_every_doc():
    listed = (DOCS / "README.md").read_text()
    for path in sorted(DOCS.glob("*.md")):
        if path.name != "README.md":
            assert f"`{path.name}`" in listed, path.name


def test_every_evidence_id_in_the_docs_resolves():
    known = {
        e["id"] for e in yaml.safe_load((ROOT / "seeds" / "evidence.yaml").read_text())["evidence"]
    }
    cited = {
        i for path in CHECKED for i in re.findall(r"\bev-[a-z0-9-]*[a-z0-9]", path.read_text())
    }
    assert len(cited) >= 20
    assert not sorted(cited - known), "evidence ids not in seeds/evidence.yaml"
