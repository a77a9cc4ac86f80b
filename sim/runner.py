"""Running experiments: cells, chunks over local cores, and the output files.

The model knows nothing of files; this module turns a validated config into cells, runs
them in chunks (each chunk one batched :class:`LinkageModel`), reduces each cell to its
rows, keeps each finished cell in a :class:`~sim.store.Store` (so an interrupted run
resumes), and streams the rows into ``cells.csv`` and ``trajectories.csv`` in the run
directory, each written atomically.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import shutil
import signal
import sys
import threading
from contextlib import ExitStack, contextmanager, nullcontext
from functools import partial
from pathlib import Path

from tqdm import tqdm

from sim import (
    design,
    kernel,  # noqa: F401 - loaded once here, before the workers fork
    pool,
    summary,
)
from sim.cells import Block, Cell, blocks_of
from sim.config import Config, ExperimentName
from sim.files import remove_orphans, written_together
from sim.model import LinkageModel, disabled_parts
from sim.record import TableRecord
from sim.store import Store
from sim.summary import Summary

log = logging.getLogger(__name__)

WORLDS_PER_CHUNK = 4000  # a chunk's batch: large enough for numpy, small for memory
# A cell's worlds are reduced in blocks of at most BLOCK_WORLDS worlds and
# WORLD_EPISODES_PER_BLOCK world-episodes (a block keeps every episode's metrics), so memory
# is flat in replications and episodes. Blocks depend on the config alone, never on the
# chunks or jobs, so neither changes a number (see ``sim.moments``).
BLOCK_WORLDS = 4000
WORLD_EPISODES_PER_BLOCK = 80_000


def block_size(cfg: Config) -> int:
    return max(1, min(BLOCK_WORLDS, WORLD_EPISODES_PER_BLOCK // cfg.episodes))


def simulate(cfg: Config, cells: list[Cell], record_worlds=()) -> LinkageModel:
    """Run ``cells`` for ``cfg.episodes`` episodes in one batched model, keeping the
    negotiations of ``record_worlds`` in ``model.record``."""
    model = LinkageModel(cfg, cells, record_worlds=record_worlds)
    model.run_for(cfg.episodes)
    return model


def reduce(cfg: Config, model: LinkageModel) -> list[dict[str, list[dict]]]:
    """Each whole cell's rows of cells.csv and trajectories.csv, in the model's order."""
    return [summary.rows(cfg, parts) for parts in summary.by_cell(summary.summarise(cfg, model))]


def run_cells(cfg: Config, cells: list[Cell]) -> dict[str, list[dict]]:
    """All rows for ``cells`` in memory, in one process: for apps and notebooks."""
    out: dict[str, list[dict]] = {"cells": [], "trajectories": []}
    for part in reduce(cfg, simulate(cfg, cells)):
        for name in out:
            out[name] += part[name]
    return out


def chunks(cfg: Config, cells: list[Cell]) -> list[list[Block]]:
    """The cells' blocks, in order, packed into batches of at most ``WORLDS_PER_CHUNK``."""
    out: list[list[Block]] = [[]]
    size, worlds = block_size(cfg), 0
    for cell in cells:
        for block in blocks_of(cell, cfg.replications, size):
            if out[-1] and worlds + block.size > WORLDS_PER_CHUNK:
                out.append([])
                worlds = 0
            out[-1].append(block)
            worlds += block.size
    return [c for c in out if c]


def _run_chunk(args) -> tuple[list[Cell], list[Summary], list[TableRecord]]:
    """Run a chunk and save the cells it holds whole to the store, here in the worker (their
    text is most of a run's bytes); return those cells, the summaries of the cells it holds
    only part of, and the record asked for."""
    cfg, blocks, record_worlds, store = args
    model = LinkageModel(cfg, blocks=blocks, record_worlds=record_worlds)
    model.run_for(cfg.episodes)
    whole, parts = [], []
    for own in summary.by_cell(summary.summarise(cfg, model)):
        if sum(p.block.size for p in own) == cfg.replications:
            whole.append(summary.whole(own))
        else:
            parts += own
    for w, texts in zip(whole, summary.texts_of(cfg, whole), strict=True):
        store.save(w.block.cell, texts)
    result = [w.block.cell for w in whole], parts, model.record
    del model
    gc.collect()  # a Mesa model and its agents refer to each other: free it before the next
    return result


class PendingCells:
    """Cells arriving chunk by chunk, in any order: those a chunk held whole are already
    stored; the others are stored when all their blocks are in, combined in block order."""

    def __init__(self, cfg: Config, store: Store, bar):
        self.cfg, self.store, self.bar = cfg, store, bar
        self.expected = -(-cfg.replications // block_size(cfg))  # blocks per cell
        self.waiting: dict[Cell, list[Summary]] = {}

    def add(self, whole: list[Cell], parts: list[Summary]) -> None:
        self.bar.update(len(whole))
        for part in parts:
            cell = part.block.cell
            have = self.waiting.setdefault(cell, [])
            have.append(part)
            if len(have) == self.expected:
                have.sort(key=lambda s: s.block.start)
                self.store.save(cell, summary.texts(self.cfg, have))
                del self.waiting[cell]
                self.bar.update(1)


def compute(
    cfg: Config, cells: list[Cell], store: Store, progress: bool, record_worlds=()
) -> list[TableRecord]:
    """Run ``cells`` in chunks over ``cfg.jobs`` processes; save each cell as it finishes.

    Returns the record of ``record_worlds``, worlds of the first chunk, which starts with
    the first cell's world 0 (the one a single run's dance shows).
    """
    parts = chunks(cfg, cells)
    work = [(cfg, blocks, record_worlds if i == 0 else (), store) for i, blocks in enumerate(parts)]
    jobs = min(cfg.jobs or os.cpu_count() or 1, len(parts))
    record: list[TableRecord] = []
    with (
        tqdm(total=len(cells), unit="cell", disable=not progress, desc="linkage") as bar,
        _frozen() if jobs <= 1 else nullcontext(),
    ):
        done = PendingCells(cfg, store, bar)
        for whole, parts, kept in (map if jobs <= 1 else partial(pool.run, jobs))(_run_chunk, work):
            done.add(whole, parts)
            record.extend(kept)
    return record


@contextmanager
def _frozen():
    """What lives before the chunks run here is not their garbage: the collection after
    each chunk need not walk it (as in a worker, see ``sim.pool``)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def assemble(cells: list[Cell], store: Store, out_dir: Path, output) -> dict[str, Path]:
    """Stream every cell's rows from the store into the output files, in cell order.

    Written to temp files of this process and moved into place only when all are whole
    (``cells.csv`` last: its presence means "complete"); nothing partial is left behind.
    """
    columns = store.columns
    wanted = {"worlds": output.worlds, "trajectories": output.trajectories}  # ``output`` config
    names = sorted((n for n in columns if wanted.get(n, True)), key=lambda n: n == "cells")
    files = {n: out_dir / f"{n}.csv" for n in names}
    # the handles close (inner block) before the temp files replace the old tables
    with written_together(list(files.values())) as tmp, ExitStack() as stack:
        handles = {
            n: stack.enter_context(open(t, "w", newline=""))
            for n, t in zip(names, tmp, strict=True)
        }
        for n in names:
            handles[n].write(",".join(columns[n]) + "\n")
        for cell in cells:
            parts = store.load(cell, rows_checked=True)  # by done() or written now
            for n in names:
                handles[n].write(parts[n])
    return files


class Outputs(dict):
    """The files a run wrote, by table name, and ``record``: the negotiations it kept."""

    def __init__(self, files: dict[str, Path], record: list[TableRecord]):
        super().__init__(files)
        self.record = record


class Interrupted(KeyboardInterrupt):
    """The run was stopped by Ctrl-C or SIGTERM; ``stored`` of ``total`` cells are kept."""

    def __init__(self, stored: int, total: int, kept: bool):
        super().__init__(stored, total)
        self.stored, self.total, self.kept = stored, total, kept

    def __str__(self) -> str:
        if not self.kept:
            return "interrupted; nothing kept (store=null), rerun to start again"
        return (
            f"interrupted; {self.stored} of {self.total} cells stored, "
            "rerun the same command to resume"
        )


class Busy(RuntimeError):
    """Another live run is writing the same output directory."""


@contextmanager
def _only_run_in(out_dir: Path):
    """Hold ``out_dir`` for this run: a second run there (Hydra names run directories by
    the second) is refused, not interleaved. The lock dies with the process."""
    fd = os.open(out_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(
                f"another linkage run is writing {out_dir}; wait for it to end or choose "
                "another hydra.run.dir"
            ) from None
        yield
    finally:
        os.close(fd)


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops a run as cleanly as Ctrl-C (only the main thread can take signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(
    cfg: Config, out_dir: Path, store_root: Path | None = None, progress: bool | None = None
) -> Outputs:
    """The whole job: run the experiment's unfinished cells, then write its files.

    Finished cells are kept in ``store_root`` (default: ``out_dir/.cells``, removed at the
    end), so a run that is interrupted and started again skips them. Ctrl-C and SIGTERM
    raise :class:`Interrupted` once the workers are stopped.

    Returns the files and, for a single run with figures, the record of its world 0 (for
    the negotiation dance), kept during the one simulation. The store keeps rows, not
    records: a single cell resumed from it is simulated once more for its record (the
    same numbers: same config, same seed). Otherwise the record is empty.
    """
    for part in disabled_parts(cfg):
        log.info("switched off: %s", part)
    if progress is None:
        progress = cfg.output.progress
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")
    cells = design.shard(cfg, design.cells(cfg))
    out_dir.mkdir(parents=True, exist_ok=True)
    root = store_root if store_root is not None else out_dir / ".cells"
    store = Store(root, cfg, summary.files(cfg))
    with _only_run_in(out_dir), _sigterm_as_interrupt():
        todo = [c for c in cells if not store.done(c)]
        if len(todo) < len(cells):
            done = len(cells) - len(todo)
            log.info("resuming: %d of %d cells already finished", done, len(cells))
        wanted = [0] if cfg.experiment.name is ExperimentName.single and cfg.figures.enabled else []
        try:
            record = compute(cfg, todo, store, progress, wanted)
        except KeyboardInterrupt:
            if store.dir.is_dir():
                remove_orphans(store.dir)  # workers are stopped: what they left half-written
            stored = sum(store.path(c).exists() for c in cells)
            if store_root is None:
                shutil.rmtree(store.dir.parent, ignore_errors=True)
            raise Interrupted(stored, len(cells), kept=store_root is not None) from None
        if wanted and not todo:
            log.info("replaying the resumed cell for its negotiation record")
            record = simulate(cfg, cells, wanted).record
        files = assemble(cells, store, out_dir, cfg.output)
    if store_root is None:
        shutil.rmtree(store.dir.parent, ignore_errors=True)
    return Outputs(files, record)
