"""experiment=calibrate (``sim/analysis/calibrate.py``): rejection ABC through ELFI, checked on
a conjugate case with a known posterior, then end to end on the record's patterns."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import calibrate
from sim.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[1]


def test_rejection_abc_recovers_a_normal_mean_with_known_variance():
    # y_1..y_50 ~ N(mu, 1), a flat prior on [-5, 5]: the posterior is N(ybar, 1/50) (the prior
    # cut at 5 standard deviations changes nothing). The "margin" is minus the distance of the
    # simulated mean from the observed one, so the distance is |ybar_sim - ybar|.
    rng = np.random.default_rng(11)
    y = rng.normal(1.3, 1.0, 50)

    def simulate(X, seed):
        sims = np.random.default_rng(seed).normal(X[:, :1], 1.0, (len(X), 50))
        return -np.abs(sims.mean(axis=1, keepdims=True) - y.mean())

    result = calibrate.fit({"mu": (-5.0, 5.0)}, simulate, n=2000, quantile=0.01, batch=20_000,
                           seed=5)  # fmt: skip
    post = result.posterior[:, 0]
    assert len(post) == 2000 and result.draws.shape == (200_000, 1)
    assert abs(post.mean() - y.mean()) < 0.02
    assert abs(post.std() - 1 / np.sqrt(50)) < 0.015
    # the kept draws are the nearest
    d = result.distance
    assert d[result.kept].max() <= np.delete(d, result.kept).min()


def config(tmp_path, *extra):
    cfg = load(["experiment=calibrate", "replications=4", "calibration.n=4",
                "calibration.quantile=0.5", "calibration.batch=4", *extra])  # fmt: skip
    cfg.patterns.file = str(ROOT / "seeds" / "patterns.yaml")
    cfg.patterns.evidence = str(ROOT / "seeds" / "evidence.yaml")
    cfg.calibration.priors = {"forgetting": [0.8, 1.0], "countries.MX.reliability": [0.6, 1.0]}
    cfg.figures.formats = ["png"]
    return cfg


def test_calibration_writes_the_posterior_its_predictive_checks_and_a_config_option(tmp_path):
    cfg = config(tmp_path, "patterns.ids=[pat-trust-very-low-2024,pat-health-builds-trust]",
                 "calibration.until=2024-06")  # fmt: skip
    paths = calibrate.write(cfg, tmp_path)
    post = pd.read_csv(paths["posterior"])
    assert list(post.columns) == ["forgetting", "countries.MX.reliability", "distance", "weight"]
    assert post.weight.sum() == pytest.approx(1.0)
    assert len(post) == 4 and post.forgetting.between(0.8, 1.0).all()
    assert (np.diff(post.distance) >= 0).all()
    rates = pd.read_csv(paths["predictive"])
    # only the pattern ending by 2024-06 is fitted; the 2024 one is predicted
    assert dict(zip(rates.id, rates.use, strict=True)) == {
        "pat-health-builds-trust": "fitted",
        "pat-trust-very-low-2024": "predicted",
    }
    assert rates[["posterior", "prior"]].stack().between(0, 1).all()
    option = paths["calibration"].read_text()
    assert "calibration:\n  name: record" in option and "\nforgetting: " in option
    assert paths["posterior.png"].stat().st_size > 5_000
    # the option loads as a config group, the fitted values in place
    group = tmp_path / "groups" / "calibration"
    group.mkdir(parents=True)
    (group / "fitted.yaml").write_text(option)
    fitted = load(["calibration=fitted", "experiment=single"], config_dir=tmp_path / "groups")
    assert fitted.calibration.name == "record"
    assert fitted.forgetting == pytest.approx(post.forgetting.mean(), rel=1e-5)
    mean = post["countries.MX.reliability"].mean()
    assert fitted.countries.MX.reliability == pytest.approx(mean, rel=1e-5)


@pytest.mark.parametrize(
    "override,key",
    [
        ("+calibration.priors.trust=[0,1]", "calibration.priors"),
        ("calibration.until=2020-13", "calibration.until"),
        ("calibration.quantile=0", "calibration.quantile"),
    ],
)
def test_bad_calibration_config_names_the_key(override, key):
    with pytest.raises(ConfigError) as err:
        load(["experiment=calibrate", override])
    assert err.value.key == key


def test_a_known_point_is_recovered_where_the_patterns_can_tell():
    # patterns made from the model itself at a known point: Mexican trust after the Zambada
    # capture and in 2024 depend strongly on how fast evidence is forgotten, and on nothing
    # else here; the posterior must cover the point and be narrower than the prior for
    # forgetting, and stay about as wide as the prior for the noise the patterns do not see
    from sim import patterns

    found = patterns.load(ROOT / "seeds" / "patterns.yaml", ROOT / "seeds" / "evidence.yaml")
    found = [p for p in found if p.id in ("pat-zambada-cuts-mexican-trust",
                                          "pat-trust-very-low-2024")]  # fmt: skip
    names, theta = ["forgetting", "countries.US.reliability"], np.array([0.9, 0.8])
    synthetic = calibrate.recovery_patterns(
        found, names, theta, replications=10, seed=1, delta=0.01
    )
    assert len(synthetic) == 4

    from sim.analysis import record

    def simulate(X, seed):  # the targets' own worlds (common random numbers): 10 worlds a
        return record.margins(synthetic, names, X, 10, seed=1)  # point cannot beat their noise

    priors = {"forgetting": (0.8, 1.0), "countries.US.reliability": (0.6, 1.0)}
    result = calibrate.fit(priors, simulate, n=30, quantile=0.1, batch=300, seed=2)
    post = result.posterior
    lo, hi = np.quantile(post[:, 0], [0.05, 0.95])
    assert lo <= 0.9 <= hi and (hi - lo) < 0.5 * 0.2  # forgetting: recovered, identified
    us = np.quantile(post[:, 1], [0.05, 0.95])
    assert us[1] - us[0] > 0.5 * 0.4  # US reliability: these patterns cannot tell


def test_an_interrupted_calibration_resumes_from_its_simulated_batches(tmp_path, monkeypatch):
    from sim.analysis import record

    cfg = config(tmp_path, "patterns.ids=[pat-trust-very-low-2024]", "calibration.n=4",
                 "calibration.quantile=0.5", "calibration.batch=2")  # fmt: skip
    cfg.figures.enabled = False
    real, calls = record.margins, []

    def interrupted(*args, **kw):
        if len(calls) == 2:  # the third of four batches
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(record, "margins", interrupted)
    store = tmp_path / "store"
    with pytest.raises(KeyboardInterrupt):
        calibrate.write(cfg, tmp_path / "first", store=store)
    assert len(list(store.rglob("batch-*.npz"))) == 2

    def counted(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(record, "margins", counted)
    calls.clear()
    resumed = calibrate.write(cfg, tmp_path / "second", store=store)
    assert len(calls) == 2  # only the two batches not simulated before
    calls.clear()
    again = calibrate.write(cfg, tmp_path / "third", store=store)
    assert calls == []  # everything read back
    for name in ("posterior", "predictive"):
        assert resumed[name].read_bytes() == again[name].read_bytes()
    monkeypatch.setattr(record, "margins", real)
    fresh = calibrate.write(cfg, tmp_path / "fresh", store=tmp_path / "other")
    assert fresh["posterior"].read_bytes() == again["posterior"].read_bytes()
