"""The command line: bad input, outputs and reproducibility (DESIGN 2.3-2.5)."""

import csv
import subprocess

import pytest

SMALL_MAP = [
    "replications=8",
    "episodes=3",
    "rounds=30",
    "map.trust=[0.2,0.7]",
    "map.pressure=[0.0,0.6]",
]


def run(cmd, tmp_path, *args, name="run", store="null"):
    """Run ``linkage`` into ``tmp_path/name``; by default with no shared cell store."""
    out = tmp_path / name
    proc = subprocess.run(
        [cmd, *args, f"hydra.run.dir={out}", f"store={store}"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    return proc, out


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    "override, named",
    [
        ("trust=1.5", "trust=1.5"),
        ("pressure=-0.1", "pressure=-0.1"),
        ("episodes=0", "episodes=0"),
        ("rounds=0", "rounds=0"),
        ("replications=0", "replications=0"),
        ("seed=-1", "seed=-1"),
        ("noise=2", "noise=2"),
        ("countries.MX.reliability=1.2", "countries.MX.reliability=1.2"),
        ("countries.US.salience.trade=0.5", "countries.US.salience"),
        ("trust=abc", "trust=abc"),
        ("trustt=0.5", "trustt"),
        ("scenario=atlantis", "scenario/atlantis"),
        ("framework=bundled", "framework/bundled"),
        ("experiment=grid", "experiment/grid"),
        ("countries.US.salience.drugs=0.1", "drugs"),
        ("framework=custom", "framework.tables"),
        ("experiment=map map.trust=[0.5,2]", "map.trust=2"),
    ],
)
def test_bad_input_gets_one_clear_line_and_no_output(linkage_cmd, tmp_path, override, named):
    proc, out = run(linkage_cmd, tmp_path, "experiment=single", *override.split())
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("linkage: error:"), proc.stderr
    assert named in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (out / "cells.csv").exists()


@pytest.mark.parametrize(
    "tables, why",
    [
        ("[[trade],[security,migration]]", "'sovereignty' is missing"),
        ("[[trade,security],[security,migration,sovereignty]]", "'security' is on more than one"),
        ("[[trade,security,migration,sovereignty,drugs]]", "'drugs' is not one"),
    ],
)
def test_tables_must_partition_the_issues(linkage_cmd, tmp_path, tables, why):
    proc, out = run(
        linkage_cmd, tmp_path, "framework=custom", f"framework.tables={tables}", "experiment=single"
    )
    assert proc.returncode == 2 and why in proc.stderr and "framework.tables" in proc.stderr


def test_full_error_shows_the_traceback(linkage_cmd, tmp_path):
    import os

    env = dict(os.environ, HYDRA_FULL_ERROR="1")
    proc = subprocess.run(
        [linkage_cmd, "trust=1.5", "experiment=single", f"hydra.run.dir={tmp_path}"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_same_config_and_seed_give_byte_identical_files(linkage_cmd, tmp_path):
    a, out_a = run(linkage_cmd, tmp_path, *SMALL_MAP, name="a")
    b, out_b = run(linkage_cmd, tmp_path, *SMALL_MAP, "jobs=1", name="b")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert f"results in {out_a}" in a.stdout
    for name in ("cells.csv", "trajectories.csv"):
        assert (out_a / name).read_bytes() == (out_b / name).read_bytes()
    c, out_c = run(linkage_cmd, tmp_path, *SMALL_MAP, "seed=1", name="c")
    assert (out_a / "cells.csv").read_bytes() != (out_c / "cells.csv").read_bytes()


def test_a_cell_alone_equals_the_same_cell_inside_the_map(linkage_cmd, tmp_path):
    _, grid = run(linkage_cmd, tmp_path, *SMALL_MAP, name="grid")
    _, alone = run(
        linkage_cmd,
        tmp_path,
        *SMALL_MAP[:3],
        "experiment=single",
        "framework=delinked",
        "trust=0.7",
        "pressure=0.6",
        name="alone",
    )
    [single] = rows(alone / "cells.csv")
    match = [
        r
        for r in rows(grid / "cells.csv")
        if (r["framework"], r["trust"], r["pressure"]) == ("delinked", "0.7", "0.6")
    ]
    assert match == [single]
    traj = [
        r
        for r in rows(grid / "trajectories.csv")
        if r["framework"] == "delinked" and r["trust"] == "0.7" and r["pressure"] == "0.6"
    ]
    assert traj == rows(alone / "trajectories.csv")


def test_outputs_have_the_design_columns(linkage_cmd, tmp_path):
    proc, out = run(linkage_cmd, tmp_path, *SMALL_MAP, "output.worlds=true")
    assert proc.returncode == 0, proc.stderr
    cells = rows(out / "cells.csv")
    assert len(cells) == 2 * 2 * 2
    for col in (
        "scenario",
        "framework",
        "trust",
        "pressure",
        "seed",
        "replications",
        "episodes",
        "agreement_rate",
        "efficiency_ci95",
        "mx_share",
        "nash_product",
        "final_trust_us",
        "final_trust_mx",
        "linked",
        "rounds",
    ):
        assert col in cells[0]
    assert len(rows(out / "trajectories.csv")) == 8 * 3
    assert len(rows(out / "worlds.csv")) == 8 * 3 * 8
