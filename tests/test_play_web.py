"""Play mode's API and the class store (sim/play/web.py, sim/play/classroom.py), in process
with Starlette's test client: bad input is refused with a message and leaves the stored
class as it was; a restarted server rebuilds every game, mid-game too, number for number."""

import csv
import io
import json
import sqlite3

import pytest
from starlette.testclient import TestClient

from sim.play.classroom import Classroom
from sim.play.game import Game, Setup
from sim.play.web import Play, routes

TOKEN = "teacher-token"


def client(db) -> TestClient:
    return TestClient(routes(Play(Classroom(str(db)), TOKEN)))


def start(c, game_id="game-0001", student="Ana", **kw):
    body = {"id": game_id, "student": student, "side": "MX", "scenario": "tariff_threat_2019",
            "framework": "delinked", "episodes": 2, "rounds": 6} | kw  # fmt: skip
    return c.post("/play/api/games", json=body)


def fixed(state, value=0.5, accept_from=4) -> dict:
    tables = {}
    for t in state["tables"]:
        if not t["open"]:
            continue
        if t["can_accept"] and state["round"] >= accept_from:
            tables[str(t["index"])] = {"accept": True}
        elif t["can_offer"]:
            tables[str(t["index"])] = {"offer": {k: value for k in t["issues"]}}
        else:
            tables[str(t["index"])] = {"walk": True}
    return {"episode": state["episode"], "round": state["round"], "tables": tables}


def dump(db) -> list[str]:
    with sqlite3.connect(db) as con:
        return list(con.iterdump())


def test_a_whole_game_through_the_api(tmp_path):
    db = tmp_path / "class.sqlite"
    c = client(db)
    r = start(c)
    assert r.status_code == 201, r.text
    state = r.json()
    # the student sees their own side only: their weights and no-deal values
    assert set(state["tables"][0]) >= {"weights", "no_deal", "reservation", "agent_offer"}
    assert "w_us" not in r.text and "partner" not in r.text
    moves = 0
    while not state["finished"]:
        r = c.post("/play/api/games/game-0001/moves", json=fixed(state))
        assert r.status_code == 200, r.text
        state, moves = r.json(), moves + 1
    assert len(state["debrief"]) == 3 and "you (Mexico) got" in state["debrief"][0]
    for which in ("frontier", "dance"):
        png = c.get(f"/play/api/games/game-0001/{which}.png")
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM moves").fetchone()[0] == moves
        stored = con.execute(
            "SELECT episode, tab, round, by, x, value_us, value_mx FROM offers"
        ).fetchall()
    # every offer of both sides, as the game replayed from the stored moves makes them
    game = Game.replay(Setup("tariff_threat_2019", "delinked", "MX", 2, 6),
                       Classroom(str(db)).moves("game-0001"))  # fmt: skip
    offers = sorted((e, t, r, by, json.loads(x), vu, vm) for e, t, r, by, x, vu, vm in stored)
    assert offers == sorted((e, t, o.round, o.by, o.x, *o.values) for e, t, _, o in game.log)
    assert {o[3] for o in offers} == {"US", "MX"} and len(offers) > 2 * moves
    rows = list(csv.DictReader(io.StringIO(c.get(f"/teacher/class.csv?token={TOKEN}").text)))
    assert [r["episode"] for r in rows] == ["1", "2"] and rows[0]["student"] == "Ana"


BAD = [
    ({"offer": {"trade": "high"}}, 400, "offer.trade='high' is not a number in [0, 1]"),
    ({"offer": {"trade": -0.1}}, 400, "offer.trade=-0.1 is not a number in [0, 1]"),
    ({"offer": {"trade": True}}, 400, "offer.trade=True is not a number in [0, 1]"),
    ({"offer": {"trade": 0.5, "migration": 0.5}}, 400, "migration not on this table (trade)"),
    ({"accept": True, "walk": True}, 400, "expected one of offer, accept, walk"),
]


@pytest.mark.parametrize("table_move, status, message", BAD)
def test_bad_moves_are_refused_and_the_class_untouched(tmp_path, table_move, status, message):
    db = tmp_path / "class.sqlite"
    c = client(db)
    state = start(c).json()
    move = fixed(state)
    move["tables"]["0"] = table_move
    before = dump(db)
    r = c.post("/play/api/games/game-0001/moves", json=move)
    assert r.status_code == status and message in r.json()["error"], r.text
    assert dump(db) == before


def test_posted_twice_and_other_refusals(tmp_path):
    db = tmp_path / "class.sqlite"
    c = client(db)
    state = start(c).json()
    move = fixed(state)
    assert c.post("/play/api/games/game-0001/moves", json=move).status_code == 200
    before = dump(db)
    again = c.post("/play/api/games/game-0001/moves", json=move)
    assert again.status_code == 409 and "sent twice" in again.json()["error"]
    twice = start(c)
    assert twice.status_code == 409 and "already posted" in twice.json()["error"]
    for body, message in [
        ({"side": "CA"}, "side='CA' is not one of US, MX"),
        ({"scenario": "atlantis"}, "scenario='atlantis' is not one of"),
        ({"episodes": 99}, "episodes=99 is not a whole number in [1, 10]"),
        ({"student": "  "}, "type a name or a pseudonym"),
        ({"id": "x"}, "id='x' is not 8-64 letters"),
    ]:
        r = start(c, **({"id": "game-0002"} | body))
        assert r.status_code == 400 and message in r.json()["error"], r.text
    assert c.post("/play/api/games", content=b"not json").status_code == 400
    assert c.get("/play/api/games/nobody-here").status_code == 404
    assert dump(db) == before


def test_the_teachers_page_needs_the_token(tmp_path):
    db = tmp_path / "class.sqlite"
    c = client(db)
    start(c)
    for url in ("/teacher", "/teacher?token=wrong", "/teacher/class.csv",
                "/teacher/class.csv?token=wrong"):  # fmt: skip
        r = c.get(url)
        assert r.status_code == 403 and "token" in r.text and "Ana" not in r.text
    page = c.get(f"/teacher?token={TOKEN}")
    assert page.status_code == 200 and "Ana" in page.text and "(playing)" in page.text


def test_a_restarted_server_goes_on_with_the_game(tmp_path):
    """Stopped mid-game and started again on the same file: the student's page shows the
    same game and the game ends with the numbers of a game never interrupted."""
    db = tmp_path / "class.sqlite"
    c = client(db)
    state = start(c, framework="linked", episodes=2, rounds=8).json()
    for _ in range(3):
        state = c.post("/play/api/games/game-0001/moves", json=fixed(state, 0.3, 6)).json()
    c2 = client(db)  # a new server: nothing in memory
    assert c2.get("/play/api/games/game-0001").json() == state
    while not state["finished"]:
        state = c2.post("/play/api/games/game-0001/moves", json=fixed(state, 0.3, 6)).json()
    straight = client(tmp_path / "other.sqlite")
    s = start(straight, framework="linked", episodes=2, rounds=8).json()
    while not s["finished"]:
        s = straight.post("/play/api/games/game-0001/moves", json=fixed(s, 0.3, 6)).json()
    assert state["history"] == s["history"] and state["debrief"] == s["debrief"]


def test_a_name_is_shown_as_text_not_markup(tmp_path):
    c = client(tmp_path / "class.sqlite")
    start(c, student="<script>alert(1)</script>")
    page = c.get(f"/teacher?token={TOKEN}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_two_students_at_once(tmp_path):
    """Two games played in two threads against one server: each ends as it ends alone."""
    import threading

    db = tmp_path / "class.sqlite"
    c = client(db)
    kinds = {"game-aaaa01": ("MX", "linked", 0.3), "game-bbbb02": ("US", "delinked", 0.7)}
    done, errors = {}, []

    def student(game_id):
        side, framework, value = kinds[game_id]
        try:
            s = start(c, game_id, side=side, framework=framework).json()
            while not s["finished"]:
                r = c.post(f"/play/api/games/{game_id}/moves", json=fixed(s, value))
                assert r.status_code == 200, r.text
                s = r.json()
            done[game_id] = s
        except Exception as ex:  # reported below, in the test's thread
            errors.append(ex)

    threads = [threading.Thread(target=student, args=(g,)) for g in kinds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for game_id, (side, framework, value) in kinds.items():
        alone = client(tmp_path / f"{game_id}.sqlite")
        s = start(alone, game_id, side=side, framework=framework).json()
        while not s["finished"]:
            s = alone.post(f"/play/api/games/{game_id}/moves", json=fixed(s, value)).json()
        assert done[game_id]["history"] == s["history"]
    rows = list(csv.DictReader(io.StringIO(c.get(f"/teacher/class.csv?token={TOKEN}").text)))
    assert {r["game"] for r in rows} == set(kinds)


def test_a_move_the_store_cannot_keep_is_not_played(tmp_path, monkeypatch):
    """If writing a move fails, the game is as if the move was never sent."""
    db = tmp_path / "class.sqlite"
    play = Play(Classroom(str(db)), TOKEN)
    c = TestClient(routes(play), raise_server_exceptions=False)
    state = start(c).json()
    before = dump(db)

    def full(*args):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(play.classroom, "record", full)
    assert c.post("/play/api/games/game-0001/moves", json=fixed(state)).status_code == 500
    monkeypatch.undo()
    assert dump(db) == before
    assert c.get("/play/api/games/game-0001").json() == state
    assert c.post("/play/api/games/game-0001/moves", json=fixed(state)).status_code == 200
    assert c.get("/play/api/games/game-0001/other.png").status_code == 404
