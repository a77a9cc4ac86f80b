"""Play mode on the web: the student's page (``/play``), its JSON API (``/play/api/...``) and
the teacher's page (``/teacher``, with the token ``linkage-app`` prints), served beside the
seminar app by ``linkage-app`` (``sim.app.main``).

A student's page knows only its own game's id (a random one it makes), and the API sends it
only its own side's weights and no-deal values. Every refused request gets a JSON ``error``
that says what was wrong, and changes nothing stored.
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import threading
from collections import defaultdict
from dataclasses import fields
from importlib import resources

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sim.config import scenario_names
from sim.play import debrief
from sim.play.classroom import Classroom, Duplicate
from sim.play.game import FRAMEWORKS, NAMES, BadMove, Game, Setup

GAME_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_NAME = 60
DEFAULTS = {f.name: f.default for f in fields(Setup) if f.name in ("episodes", "rounds")}


class NotFound(LookupError):
    pass


class Play:
    """The games of this server: in memory while played, in the class store for good."""

    def __init__(self, classroom: Classroom, token: str):
        self.classroom, self.token = classroom, token
        self.games: dict[str, Game] = {}
        self.locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self.guard = threading.Lock()

    def _lock(self, game_id: str) -> threading.Lock:
        with self.guard:
            return self.locks[game_id]

    def start(self, body: dict) -> dict:
        game_id, student = body.get("id"), body.get("student")
        if not isinstance(game_id, str) or not GAME_ID.fullmatch(game_id):
            raise BadMove(f"id={game_id!r} is not 8-64 letters, digits, - or _")
        if not isinstance(student, str) or not 0 < len(student.strip()) <= MAX_NAME:
            raise BadMove(
                f"student={student!r}: type a name or a pseudonym (1-{MAX_NAME} characters)"
            )
        try:
            setup = Setup(
                body.get("scenario"), body.get("framework"), body.get("side"),
                body.get("episodes", DEFAULTS["episodes"]), body.get("rounds", DEFAULTS["rounds"]),
            )  # fmt: skip
        except TypeError as ex:
            raise BadMove(str(ex)) from None
        setup.check(scenario_names())
        with self._lock(game_id):
            if game_id in self.games or self.classroom.game(game_id) is not None:
                raise Duplicate(f"game {game_id!r} was already posted")
            game = Game(setup)
            self.classroom.add(game_id, student.strip(), setup)
            self._store(game_id, game, None, 0)
            self.games[game_id] = game
            return state(game_id, student.strip(), game)

    def get(self, game_id: str) -> tuple[Game, str]:
        """The game, replayed from the class store after a restart."""
        row = self.classroom.game(game_id)
        if row is None:
            raise NotFound(f"no game {game_id!r}")
        game = self.games.get(game_id)
        if game is None:
            setup = Setup(row["scenario"], row["framework"], row["side"], row["episodes"],
                          row["rounds"], row["seed"])  # fmt: skip
            game = self.games[game_id] = Game.replay(setup, self.classroom.moves(game_id))
        return game, row["student"]

    def show(self, game_id: str) -> dict:
        with self._lock(game_id):
            game, student = self.get(game_id)
            return state(game_id, student, game)

    def move(self, game_id: str, move) -> dict:
        with self._lock(game_id):
            game, student = self.get(game_id)
            before = len(game.log)
            game.move(move)  # refuses a bad move before it changes anything
            try:
                self._store(game_id, game, move, before)
            except Exception:  # not stored, not played: the next request replays the store
                self.games.pop(game_id, None)
                raise
            return state(game_id, student, game)

    def _store(self, game_id: str, game: Game, move, before: int) -> None:
        self.classroom.record(
            game_id, len(game.moves), move, game.log[before:], debrief.rows(game), game.finished
        )

    def picture(self, game_id: str, which: str) -> bytes:
        if which not in ("frontier", "dance"):
            raise NotFound(f"no picture {which!r}: frontier or dance")
        with self._lock(game_id):
            game, _ = self.get(game_id)
            return debrief.frontier_png(game) if which == "frontier" else debrief.dance_png(game)


def state(game_id: str, student: str, game: Game) -> dict:
    """What the student's page shows: their side's weights and no-deal values only."""
    me = game.student.lower()
    tables = []
    for i, t in enumerate(game.tables):
        w = getattr(t.tab, f"w_{me}")[0]
        w = w / w.sum()
        d = getattr(t.tab, f"d_{me}")[0]
        last = t.offers[-1] if t.offers else None
        agent_last = next((o for o in reversed(t.offers) if o.by == game.agent), None)
        mine = next((o for o in reversed(t.offers) if o.by == game.student), None)
        tables.append({
            "index": i,
            "issues": t.issues,
            "weights": w.tolist(),
            "no_deal": d.tolist(),  # the student's value of each issue without a deal
            "reservation": float(getattr(t.tab, f"r_{me}")[0]),
            "threatened": bool(t.group.th[t.row]),
            "open": not t.closed,
            "agreed": t.agreed_round is not None,
            "agent_offer": None if agent_last is None else _seen(game, agent_last, w),
            "your_offer": None if mine is None else _seen(game, mine, w),
            "can_accept": game.can_accept(t) and not t.closed,
            "can_offer": not t.closed and game.round < game.cfg.rounds,
            "last_by": None if last is None else last.by,
            "note": t.note,
        })  # fmt: skip
    out = {
        "id": game_id,
        "student": student,
        "side": game.student,
        "you": NAMES[game.student],
        "agent": NAMES[game.agent],
        "scenario": game.setup.scenario,
        "framework": game.setup.framework,
        "episode": game.episode,
        "episodes": game.cfg.episodes,
        "round": game.round,
        "rounds": game.cfg.rounds,
        "time_left": max(game.cfg.rounds - game.round, 0),
        "finished": game.finished,
        "tables": [] if game.finished else tables,
        "question": None if game.finished else game.question,
        "choices": game.choices,
        "history": [
            {
                k: r[k]
                for k in (
                    "episode",
                    "tables",
                    "you",
                    "agent_in_seat",
                    "agreement_rate",
                    "trust_us",
                    "trust_mx",
                    "threats_executed",
                    "reneged",
                )
            }
            for r in debrief.rows(game)
        ],  # fmt: skip
        "debrief": debrief.words(game) if game.finished else [],
    }
    return out


def _seen(game: Game, offer, w) -> dict:
    """An offer as the student sees it: their value on each issue, and in all (face value)."""
    x = np.asarray(offer.x)
    v = x if game.student == "US" else 1.0 - x
    return {"round": offer.round, "x": offer.x, "values": v.tolist(), "value": float(w @ v)}


# --- the teacher's page ------------------------------------------------------------------
def teacher_html(play: Play, token: str) -> str:
    """The teacher's page: the class from the store alone (no game is replayed for it)."""
    rows = play.classroom.rows()
    games = play.classroom.games()
    q = f"token={html.escape(token)}"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>linkage: the class</title>",
        f"<style>{STYLE}</style></head><body><h1>The class</h1>",
        f"<p>{len(games)} game(s), {sum(1 for g in games if g['finished'])} finished. "
        f"<a id='export' href='/teacher/class.csv?{q}'>Export the class (CSV)</a> · "
        "the page does not refresh itself: reload it to see new games.</p>",
        "<h2>Linked and delinked, side by side</h2>",
        compare_html(rows),
        "<h2>Outcomes on the frontier</h2>",
        "<p>Each episode's negotiated outcome over the whole agenda, at the scenario's weights; "
        "circles are students on one table, squares on separate tables, pluses a bundle beside "
        "separate tables (framework chosen, coercive), triangles the agent against itself. "
        "The line is the Pareto frontier, X no deal, the diamond the Nash point.</p>",
    ]
    for scenario in sorted({r["scenario"] for r in rows}):
        png = base64.b64encode(frontier_class_png(rows, scenario)).decode()
        parts.append(f"<img class='frontier' alt='{html.escape(scenario)}' "
                     f"src='data:image/png;base64,{png}'>")  # fmt: skip
    parts.append("<h2>Games</h2><table id='games'><tr><th>student</th><th>side</th>"
                 "<th>scenario</th><th>framework</th><th>episodes played</th><th>you</th>"
                 "<th>agent in seat</th><th>left on table</th><th>offers</th></tr>")  # fmt: skip
    for g in games:
        eps = json.loads(g["episodes_json"])
        n_offers = len(play.classroom.offers(g["id"]))
        means = "".join(
            f"<td>{np.mean([e[k] for e in eps]):.2f}</td>" if eps else "<td></td>"
            for k in ("you", "agent_in_seat", "left_on_table")
        )
        parts.append(
            f"<tr class='game'><td>{html.escape(g['student'])}</td><td>{g['side']}</td>"
            f"<td>{html.escape(g['scenario'])}</td><td>{html.escape(g['framework'])}</td>"
            f"<td>{len(eps)} of {g['episodes']}{'' if g['finished'] else ' (playing)'}</td>"
            f"{means}<td>{n_offers}</td></tr>"
        )
    parts.append("</table></body></html>")
    return "".join(parts)


def compare_html(rows: list[dict]) -> str:
    """Per scenario and side: mean per episode of the student's utility, the agent's in the
    same seat, and the joint gain left on the table, one table against separate tables."""
    if not rows:
        return "<p>No episode finished yet.</p>"
    out = ["<table id='compare'><tr><th>scenario</th><th>side</th><th>tables</th>"
           "<th>episodes</th><th>you</th><th>agent in seat</th><th>you − agent</th>"
           "<th>left on table</th><th>agent left</th></tr>"]  # fmt: skip
    keys = sorted({(r["scenario"], r["side"], r["tables"]) for r in rows})
    for scenario, side, tables in keys:
        sel = [
            r for r in rows if (r["scenario"], r["side"], r["tables"]) == (scenario, side, tables)
        ]

        def m(k, sel=sel):
            return float(np.mean([r[k] for r in sel]))

        out.append(
            f"<tr><td>{html.escape(scenario)}</td><td>{side}</td><td>{tables}</td>"
            f"<td>{len(sel)}</td><td>{m('you'):.3f}</td><td>{m('agent_in_seat'):.3f}</td>"
            f"<td>{m('you') - m('agent_in_seat'):+.3f}</td><td>{m('left_on_table'):.3f}</td>"
            f"<td>{m('agent_left_on_table'):.3f}</td></tr>"
        )
    return "".join(out) + "</table>"


def frontier_class_png(rows: list[dict], scenario: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.plot import MX, NASH, US

    sel = [r for r in rows if r["scenario"] == scenario]
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    first = sel[0]
    ax.plot(*first["frontier"], color="black", lw=1.2, label="Pareto frontier")
    ax.plot(*first["d"], "X", color="black", ms=8, label="no deal (episode 1)")
    if first["nash"]:
        ax.plot(*first["nash"], "D", color=NASH, ms=7, label="Nash point")
    for side, color in (("US", US), ("MX", MX)):
        for tables, marker in (("one", "o"), ("separate", "s"), ("bundle", "P")):
            pts = [r["negotiated"] for r in sel if r["side"] == side and r["tables"] == tables]
            if pts:
                who = "US" if side == "US" else "Mexican"
                label = f"{who} students, {debrief.TABLES[tables]}"
                ax.plot(*np.array(pts).T, marker, color=color, alpha=0.7, ms=6, ls="none",
                        label=label)  # fmt: skip
    ax.plot(*np.array([r["bench"] for r in sel]).T, "^", color="#555555", ms=6, ls="none",
            mfc="none", label="agent against itself")  # fmt: skip
    ax.set_xlabel("US utility, whole agenda (0-1)")
    ax.set_ylabel("Mexico's utility, whole agenda (0-1)")
    ax.set_title(scenario)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return debrief._png(fig)


STYLE = (
    "body{font-family:sans-serif;margin:24px;max-width:1100px} table{border-collapse:collapse;"
    "margin:8px 0} td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}"
    " img.frontier{max-width:520px;margin:4px}"
)


# --- the routes ----------------------------------------------------------------------------
def routes(play: Play) -> Starlette:
    """The Starlette app of play mode; ``sim.app`` mounts it beside the seminar page."""

    async def call(fn, *args, status=200):
        try:
            return JSONResponse(await run_in_threadpool(fn, *args), status_code=status)
        except NotFound as ex:
            return JSONResponse({"error": str(ex)}, status_code=404)
        except Duplicate as ex:
            return JSONResponse({"error": str(ex)}, status_code=409)
        except BadMove as ex:
            code = 409 if "sent twice" in str(ex) else 400
            return JSONResponse({"error": str(ex)}, status_code=code)

    async def body(request: Request):
        try:
            return await request.json()
        except ValueError:
            return None

    async def page(request: Request):
        return HTMLResponse(resources.files("sim.play").joinpath("play.html").read_text())

    async def setup(request: Request):
        return JSONResponse({"scenarios": scenario_names(), "frameworks": FRAMEWORKS,
                             "sides": NAMES} | DEFAULTS)  # fmt: skip

    async def start(request: Request):
        b = await body(request)
        if not isinstance(b, dict):
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        return await call(play.start, b, status=201)

    async def show(request: Request):
        return await call(play.show, request.path_params["id"])

    async def move(request: Request):
        return await call(play.move, request.path_params["id"], await body(request))

    async def picture(request: Request):
        try:
            png = await run_in_threadpool(
                play.picture, request.path_params["id"], request.path_params["which"]
            )
        except NotFound as ex:
            return PlainTextResponse(str(ex), status_code=404)
        return Response(png, media_type="image/png")

    def allowed(request: Request) -> bool:
        return secrets.compare_digest(request.query_params.get("token", ""), play.token)

    denied = (
        "the teacher's page needs the token linkage-app printed when it started: /teacher?token=..."
    )

    async def teacher(request: Request):
        if not allowed(request):
            return PlainTextResponse(denied, status_code=403)
        text = await run_in_threadpool(teacher_html, play, request.query_params["token"])
        return HTMLResponse(text)

    async def export(request: Request):
        if not allowed(request):
            return PlainTextResponse(denied, status_code=403)
        return PlainTextResponse(
            play.classroom.csv(),
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=class.csv"},
        )

    return Starlette(
        routes=[
            Route("/play", page),
            Route("/play/api/setup", setup),
            Route("/play/api/games", start, methods=["POST"]),
            Route("/play/api/games/{id}", show),
            Route("/play/api/games/{id}/moves", move, methods=["POST"]),
            Route("/play/api/games/{id}/{which:str}.png", picture),
            Route("/teacher", teacher),
            Route("/teacher/class.csv", export),
        ]
    )


def dispatch(play_app, seminar_app):
    """One ASGI app: play mode's paths to ``play_app``, everything else to the seminar."""

    async def app(scope, receive, send):
        path = scope.get("path", "")
        mine = scope["type"] == "http" and (
            path in ("/play", "/teacher") or path.startswith(("/play/", "/teacher/"))
        )
        await (play_app if mine else seminar_app)(scope, receive, send)

    return app
