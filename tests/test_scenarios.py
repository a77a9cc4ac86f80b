"""The shipped scenarios and the evidence base behind them (seeds/, conf/scenario/).

Every scenario in ``conf/scenario/`` composes and validates, runs from the command line,
is named after its file, teaches something, and cites evidence that resolves: every
provenance id is an item of ``seeds/evidence.yaml`` and every item's source is a document
of ``seeds/sources.yaml``. Ids cited in a scenario's comments (where each value says which
evidence justifies it) must be in its provenance, and each provenance id must be cited at a
value, so that the list and the comments cannot drift apart.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from sim.config import load, scenario_names
from sim.model import disabled_parts

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = ROOT / "conf" / "scenario"
SCENARIOS = scenario_names()
# The episodes and proposals the seed papers discuss: what must ship (the test's own list)
HISTORICAL = [
    "merida_2007",
    "tariff_threat_2019",
    "fto_threat_2019",
    "cienfuegos_2020",
    "bicentennial_2021",
    "zambada_2024",
    "comprehensive_framework",
    "north_american_treaty",
]
EVIDENCE_ID = re.compile(r"\bev-[a-z0-9]+(?:-[a-z0-9]+)*\b")


def raw(name: str) -> dict:
    return yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text())


def comments(name: str) -> str:
    """The comment text of a scenario file (everything after a # on each line)."""
    lines = (SCENARIO_DIR / f"{name}.yaml").read_text().splitlines()
    return "\n".join(line.split("#", 1)[1] for line in lines if "#" in line)


def last_event(name: str) -> int:
    return max((e["episode"] for e in raw(name).get("events") or []), default=1)


@pytest.fixture(scope="module")
def evidence() -> dict[str, dict]:
    items = yaml.safe_load((ROOT / "seeds" / "evidence.yaml").read_text())["evidence"]
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "duplicate evidence ids"
    return {item["id"]: item for item in items}


@pytest.fixture(scope="module")
def sources() -> set[str]:
    docs = yaml.safe_load((ROOT / "seeds" / "sources.yaml").read_text())["sources"]
    return {d["id"] for d in docs}


def test_every_scenario_the_papers_discuss_is_shipped():
    assert set(HISTORICAL) <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_composes_validates_and_is_named_after_its_file(name):
    cfg = load([f"scenario={name}", "experiment=single", "replications=2"])
    assert cfg.scenario.name == name
    assert cfg.scenario.teaching.strip()
    assert last_event(name) <= cfg.episodes
    # no part of the model silently switches off for a missing issue
    assert disabled_parts(cfg) == []


@pytest.mark.parametrize("name", HISTORICAL)
def test_teaching_poses_a_question_and_gives_command_lines(name):
    teaching = load([f"scenario={name}", "experiment=single"]).scenario.teaching
    for part in ("QUESTION", "WHAT TO LOOK AT", "THINGS TO TRY"):
        assert part in teaching
    assert f"linkage scenario={name}" in teaching


@pytest.mark.parametrize("name", HISTORICAL)
def test_teaching_command_lines_compose_and_validate(name):
    teaching = raw(name)["scenario"]["teaching"]
    commands = [ln.strip() for ln in teaching.splitlines() if ln.strip().startswith("linkage ")]
    assert commands
    for command in commands:
        load(shlex.split(command)[1:])  # raises on a bad key, value or group


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_runs_from_the_command_line(name, linkage_cmd, tmp_path):
    out = tmp_path / "run"
    episodes = max(2, last_event(name))
    proc = subprocess.run(
        [
            linkage_cmd,
            f"scenario={name}",
            "experiment=single",
            "replications=5",
            f"episodes={episodes}",
            "store=null",
            "figures.enabled=false",
            f"hydra.run.dir={out}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    cells = (out / "cells.csv").read_text().splitlines()
    assert len(cells) == 2 and cells[1].startswith(f"{name},")


@pytest.mark.parametrize("name", HISTORICAL)
def test_provenance_resolves_in_the_evidence_base(name, evidence):
    provenance = load([f"scenario={name}", "experiment=single"]).scenario.provenance
    assert provenance, "a historical or proposed scenario cites its evidence"
    assert len(provenance) == len(set(provenance))
    missing = [i for i in provenance if i not in evidence]
    assert not missing, f"{name}: unknown evidence ids {missing}"


@pytest.mark.parametrize("name", SCENARIOS)
def test_comments_and_provenance_cite_the_same_evidence(name):
    provenance = set(raw(name)["scenario"]["provenance"])
    cited = set(EVIDENCE_ID.findall(comments(name)))
    assert not cited - provenance, f"{name}: cited but not in provenance: {cited - provenance}"
    assert not provenance - cited, f"{name}: never cited in a comment: {provenance - cited}"


def test_every_evidence_item_has_a_known_source(evidence, sources):
    unknown = {i: item["source"] for i, item in evidence.items() if item["source"] not in sources}
    assert not unknown, f"evidence with unknown sources: {unknown}"
    for i, item in evidence.items():
        assert item.get("locator") and item.get("summary", "").strip(), i
