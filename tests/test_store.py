"""The cell store serves a record only when it is whole and is the one asked for; anything
else is recomputed, to the same bytes."""

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import design, runner, summary
from sim.config import load
from sim.store import DamagedRecord, Store

SMALL = ["map.trust=[0.2,0.8]", "map.pressure=[0,1]", "replications=5", "episodes=2",
         "rounds=20", "jobs=1", "figures.enabled=false"]  # fmt: skip


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A small grid run once with a store: its files and its store."""
    root = tmp_path_factory.mktemp("ref")
    cfg = load(SMALL)
    files = runner.run(cfg, root / "run", root / "store")
    texts = {name: path.read_bytes() for name, path in files.items()}
    return cfg, root / "store", texts


def rerun(cfg, store_root, tmp_path, name="again"):
    files = runner.run(cfg, tmp_path / name, store_root)
    return {n: p.read_bytes() for n, p in files.items()}


def records(cfg, store_root):
    store = Store(store_root, cfg, summary.files(cfg))
    return store, [store.path(c) for c in design.cells(cfg)]


def copy_store(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.floats(0.0, 0.999))
def test_any_truncated_record_is_recomputed_to_the_same_bytes(reference, tmp_path_factory, cut):
    cfg, store_root, texts = reference
    tmp = tmp_path_factory.mktemp("cut")
    store_root = copy_store(store_root, tmp / "store")
    _, paths = records(cfg, store_root)
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[: int(cut * len(data))])
    assert rerun(cfg, store_root, tmp) == texts
    assert paths[1].read_bytes() == data  # stored again, whole


@pytest.mark.parametrize("damage", ["empty", "garbage", "no_key", "list", "short_row"])
def test_damaged_records_are_named_and_recomputed(reference, tmp_path, caplog, damage):
    cfg, store_root, texts = reference
    store_root = copy_store(store_root, tmp_path / "store")
    store, paths = records(cfg, store_root)
    record = json.loads(paths[0].read_text())
    if damage == "empty":
        paths[0].write_text("")
    elif damage == "garbage":
        paths[0].write_bytes(b"\x00\xff not json")
    elif damage == "no_key":
        paths[0].write_text(json.dumps({k: v for k, v in record.items() if k != "cells"}))
    elif damage == "list":
        paths[0].write_text("[1, 2]")
    elif damage == "short_row":
        record["cells"] = record["cells"].split(",", 3)[0] + "\n"
        paths[0].write_text(json.dumps(record))
    with pytest.raises(DamagedRecord, match=str(paths[0].name)):
        store.load(design.cells(cfg)[0])
    with caplog.at_level(logging.WARNING):
        assert rerun(cfg, store_root, tmp_path) == texts
    assert paths[0].name in caplog.text


def test_a_record_copied_over_another_cells_file_is_not_served(reference, tmp_path):
    cfg, store_root, texts = reference
    store_root = copy_store(store_root, tmp_path / "store")
    _, paths = records(cfg, store_root)
    paths[2].write_bytes(paths[0].read_bytes())  # cell 0's rows under cell 2's name
    assert rerun(cfg, store_root, tmp_path) == texts


def test_a_record_of_another_config_is_not_served(reference, tmp_path):
    cfg, store_root, texts = reference
    store_root = copy_store(store_root, tmp_path / "store")
    _, paths = records(cfg, store_root)
    record = json.loads(paths[0].read_text())
    record["fingerprint"] = "0" * 20
    paths[0].write_text(json.dumps(record))
    assert rerun(cfg, store_root, tmp_path) == texts
