"""Play mode end to end in Debian's chromium: two students play at once, each in a browser
context of their own (a scripted student: fixed offers), against ``linkage-app --class-db``;
both games are stored with every offer, the teacher's page shows both and exports both, and
after the server is stopped and started again on the same file, everything is still there.

Skips without a browser, or fails with ``LINKAGE_REQUIRE_BROWSER=1``, as
``tests/test_app_browser.py`` does. ``LINKAGE_PLAY_SCREENSHOTS=docs`` also writes
``docs/play.png`` and ``docs/teacher.png`` (``make play-screenshots``).
"""

import json
import os
import re
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

from test_app_browser import browser, free_port, linkage_app, no_browser, offline  # noqa: F401

from sim.play.game import Game, Setup

STUDENTS = [  # name, side, framework, the value they ask on every issue
    ("Ana", "MX", "linked", 0.7),
    ("Ben", "US", "delinked", 0.65),
]


class Server:
    """``linkage-app --class-db`` on a free port: its address and the teacher's token."""

    def __init__(self, db: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "w") as out:
            self.proc = subprocess.Popen(
                [*linkage_app(), "--port", str(self.port), "--class-db", str(db)],
                stdout=out,
                stderr=out,
            )
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(self.url + "/play/api/setup", timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                assert self.proc.poll() is None, f"linkage-app stopped: {log.read_text()}"
                assert time.time() < deadline, f"linkage-app did not answer: {log.read_text()}"
                time.sleep(0.2)
        found = re.search(r"/teacher\?token=(\S+)", log.read_text())
        assert found, f"linkage-app did not print the teacher's token: {log.read_text()}"
        self.token = found.group(1)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def begin(page, url, name, side, framework):
    page.goto(url + "/play")
    page.locator("#side option").first.wait_for(state="attached")
    page.fill("#student", name)
    page.select_option("#side", side)
    page.select_option("#scenario", "tariff_threat_2019")
    page.select_option("#framework", framework)
    page.fill("#episodes", "2")
    page.click("#start")
    page.locator("#game").wait_for(state="visible")


def play_round(page, ask: float) -> int:
    """One move of the scripted student: ask ``ask`` on every issue of every open table,
    or, when no offer is possible any more, accept the agent's last offer. Returns the
    offers made."""
    status = page.text_content("#status")
    made = 0
    for table in page.locator("#tables .table:not(.closed)").all():
        offer = table.locator("input[value=offer]")
        if offer.count():
            for s in table.locator("input[type=range]").all():
                s.fill(str(ask))
            offer.check()
            made += 1
        elif table.locator("input[value=accept]").count():
            table.locator("input[value=accept]").check()
        else:
            table.locator("input[value=walk]").check()
    page.click("#send")
    page.wait_for_function(
        "s => document.querySelector('#status').textContent !== s", arg=status, timeout=20000
    )
    assert page.text_content("#error") == ""
    return made


def test_two_students_a_teacher_and_a_restart(browser, tmp_path):  # noqa: F811
    if isinstance(browser, str):
        no_browser(browser)
    db = tmp_path / "class.sqlite"
    server = Server(db, tmp_path / "app.log")
    outside: list[str] = []
    shots = os.environ.get("LINKAGE_PLAY_SCREENSHOTS")
    try:
        pages = []
        for name, side, framework, _ in STUDENTS:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            offline(context, outside)
            page = context.new_page()
            begin(page, server.url, name, side, framework)
            pages.append(page)
        made = [0, 0]
        # the two students move in turn, each in their own browser, until both are done
        while not all(p.text_content("#status") == "The game is over." for p in pages):
            for i, page in enumerate(pages):
                if page.text_content("#status") != "The game is over.":
                    # the value in the slider as the page shows it to the student
                    made[i] += play_round(page, STUDENTS[i][3])
                    if shots and i == 0 and made[0] == 2:
                        page.screenshot(path=f"{shots}/play.png")
        for page in pages:
            page.locator("#frontier").wait_for()
            for img in ("#frontier", "#dance"):
                page.wait_for_function(
                    f"() => document.querySelector('{img}').naturalWidth > 0", timeout=20000
                )
            lines = page.locator(".debrief-line").all_text_contents()
            assert len(lines) == 3 and "the agent in your seat" in lines[0]
        debrief = pages[0].locator(".debrief-line").all_text_contents()
        ids = [re.search(r"game=(\w+)", p.url).group(1) for p in pages]

        # every offer of both games is in the database, as the game replayed makes them
        with sqlite3.connect(db) as con:
            con.row_factory = sqlite3.Row
            for game_id, (name, side, framework, ask), n in zip(ids, STUDENTS, made, strict=True):
                g = con.execute("SELECT * FROM games WHERE id = ?", (game_id,)).fetchone()
                assert (g["student"], g["side"], g["framework"]) == (name, side, framework)
                assert g["finished"] is not None
                moves = [json.loads(r[0]) for r in con.execute(
                    "SELECT body FROM moves WHERE game = ? ORDER BY seq", (game_id,))]  # fmt: skip
                offers = con.execute(
                    "SELECT episode, tab, round, by, x FROM offers WHERE game = ?", (game_id,)
                ).fetchall()
                by_student = [o for o in offers if o["by"] == side]
                assert len(by_student) == n
                value = [ask if side == "US" else 1 - ask]
                assert all(json.loads(o["x"])[0] == value[0] for o in by_student)
                game = Game.replay(Setup("tariff_threat_2019", framework, side, 2), moves)
                assert len(offers) == len(game.log)

        teacher = pages[0].context.new_page()
        teacher.goto(f"{server.url}/teacher?token={server.token}")
        rows = teacher.locator("#games tr.game").all_text_contents()
        assert len(rows) == 2 and any("Ana" in r for r in rows) and any("Ben" in r for r in rows)
        compare = teacher.locator("#compare").text_content()
        assert "one" in compare and "separate" in compare
        assert teacher.locator("img.frontier").count() == 1
        if shots:
            teacher.screenshot(path=f"{shots}/teacher.png", full_page=True)
        export = teacher.request.get(server.url + teacher.get_attribute("#export", "href"))
        assert export.ok
        exported = export.text()
        assert all(game_id in exported for game_id in ids)
        assert teacher.request.get(f"{server.url}/teacher?token=wrong").status == 403

        # stop the server, start it again on the same file: nothing is lost
        server.stop()
        server = Server(db, tmp_path / "app2.log")
        teacher.goto(f"{server.url}/teacher?token={server.token}")
        assert len(teacher.locator("#games tr.game").all()) == 2
        again = teacher.request.get(f"{server.url}/teacher/class.csv?token={server.token}")
        assert again.text() == exported
        pages[0].goto(f"{server.url}/play#game={ids[0]}")
        pages[0].locator(".debrief-line").first.wait_for()
        assert pages[0].locator(".debrief-line").all_text_contents() == debrief
        assert outside == [], f"requests outside this machine: {outside}"
    finally:
        server.stop()
