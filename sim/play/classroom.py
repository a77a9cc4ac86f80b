"""A class's games in SQLite (the standard library's ``sqlite3``): who played what, every
move and every offer, and each game's results as the debrief reads them.

A game is stored as its setup and the student's moves, written in one transaction per
move, so a stopped server loses nothing: ``Classroom.moves`` and ``Game.replay`` rebuild
any game, and the teacher's pages read the stored results without replaying anything.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from datetime import UTC, datetime

SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    student TEXT NOT NULL,
    side TEXT NOT NULL,
    scenario TEXT NOT NULL,
    framework TEXT NOT NULL,
    episodes INTEGER NOT NULL,
    rounds INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    episodes_json TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS moves (
    game TEXT NOT NULL REFERENCES games(id),
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (game, seq)
);
CREATE TABLE IF NOT EXISTS offers (
    game TEXT NOT NULL REFERENCES games(id),
    episode INTEGER NOT NULL,
    tab INTEGER NOT NULL,
    round INTEGER NOT NULL,
    by TEXT NOT NULL,
    issues TEXT NOT NULL,
    x TEXT NOT NULL,
    value_us REAL NOT NULL,
    value_mx REAL NOT NULL,
    PRIMARY KEY (game, episode, tab, round)
);
"""
# one row per game and finished episode in the teacher's export
COLUMNS = [
    "game", "student", "side", "scenario", "framework", "episode", "tables", "you",
    "agent_in_seat", "us_utility", "mx_utility", "left_on_table", "agent_left_on_table",
    "agreement_rate", "trust_us", "trust_mx", "threats_executed", "reneged",
]  # fmt: skip


class Duplicate(ValueError):
    """A game id that is already stored."""


class Classroom:
    """The class's games in the SQLite file ``path`` (``":memory:"``: for this server only)."""

    def __init__(self, path: str = ":memory:"):
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.lock = threading.Lock()  # one writer at a time; a game is written in one go
        with self.lock:
            self.db.executescript(SCHEMA)

    def add(self, game_id: str, student: str, setup) -> None:
        with self.lock, self._transaction():
            if self.db.execute("SELECT 1 FROM games WHERE id = ?", (game_id,)).fetchone():
                raise Duplicate(f"game {game_id!r} was already posted")
            self.db.execute(
                "INSERT INTO games (id, student, side, scenario, framework, episodes, rounds,"
                " seed, started) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (game_id, student, setup.side, setup.scenario, setup.framework,
                 setup.episodes, setup.rounds, setup.seed, _now()),
            )  # fmt: skip

    def record(self, game_id: str, seq: int, move: dict | None, offers, episodes, done):
        """After a move (``seq``; None: the agent's opening offers): the move, the offers it
        brought (``(episode, table, issues, Offer)``), the finished episodes' results."""
        with self.lock, self._transaction():
            if move is not None:
                self.db.execute(
                    "INSERT INTO moves (game, seq, body) VALUES (?, ?, ?)",
                    (game_id, seq, json.dumps(move)),
                )
            self.db.executemany(
                "INSERT INTO offers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(game_id, e, t, o.round, o.by, json.dumps(issues), json.dumps(o.x),
                  o.values[0], o.values[1]) for e, t, issues, o in offers],
            )  # fmt: skip
            self.db.execute(
                "UPDATE games SET episodes_json = ?, finished = ? WHERE id = ?",
                (json.dumps(episodes), _now() if done else None, game_id),
            )

    def game(self, game_id: str) -> sqlite3.Row | None:
        rows = self._read("SELECT * FROM games WHERE id = ?", game_id)
        return rows[0] if rows else None

    def moves(self, game_id: str) -> list[dict]:
        rows = self._read("SELECT body FROM moves WHERE game = ? ORDER BY seq", game_id)
        return [json.loads(r["body"]) for r in rows]

    def games(self) -> list[sqlite3.Row]:
        return self._read("SELECT * FROM games ORDER BY started, id")

    def offers(self, game_id: str) -> list[sqlite3.Row]:
        return self._read(
            "SELECT * FROM offers WHERE game = ? ORDER BY episode, tab, round", game_id
        )

    def _read(self, sql: str, *args) -> list[sqlite3.Row]:
        with self.lock:  # one connection for every thread: never read inside another's write
            return self.db.execute(sql, args).fetchall()

    def rows(self) -> list[dict]:
        """One row per game and finished episode (:data:`COLUMNS`)."""
        out = []
        for g in self.games():
            head = {k: g[k] for k in ("student", "side", "scenario", "framework")}
            out += [{"game": g["id"]} | head | e for e in json.loads(g["episodes_json"])]
        return out

    def csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows())
        return buf.getvalue()

    def _transaction(self):
        return _Transaction(self.db)


class _Transaction:
    """BEGIN ... COMMIT, or ROLLBACK on any error: a refused write leaves the class as it was."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, *_):
        self.db.execute("ROLLBACK" if kind else "COMMIT")
        return False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
