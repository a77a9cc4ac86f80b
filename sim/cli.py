"""The ``linkage`` command: Hydra composes the config, the runner does the job.

Bad input ends in one line on stderr naming the key, the value and what is allowed, and
exit status 2; ``HYDRA_FULL_ERROR=1`` shows the traceback instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import hydra
import hydra._internal.utils as hydra_utils
import yaml
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.hydra_config import HydraConfig
from hydra.core.object_type import ObjectType
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from sim import pool
from sim.config import ANALYSED, RECORD, ConfigError, ExperimentName, register, to_config
from sim.errors import one_line, unparsable
from sim.sweep import StopRun

log = logging.getLogger("linkage")
register()


def fail(message: str, out: Path | None = None) -> None:
    """One line on stderr, exit 2, and no run directory holding only Hydra's own files."""
    if out is not None and out.is_dir():
        leftovers = [p for p in out.iterdir() if p.name != ".hydra" and p.suffix != ".log"]
        if not leftovers:
            shutil.rmtree(out, ignore_errors=True)
    stop(message, 2)


def _run_and_report(func):
    # Hydra prints composition errors over several lines and exits 1; we want one line and
    # a usage-error status. Hydra 1.3 looks this function up by name, so replacing it is the
    # narrowest hook (the version is pinned below 1.4).
    full = os.environ.get("HYDRA_FULL_ERROR") == "1"
    try:
        return func()
    except StopRun as ex:  # a callback's verdict: already one line
        if full:
            raise
        stop(ex.message, ex.status)
    # a scenario file with a syntax error: the parser's error comes unwrapped
    except (ConfigError, HydraException, OmegaConfBaseException, yaml.YAMLError) as ex:
        if full:
            raise
        fail(one_line(ex))
    except UnicodeDecodeError as ex:  # a config file saved in another encoding
        where = unparsable(ex)
        if full or where is None:  # not a file we can name: a fault, keep the traceback
            raise
        fail(where)


@hydra.main(version_base="1.3", config_path="pkg://sim.conf", config_name="config")
def _main(dcfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    out = Path(HydraConfig.get().runtime.output_dir)
    try:
        cfg = to_config(dcfg)
    except ConfigError as ex:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        fail(str(ex), out)
    if cfg.calibration.name == "none":
        log.info("uncalibrated: free parameters at their defaults (calibration=record: fitted)")
    else:
        log.info("calibration=%s: the fitted free parameters", cfg.calibration.name)
    if cfg.experiment.name in RECORD:  # the record's patterns: runs of their own
        from sim.analysis import calibrate, record

        store = None if cfg.store is None else Path(HydraConfig.get().runtime.cwd) / cfg.store
        try:
            values = tuple(record.model_overrides(list(HydraConfig.get().overrides.task)))
            if cfg.experiment.name is ExperimentName.patterns:
                files = record.write(cfg, out, values)
            else:
                files = calibrate.write(cfg, out, values, store)
        except KeyboardInterrupt:
            stop("interrupted; the same command resumes from the batches already simulated", 130)
        except OSError as ex:
            stop(f"{ex.filename or out}: {ex.strerror or ex}", 1)
        log.info("wrote %s", ", ".join(p.name for p in files.values()))
        print(f"linkage: results in {out}")
        return
    store = None if cfg.store is None else Path(HydraConfig.get().runtime.cwd) / cfg.store
    # The figures are drawn by a process forked now, which loads matplotlib on the core this
    # one leaves idle while it loads the engine.
    painter = pool.Ahead(_import_for_drawing) if cfg.figures.enabled else None
    from sim import runner  # the engine (and Mesa) only once the config is known to be good

    try:
        files = runner.run(cfg, out, store)
        if cfg.experiment.name in ANALYSED:
            from sim.analysis import analyse

            files.update(analyse.write(cfg, out, files))
        log.info("wrote %s", ", ".join(p.name for p in files.values()))
        if painter is not None:
            dance = [t for t in files.record if t.episode == cfg.figures.episode]
            # plain data: the drawing process has not loaded the engine, and need not
            painter.call(draw, cfg, out, dict(files), dance)
    except runner.Interrupted as ex:
        stop(str(ex), 130)
    except KeyboardInterrupt:
        stop(f"interrupted while drawing the figures; the tables in {out} are complete", 130)
    except runner.Busy as ex:
        stop(str(ex), 2)
    except OSError as ex:  # a read-only or full disk, a file where a folder should be
        stop(f"{ex.filename or out}: {ex.strerror or ex}", 1)
    finally:
        if painter is not None:
            painter.close()
    print(f"linkage: results in {out}")


def stop(message: str, status: int) -> None:
    """One line on stderr and ``status``; the run directory is left as it is."""
    print(f"linkage: {message}" if status == 130 else f"linkage: error: {message}", file=sys.stderr)
    sys.exit(status)


def _import_for_drawing() -> None:
    from sim import report  # noqa: F401


def draw(cfg, out: Path, files: dict[str, Path], dance) -> None:
    """The run's figures from its tables ``files``; ``dance``: the tables of episode
    ``figures.episode`` of a single run's record (kept by the run itself, see
    ``runner.run``), for the negotiation dance."""
    import pandas as pd

    from sim import report

    if cfg.experiment.name in ANALYSED:
        from sim.analysis import figures

        figures.draw(out, cfg.figures.formats)
        return
    fig_dir = report.figures(
        out,
        pd.read_csv(files["cells"]),
        pd.read_csv(files["trajectories"]),
        dance,
        cfg.figures,
        jobs=cfg.jobs or os.cpu_count() or 1,
    )
    if cfg.figures.formats:
        log.info("figures in %s", fig_dir)


def _one_repository_for_help() -> None:
    """Hydra 1.3's ``--help`` lists the config groups by asking for each group's options,
    and each ask copies the whole config repository (64 copies, most of the 2 s the help
    took); one copy serves every ask of one help."""
    original = ConfigLoaderImpl.get_group_options

    def get_group_options(self, group_name, results_filter=ObjectType.CONFIG, config_name=None,
                          overrides=None):  # fmt: skip
        if config_name is not None or overrides:
            return original(self, group_name, results_filter, config_name, overrides)
        if "_help_repository" not in self.__dict__:
            self._help_repository = self._parse_overrides_and_create_caching_repo(None, [])[1]
        return self._help_repository.get_group_options(group_name, results_filter)

    ConfigLoaderImpl.get_group_options = get_group_options


def main() -> None:
    hydra_utils.run_and_report = _run_and_report
    if {"--help", "-h", "--hydra-help"} & set(sys.argv[1:]):
        _one_repository_for_help()
    _main()
    # Everything is written and closed. Python's own finalisation would now spend half a
    # second tearing down Mesa's, pandas' and Numba's modules: leave without it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
