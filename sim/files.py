"""Files written whole or not at all.

Every table and stored record goes to a temporary file unique to the process and the call
(two runs sharing a folder never share one), and replaces its destination only when all
of a set are written; on any failure the temporary files are removed and the old files
stay as they were.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_together(dests: list[Path]) -> Iterator[list[Path]]:
    """Temporary paths for ``dests``, moved onto them in the order given (put the file whose
    presence means "complete" last) when the block ends without an error."""
    tag = f"{os.getpid()}.{secrets.token_hex(4)}"
    tmp = [d.with_name(f".{d.name}.{tag}.tmp") for d in dests]
    try:
        yield tmp
        for t, d in zip(tmp, dests, strict=True):
            os.replace(t, d)
    finally:
        for t in tmp:
            t.unlink(missing_ok=True)


def remove_orphans(folder: Path) -> None:
    """Remove the temporary files in ``folder`` of processes that are gone (a worker killed
    while it wrote): no live writer will move them into place."""
    for tmp in folder.glob(".*.tmp"):
        pid = tmp.name.split(".")[-3]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
