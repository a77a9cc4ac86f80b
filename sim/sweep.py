"""Hydra's callbacks: configs checked before Hydra writes anything, and a multirun's tables
merged after its last job.

Hydra creates a run's directory and its ``.hydra/config.yaml`` before the job starts, and
its sweeper only checks that each job's config composes: a bad value would leave a folder
that misdescribes itself, and in a sweep (``-m pressure=0,1.5``) it would surface only
when its job starts, after the earlier jobs ran. :class:`CheckConfig` validates the config
of a single run, and of every job of a multirun, against the schema before any of that,
in the launching process, on any launcher (basic, joblib, submitit).
:class:`MergeCallback` merges a multirun's tables into its root and draws its figures.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

from hydra import compose
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import open_dict

from sim.config import UNMERGED, ConfigError, to_config
from sim.errors import one_line


class StopRun(BaseException):  # noqa: N818 - a stop, not an error Hydra may swallow
    """Ends a run or a multirun from a callback with one line and a non-zero exit. Hydra
    turns a callback's ``Exception`` into a warning and goes on; this passes through it."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.message, self.status = message, status


def jobs(overrides: list[str]) -> list[list[str]]:
    """The override list of every job of a sweep, as Hydra's basic sweeper forms them."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    return BasicSweeper.split_arguments(parsed, None)[0]


class CheckConfig(Callback):
    def on_run_start(self, config, **kwargs) -> None:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            return  # the job itself raises, with the traceback asked for
        job = copy.deepcopy(config)
        with open_dict(job):
            del job["hydra"]
        try:
            to_config(job)
        except ConfigError as ex:
            raise StopRun(str(ex)) from None

    def on_multirun_start(self, config, **kwargs) -> None:
        name = config.hydra.job.config_name
        todo = jobs(list(config.hydra.overrides.task))
        for i, job in enumerate(todo):
            try:
                to_config(compose(config_name=name, overrides=job))
            except Exception as ex:  # Hydra would turn it into a warning and run the jobs
                if os.environ.get("HYDRA_FULL_ERROR") == "1":
                    raise StopRun(str(ex)) from ex
                where = f"in sweep job {i} of {len(todo)} ({' '.join(job)}); no job was run"
                text = str(ex) if isinstance(ex, ConfigError) else one_line(ex)
                raise StopRun(f"{text}; {where}") from None


class MergeCallback(Callback):
    """At the end of a Hydra multirun, merge the jobs' tables and draw the sweep's figures
    as its ``figures.*`` settings ask (``sim.report``, imported only then: it brings
    matplotlib, which a run that draws nothing need not wait for).

    A failure ends the multirun with one line and a non-zero exit (:class:`StopRun`):
    Hydra would turn an ``Exception`` into a warning, and the sweep would look complete.
    """

    def on_multirun_end(self, config, **kwargs) -> None:
        from sim import report

        root = Path(config.hydra.sweep.dir)
        name = config.experiment.name
        if getattr(name, "value", name) in {e.value for e in UNMERGED}:  # each job's own files
            print(f"linkage: {root}: each job holds its own analysis; no merged tables")
            return
        try:
            todo = report.sweep_jobs(root, config)
            if not todo:
                return
            spec = report.settings(config)
            done = report.draw(root, report.merge(root, todo), spec)
        except Exception as ex:
            raise StopRun(*report.verdict(ex)) from ex
        print(f"linkage: merged {len(todo)} jobs into {root} ({done})")
