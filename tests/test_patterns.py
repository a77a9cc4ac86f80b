"""The record's stylised patterns (``seeds/patterns.yaml``, ``sim/patterns.py``): the shipped
file loads and covers the papers; a pattern that names what does not exist is refused with
its id and field."""

import copy
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import patterns
from sim.analysis import record
from sim.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
FILE, EVIDENCE = ROOT / "seeds" / "patterns.yaml", ROOT / "seeds" / "evidence.yaml"


def sources() -> dict[str, str]:
    return {e["id"]: e["source"] for e in yaml.safe_load(EVIDENCE.read_text())["evidence"]}


def test_the_shipped_patterns_load_and_draw_on_every_paper():
    shipped = patterns.load(FILE, EVIDENCE)
    assert len(shipped) >= 12
    papers = yaml.safe_load((ROOT / "seeds" / "sources.yaml").read_text())["sources"]
    cited = {sources()[e] for p in shipped for e in p.evidence}
    assert cited == {s["id"] for s in papers}, "every paper is drawn on"
    assert sum("did not happen" in p.claim for p in shipped) >= 2
    # a number to compare with must come from the papers: every threshold pattern cites them
    for p in shipped:
        if isinstance(p.against, float):
            assert p.evidence and 0.0 <= p.against <= 1.0, p.id


def one(**change) -> dict:
    """The first shipped pattern with fields changed (None: removed)."""
    raw = copy.deepcopy(yaml.safe_load(FILE.read_text())["patterns"][0])
    for key, value in change.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


@pytest.mark.parametrize(
    "change,key",
    [
        ({"id": "tariff"}, "patterns[].id"),
        ({"scenario": "tariff_threat_2018"}, "scenario"),
        ({"framework": "bundled"}, "framework"),
        ({"metric": "position.drugs"}, "metric"),  # tariff_threat_2019 has no drugs issue
        ({"episodes": [6, 21]}, "episodes"),
        ({"episodes": [6]}, "episodes"),
        ({"evidence": ["ev-no-such-item"]}, "evidence"),
        ({"evidence": None}, "evidence"),
        ({"period": {"start": "2019-13", "end": "2019-12"}}, "period"),
        ({"period": {"start": "2019-12", "end": "2019-06"}}, "period"),
        ({"direction": "equal"}, "direction"),
        ({"against": {"overrides": ["pressure=2"]}}, "against.overrides"),
        ({"against": {"episodes": [6, 12]}}, "against"),  # the run itself
        ({"against": {"seed": 3}}, "against"),
        ({"against": True}, "against"),
        ({"test": "above"}, "test"),
    ],
)
def test_a_pattern_that_names_what_does_not_exist_is_refused(change, key):
    raw = one(**change)
    with pytest.raises(ConfigError) as err:
        patterns.pattern(raw, set(sources()))
    pid = raw.get("id")
    want = key if key.startswith("patterns[]") else f"patterns[{pid}].{key}"
    assert err.value.key == want, err.value


def test_pattern_ids_must_be_distinct(tmp_path):
    raw = yaml.safe_load(FILE.read_text())
    raw["patterns"] = raw["patterns"][:1] * 2
    path = tmp_path / "patterns.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="distinct pattern ids"):
        patterns.load(path, EVIDENCE)


def test_a_reference_inherits_what_it_does_not_name():
    p = patterns.pattern(one(), set(sources()))
    assert p.against.scenario == p.run.scenario and p.against.metric == p.run.metric
    assert (p.against.first, p.against.last) == (p.run.first, p.run.last)
    assert p.against.overrides == ("events=[]",) and p.run.overrides == ()


SMALL = """
patterns:
  - id: pat-zambada-trust
    claim: The capture costs Mexican trust.
    evidence: [ev-zambada-capture-2024]
    period: {start: 2024-07, end: 2024-09}
    scenario: zambada_2024
    framework: delinked
    metric: trust_mx
    episodes: [7, 9]
    direction: below
    against: {overrides: ["events=[]"]}
  - id: pat-zambada-trust-high
    claim: A threshold the model cannot meet, to see a failure reported as one.
    evidence: [ev-payan-low-trust-unilateralism]
    period: {start: 2024-01, end: 2024-12}
    scenario: zambada_2024
    framework: delinked
    metric: trust_mx
    episodes: [1, 12]
    direction: above
    against: 0.99
"""


def run_patterns(linkage_cmd, tmp_path, *extra):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "p.yaml").write_text(SMALL)
    out = tmp_path / "run"
    proc = subprocess.run(
        [linkage_cmd, "experiment=patterns", f"patterns.file={tmp_path / 'p.yaml'}",
         f"patterns.evidence={EVIDENCE}", "replications=30", f"hydra.run.dir={out}", *extra],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return proc, out


def test_experiment_patterns_reads_each_pattern_from_the_runs_as_worlds_csv_does(
    linkage_cmd, tmp_path
):
    proc, out = run_patterns(linkage_cmd, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "1 of 2 patterns reproduced" in proc.stdout
    table = pd.read_csv(out / "patterns.csv")
    assert list(table.id) == ["pat-zambada-trust", "pat-zambada-trust-high"]
    assert list(table["pass"]) == [True, False]
    assert (table["pass"] == (table.margin_low > 1e-9)).all()
    assert (out / "figures" / "patterns.png").stat().st_size > 5_000
    # the same numbers from the command line's own per-world table, computed apart
    for name, extra in (("with", []), ("without", ["events=[]"])):
        w = tmp_path / name
        subprocess.run(
            [linkage_cmd, "scenario=zambada_2024", "framework=delinked", "experiment=single",
             "replications=30", "output.worlds=true", "store=null", "figures.enabled=false",
             f"hydra.run.dir={w}", *extra],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        worlds = pd.read_csv(w / "worlds.csv")
        window = worlds[(worlds.episode >= 7) & (worlds.episode <= 9)]
        per_world = window.groupby("world").trust_mx.mean()
        got = table.loc[0, "value" if name == "with" else "against"]
        assert abs(per_world.mean() - got) < 1e-12, (name, per_world.mean(), got)
        if name == "with":
            half = 1.959963984540054 * per_world.std(ddof=1) / np.sqrt(len(per_world))
            assert abs(table.loc[0, "value_high"] - got - half) < 1e-12
    assert table.loc[0, "margin"] == pytest.approx(table.loc[0, "against"] - table.loc[0, "value"])


def test_experiment_patterns_refuses_a_missing_file_and_an_unknown_id(linkage_cmd, tmp_path):
    proc, _ = run_patterns(linkage_cmd, tmp_path, "patterns.ids=[pat-nothing]")
    assert proc.returncode == 2 and "patterns.ids='pat-nothing'" in proc.stderr
    proc = subprocess.run(
        [linkage_cmd, "experiment=patterns", "patterns.file=nowhere.yaml",
         f"hydra.run.dir={tmp_path / 'x'}"], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and "patterns.file='nowhere.yaml'" in proc.stderr


def test_experiment_patterns_runs_as_a_multirun(linkage_cmd, tmp_path):
    (tmp_path / "p.yaml").write_text(SMALL)
    proc = subprocess.run(
        [linkage_cmd, "-m", "experiment=patterns", f"patterns.file={tmp_path / 'p.yaml'}",
         f"patterns.evidence={EVIDENCE}", "patterns.ids=[pat-zambada-trust-high]",
         "replications=10,20", f"hydra.sweep.dir={tmp_path / 'm'}"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for job in ("0", "1"):
        table = pd.read_csv(tmp_path / "m" / job / "patterns.csv")
        assert list(table.id) == ["pat-zambada-trust-high"]


def test_model_values_on_the_command_line_apply_to_every_run(linkage_cmd, tmp_path):
    _, plain = run_patterns(linkage_cmd, tmp_path, "patterns.ids=[pat-zambada-trust-high]")
    proc, high = run_patterns(linkage_cmd, tmp_path / "b", "patterns.ids=[pat-zambada-trust-high]",
                              "countries.MX.trust=0.95")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    a, b = (pd.read_csv(d / "patterns.csv").loc[0, "value"] for d in (plain, high))
    assert b > a + 0.2  # Mexico starts trusting the US at 0.95 instead of the scenario's 0.25
    task = ["experiment=patterns", "trust=0.3", "+patterns.ids=[x]", "hydra.run.dir=o",
            "countries.MX.trust=0.9", "calibration=record", "calibration.n=3"]  # fmt: skip
    assert record.model_overrides(task) == ["trust=0.3", "countries.MX.trust=0.9",
                                            "calibration=record"]  # fmt: skip
