"""Frameworks: which issues share a table (docs/model.md §2).

A framework is a partition of the issues into tables, held per world as ``table_of``
(W, n): the table index of each issue. ``linked`` puts everything on table 0 (a package
deal), ``delinked`` gives each issue its own table, ``custom`` uses ``framework.tables``,
``sequenced`` is delinked until both sides' trust reaches ``link_at`` and linked until
either falls below ``link_at - hysteresis`` ("build confidence first, then a comprehensive
framework"; Realuyo 2021, Payan & Montes de Oca 2024). ``chosen`` worlds get their tables
from their rule (``sim.choice``); here they are delinked.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CODES = {"linked": 0, "delinked": 1, "sequenced": 2, "custom": 3, "chosen": 4}


def custom_row(tables, issues) -> np.ndarray:
    row = np.empty(len(issues), dtype=np.int64)
    for j, table in enumerate(tables):
        for k in table:
            row[issues.index(k)] = j
    return row


def sequenced_linked(was_linked, trust_us, trust_mx, link_at, hysteresis):
    """Hysteresis switch: link at ``link_at``, unlink below ``link_at - hysteresis``."""
    low = np.minimum(trust_us, trust_mx)
    return np.where(was_linked, low >= link_at - hysteresis, low >= link_at)


def table_of(code, n, custom, linked_now):
    """The table of each issue in each world, (W, n), for this episode."""
    delinked = np.broadcast_to(np.arange(n), (len(code), n))
    linked = (code == CODES["linked"]) | ((code == CODES["sequenced"]) & linked_now)
    out = np.where(linked[:, None], 0, delinked)
    if custom is not None:
        out = np.where((code == CODES["custom"])[:, None], custom[None, :], out)
    return out


def groups(tables: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """The non-empty tables of every world, by size m: (m, their worlds, their table
    indices, their issues (B, m) in issue order)."""
    W, n = tables.shape
    on = tables[:, None, :] == np.arange(n)[None, :, None]  # (W, table, issue)
    size = on.sum(axis=2)
    for m in np.unique(size[size > 0]):
        wi, ji = np.nonzero(size == m)
        yield int(m), wi, ji, np.nonzero(on[wi, ji])[1].reshape(-1, m)
