"""Checking every job of a Hydra multirun before the first one runs.

Hydra's sweeper only checks that each job's config composes; a bad value (``-m
pressure=0,1.5``) would surface when its job starts, after the earlier jobs ran.
:class:`CheckEveryJob` validates each job's config against the schema when the multirun
starts, in the launching process, so bad input stops a sweep before anything runs on any
launcher (basic, joblib, submitit).
"""

from __future__ import annotations

from hydra import compose
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback

from sim.config import ConfigError, to_config


class StopSweep(BaseException):  # noqa: N818 - a stop, not an error Hydra may swallow
    """Ends a multirun from a callback with one line and a non-zero exit. Hydra turns a
    callback's ``Exception`` into a warning and goes on; this passes through it."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.message, self.status = message, status


def jobs(overrides: list[str]) -> list[list[str]]:
    """The override list of every job of a sweep, as Hydra's basic sweeper forms them."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    return BasicSweeper.split_arguments(parsed, None)[0]


class CheckEveryJob(Callback):
    def on_multirun_start(self, config, **kwargs) -> None:
        name = config.hydra.job.config_name
        todo = jobs(list(config.hydra.overrides.task))
        for i, job in enumerate(todo):
            try:
                to_config(compose(config_name=name, overrides=job))
            except ConfigError as ex:
                where = f"in sweep job {i} of {len(todo)} ({' '.join(job)}); no job was run"
                raise StopSweep(f"{ex}; {where}") from None
