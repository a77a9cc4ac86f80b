"""The record's stylised patterns (``seeds/patterns.yaml``, ``sim/patterns.py``): the shipped
file loads and covers the papers; a pattern that names what does not exist is refused with
its id and field."""

import copy
from pathlib import Path

import pytest
import yaml

from sim import patterns
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
