"""The schema's value checks: every number finite, every field in its range, every event
with the fields its type needs, each refused with the key, the value and what is allowed."""

import subprocess
from dataclasses import fields, is_dataclass

import pytest
from hydra.errors import ConfigCompositionException
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import EVENT_FIELDS, OPTIONAL_FIELDS, Config, ConfigError, EventType, load


def numeric_keys(node=None, prefix="") -> list[str]:
    """Every dotted config name whose value is a number (issue weights included)."""
    node = node if node is not None else load([])
    out = []
    for f in fields(node):
        value, key = getattr(node, f.name), f"{prefix}{f.name}"
        if is_dataclass(value):
            out += numeric_keys(value, f"{key}.")
        elif isinstance(value, dict):
            out += [f"{key}.{k}" for k in value]
        elif f.type in ("float", "int", "float | None"):
            out.append(key)
    return out


NUMERIC = numeric_keys()


def test_the_schema_has_the_numbers_we_expect():
    assert {"trust", "threat.size", "countries.MX.salience.trade", "guarantor.vouching"} <= set(
        NUMERIC
    )
    assert len(NUMERIC) > 30


@settings(max_examples=25, deadline=None)
@given(key=st.sampled_from(NUMERIC), value=st.sampled_from(["nan", "inf", "-inf"]))
def test_any_non_finite_number_is_refused_with_its_key_named(key, value):
    # integer fields are refused by OmegaConf's types, the others by the schema's one rule
    with pytest.raises((ConfigError, ConfigCompositionException)) as err:
        load([f"{key}={value}"])
    assert f"{key}=" in str(err.value)


@pytest.mark.parametrize(
    "override, key, allowed",
    [
        ("rounds=100000", "rounds", "an integer in [1, 10000]"),
        ("episodes=1e20", "episodes", None),
        ("countries.US.concession=0", "countries.US.concession", "(0, 100]"),
        ("trust_prior=0", "trust_prior", "(0, 1e+06]"),
        ("threat.size=-1", "threat.size", ">= 0"),
        ("figures.episode=21", "figures.episode", "1..20"),
        ("figures.cells=[[0.5]]", "figures.cells", "pairs of values of the map's two axes"),
    ],
)
def test_ranges_beside_their_fields(override, key, allowed):
    with pytest.raises(Exception) as err:
        load([override])
    assert key in str(err.value)
    if allowed:
        assert allowed in str(err.value)


def event(**kw) -> str:
    body = ", ".join(f"{k}: {v}" for k, v in kw.items())
    return f"+events=[{{{body}}}]"


@pytest.mark.parametrize("kind", list(EventType))
def test_every_event_type_needs_its_fields_and_only_those(kind):
    full = {"country": "MX", "issue": "trade", "ratifier": "senate", "value": 0.2}
    needed = {k: full[k] for k in EVENT_FIELDS[kind]}
    senate = "countries.MX.ratifiers=[{name: senate, salience: {trade: 1}}]"
    load([senate, event(episode=3, type=kind.value, **needed)])  # complete: fine
    for missing in needed:
        rest = {k: v for k, v in needed.items() if k != missing}
        with pytest.raises(ConfigError, match=rf"events\[0\]\.{missing}=None"):
            load([senate, event(episode=3, type=kind.value, **rest)])
    for extra in set(full) - set(needed) - set(OPTIONAL_FIELDS.get(kind, ())):
        with pytest.raises(ConfigError, match=rf"events\[0\]\.{extra}="):
            load([senate, event(episode=3, type=kind.value, **needed, **{extra: full[extra]})])


def test_an_event_on_an_issue_off_the_agenda_is_refused():
    with pytest.raises(ConfigError, match=r"events\[0\]\.issue='drugs'"):
        load([event(episode=2, type="salience", country="US", issue="drugs", value=0.3)])


def test_a_bad_event_on_the_command_line_is_one_line_and_exit_2(linkage_cmd, tmp_path):
    bad = event(episode=3, type="disagreement", issue="trade", value=0.2)
    proc = subprocess.run(
        [linkage_cmd, "experiment=single", bad, f"hydra.run.dir={tmp_path / 'run'}", "store=null"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "events[0].country" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "run" / "cells.csv").exists()


def test_defaults_validate():
    assert isinstance(load([]), Config)


@pytest.mark.parametrize(
    "key", ["foo", "threat.sizee", "scenario.foo", "countries.MX.speed", "map.trustt"]
)
def test_the_schema_is_closed_even_to_keys_added_with_plus(key):
    with pytest.raises(ConfigError) as err:
        load([f"+{key}=1"])
    assert err.value.key == key


def test_a_bad_value_in_a_sweep_stops_it_before_any_job_runs(linkage_cmd, tmp_path):
    root = tmp_path / "sweep"
    proc = subprocess.run(
        [linkage_cmd, "-m", "experiment=single", "pressure=0,1.5,0.5", "replications=2",
         "episodes=1", "store=null", f"hydra.sweep.dir={root}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pressure=1.5" in lines[0] and "job 1 of 3" in lines[0]
    assert not root.exists()


def test_a_worlds_table_that_cannot_fit_in_memory_is_refused_before_the_run():
    with pytest.raises(ConfigError, match=r"output.worlds=True .* 20,000,000"):
        load(["output.worlds=true", "replications=1000000"])
    load(["output.worlds=true", "replications=100000"])  # 2,000,000 rows: allowed
