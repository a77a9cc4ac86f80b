"""The seminar app: the model live in the browser, on Mesa's SolaraViz.

    linkage-app                               # then open http://127.0.0.1:8765/
    linkage-app --host 0.0.0.0 --port 9000
    linkage-app --class-db class.sqlite       # students play at /play, the teacher at /teacher

Play mode (``/play``, ``/teacher``) is ``sim.play``; this server carries it beside the page.

In a notebook, ``from sim.app import Page; Page()`` shows the same page in the cell.

The page is Mesa's SolaraViz, less what a seminar does not need (:func:`SeminarViz`), over a
:class:`~sim.seminar.SeminarModel` (that is, ``LinkageModel`` itself), with the pictures of
``sim.app_figures``. Every visitor gets a model of their own (``Page`` makes it with
``solara.use_memo``). Moving a control rebuilds the model with the new parameters and
replays it to the episode on screen, so a slider redraws at once; Step, Play and Reset are
Mesa's. The views are matplotlib figures in Mesa's plot grid: trust, utilities and
agreement, the positions of the latest agreement, the negotiation dance of the latest
episode beside the scenario's teaching text, and a small trust x pressure map computed on
request.

The page needs no network: its front-end comes from the ``solara-assets`` package, which
``pip install -e '.[app]'`` installs (see ``pyproject.toml`` for the pins and why).
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import logging
import os
import re
import secrets
import sqlite3
import sys
import threading
import warnings

import numpy as np

from sim.app_figures import compute_map, figure_png, map_png
from sim.config import scenario_names
from sim.seminar import (
    DEFAULTS,
    FRAMEWORKS,
    MAP_SIDE,
    MAP_WORLDS,
    MAX_WORLDS,
    Params,
    SeminarModel,
    scenario_start,
)

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no calls home

import solara  # noqa: E402  (after the telemetry switch)
import solara.lab  # noqa: E402
from mesa.visualization.solara_viz import (  # noqa: E402
    ModelController,
    ModelCreator,
    make_initial_grid_layout,
)
from mesa.visualization.utils import update_counter  # noqa: E402


def figure_view(name: str):
    """The grid's component for figure ``name``. A component (not a function) so that Mesa's
    grid keeps it from render to render and only its picture changes; it follows Mesa's
    step counter itself."""

    @solara.component
    def View(model: SeminarModel):
        update_counter.get()  # Mesa's signal that the model stepped
        with solara.Column(classes=[f"linkage-{name}"], style={"width": "100%"}):
            solara.Image(figure_png(name, model), width="100%", classes=[f"linkage-{name}-image"])

    View.__name__ = View.__qualname__ = f"{name.capitalize()}View"
    return View


TrustView, UtilityView, DanceView, PositionsView = map(
    figure_view, ["trust", "utility", "dance", "positions"]
)


def teaching_html(text: str) -> str:
    """A scenario's teaching notes as HTML: wrapped lines rejoined into paragraphs, a new
    paragraph at each heading ("WHAT TO LOOK AT."), indented lines (commands) as code."""
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip():
            blocks.append([])
        elif line.startswith((" ", "\t")):
            blocks.append(["<code>" + html.escape(line.strip()) + "</code>"])
            blocks.append([])
        elif re.match(r"[A-Z][A-Z ]+\.", line) or not blocks:
            head, dot, rest = line.partition(".")
            head = f"<b>{html.escape(head)}.</b>{html.escape(rest)}" if head.isupper() else None
            blocks.append([head or html.escape(line)])
        else:
            blocks[-1].append(html.escape(line.strip()))
    return "".join(f"<p>{' '.join(b)}</p>" for b in blocks if b)


def _html(text: str) -> str:
    return html.escape(text).replace("\n", " ")


@solara.component
def TeachingView(model: SeminarModel):
    """The scenario's ``teaching:`` text, what is on screen, and how to read the dance."""
    update_counter.get()
    episode = model.episode
    cfg, p = model.cfg, model.settings
    teaching = cfg.scenario.teaching.strip() or "(this scenario has no teaching notes)"
    worlds = f"{cfg.replications} world{'s' if cfg.replications > 1 else ''}"
    if p.compare:
        worlds += " per framework"
    solara.HTML(
        tag="div",
        classes=["linkage-teaching"],
        style={
            "padding": "0 12px",
            "font-size": "14px",
            "line-height": "1.4",
            "height": "100%",
            "overflow-y": "auto",
        },
        unsafe_innerHTML=(
            f"<h3>Scenario: {_html(cfg.scenario.name)}</h3>"
            f"{teaching_html(teaching)}"
            f"<p><b>On screen:</b> episode {episode} of {cfg.episodes}; {_html(p.framework)}; "
            f"initial trust {p.trust:.2f}; US pressure {p.pressure:.2f}; {worlds}; "
            f"seed {cfg.seed}.</p>"
            f"{chosen_html(model)}"
            f"{ratifiers_html(model)}"
            "<p><b>Reading the dance.</b> Each dot is an offer, blue the US's and orange "
            "Mexico's, alternating round by round until one side accepts (the star). The "
            "dashed line is the Pareto frontier at face value, the black line the frontier "
            "as each side discounts promises it does not fully trust; X is the no-deal point "
            "(after any US threat), the green diamond the Nash bargaining solution. A linked "
            "table can trade one issue for another; separate tables cannot.</p>"
            "<p><b>Take a side.</b> Students can play the US or Mexico against this model's "
            "own negotiator at <a href='/play' target='_blank'>/play</a>.</p>"
        ),
    )


def chosen_html(model: SeminarModel) -> str:
    """With ``framework=chosen``: which framework this episode's worlds chose, who blocked."""
    m = model.metrics
    if model.cfg.framework.name.value != "chosen" or not m:
        return ""
    rule = model.cfg.framework.rule.value
    return (
        f"<p class='linkage-chosen'><b>Chosen ({_html(rule)}), episode {model.episode}:</b> "
        f"{np.mean(m['linked']):.0%} of worlds on one table; Mexico blocked linkage in "
        f"{np.nanmean(m['blocked_mx']):.0%}, the US in {np.nanmean(m['blocked_us']):.0%}"
        + (f"; a bundle under threat in {np.mean(m['threats']):.0%}" if rule == "coercive" else "")
        + ".</p>"
    )


def ratifiers_html(model: SeminarModel) -> str:
    """Level II (docs/model.md §4.1): each country's ratifiers as they stand this episode
    (world 0's; events change them), and what ratification did in this episode's worlds."""
    rows = []
    for c in (model.us, model.mx):
        r = c.ratifiers
        if r is None:
            continue
        for j, name in enumerate(r.names):
            weights = ", ".join(
                f"{k} {w:.2f}" for k, w in zip(model.issues, r.salience[0, j], strict=True) if w > 0
            )
            say = "veto" if r.veto[0, j] else f"vote {r.weight[0, j]:g}"
            state = say if r.active[0, j] else "no say yet"
            rows.append(
                f"<tr><td>{c.name}</td><td>{_html(name)}</td><td>{_html(weights)}</td>"
                f"<td>{r.threshold[0, j]:+.2f}</td><td>{state}</td></tr>"
            )
    if not rows:
        return ""
    m = model.metrics
    done = ""
    if m:
        win = {c.name: m[f"winset_{c.name.lower()}"] for c in (model.us, model.mx) if c.ratifiers}
        wins = "; ".join(f"{side} {np.mean(v):.0%}" for side, v in win.items())
        done = (
            f"<p>Episode {model.episode}: tables rejected at home per world: US "
            f"{np.mean(m['unratified_us']):.2f}, Mexico {np.mean(m['unratified_mx']):.2f}; issues "
            f"lost to involuntary defection {np.mean(m['involuntary']):.2f}. Believed win-set on "
            f"the whole package (share of its frontier): {wins}.</p>"
        )
    return (
        "<div class='linkage-ratifiers'><p><b>Ratifiers at home (level II).</b> An agreement "
        "is implemented only if each country's ratifiers pass it: a ratifier approves when the "
        "deal, by its own weights, beats no deal by its margin.</p>"
        "<table style='font-size:13px; border-spacing:10px 2px; text-align:left'>"
        "<tr><th>country</th><th>ratifier</th><th>weights</th>"
        "<th>margin</th><th>say</th></tr>" + "".join(rows) + f"</table>{done}</div>"
    )


@solara.lab.task
def map_task(p: Params) -> dict:
    return compute_map(p)


@solara.component
def MapView(model: SeminarModel):
    """The small trust x pressure map, computed when asked (in a thread, per visitor)."""
    p = model.settings
    with solara.Column(classes=["linkage-map"], style={"width": "100%"}):
        solara.Button(
            "Compute map",
            color="primary",
            on_click=lambda: map_task(p),
            disabled=map_task.pending,
            classes=["linkage-map-button"],
        )
        if map_task.pending:
            solara.ProgressLinear(True)
        if map_task.error:
            solara.Error(f"map failed: {map_task.exception}")
        result = map_task.value if map_task.finished else None
        image = None if result is None else map_png(result, p.trust, p.pressure)
        if image is None:
            solara.Text(
                "Linked minus delinked Mexican utility over initial trust x US pressure, for "
                "the scenario, episodes and seed on the left: "
                f"{MAP_SIDE}x{MAP_SIDE} cells per framework, {MAP_WORLDS} worlds each. "
                "Press the button to compute it."
            )
        else:
            solara.Text(f"computed in {result['seconds']:.1f} s", classes=["linkage-map-time"])
            solara.Image(image, width="100%", classes=["linkage-map-image"])


def model_params(values: dict[str, solara.Reactive], p: Params) -> dict:
    """Mesa's parameter controls, bound to this visitor's reactive variables (the labels
    carry the values, which Mesa's sliders do not show)."""
    return {
        "scenario_name": {
            "type": "Select",
            "value": values["scenario_name"],
            "values": scenario_names(),
            "label": "Scenario",
        },
        "framework": {
            "type": "Select",
            "value": values["framework"],
            "values": FRAMEWORKS,
            "label": "Framework",
        },
        "trust": {
            "type": "SliderFloat",
            "value": values["trust"],
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": f"Initial trust {p.trust:.2f}",
        },
        "pressure": {
            "type": "SliderFloat",
            "value": values["pressure"],
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": f"US pressure {p.pressure:.2f}",
        },
        "episodes": {
            "type": "SliderInt",
            "value": values["episodes"],
            "min": 1,
            "max": 60,
            "step": 1,
            "label": f"Episodes {p.episodes}",
        },
        "seed": {
            "type": "SliderInt",
            "value": values["seed"],
            "min": 0,
            "max": 99,
            "step": 1,
            "label": f"Seed {p.seed}",
        },
        "worlds": {
            "type": "SliderInt",
            "value": values["worlds"],
            "min": 1,
            "max": MAX_WORLDS,
            "step": 1,
            "label": f"Worlds {p.worlds}",
        },
    }


# The views, in Mesa's plot grid (two per row): trust | utilities, dance | teaching text,
# positions | map.
VIEWS = [TrustView, UtilityView, DanceView, TeachingView, PositionsView, MapView]
PLAY_DELAY = 300  # ms between episodes when playing, at first


@solara.component
def SeminarViz(model: solara.Reactive, model_params: dict, name: str):
    """Mesa's ``SolaraViz`` as a seminar needs it: Mesa's own Reset, Play and Step
    (``ModelController``), parameter controls (``ModelCreator``) and plot grid, without what
    means nothing to a student: the tab bar of a single page ("Page 0"), the "Time" card, the
    "Render Interval" and "Use Threads" controls (one episode per step, no threads) and the
    theme switch (the figures are drawn on white). Mesa's play interval stays, as a delay."""
    parameters = solara.use_reactive({})  # what Reset rebuilds from (ModelCreator fills it)
    delay = solara.use_reactive(PLAY_DELAY)
    every_step = solara.use_reactive(1)
    threads = solara.use_reactive(False)
    layout, set_layout = solara.use_state(make_initial_grid_layout(len(VIEWS)))
    with solara.AppBar():
        solara.AppBarTitle(name)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            ModelController(
                model,
                model_parameters=parameters,
                play_interval=delay,
                render_interval=every_step,
                use_threads=threads,
            )
            with solara.Div(style={"margin-top": "16px"}):
                solara.SliderInt(
                    f"Play delay {delay.value} ms", value=delay, min=100, max=2000, step=100
                )
        with solara.Card("Model Parameters"):
            ModelCreator(model, model_params, model_parameters=parameters)
    solara.GridDraggable(
        items=[view(model.value) for view in VIEWS],
        grid_layout=layout,
        resizable=True,
        draggable=True,
        on_grid_layout=set_layout,
    )


def rebuild(
    model: solara.Reactive,
    values: dict[str, solara.Reactive],
    error: solara.Reactive,
    syncing: threading.Event | None = None,
):
    """Rebuild the model from the controls and replay it to the episode on screen. Picking
    a scenario moves trust, pressure and episodes to the scenario's own starting point."""
    syncing = syncing or threading.Event()
    if syncing.is_set():
        return
    current = Params(**{k: r.value for k, r in values.items()})
    old = model.value
    if old.settings == current:
        return
    if current.scenario_name != old.settings.scenario_name:
        current = dataclasses.replace(current, **scenario_start(current.scenario_name))
    try:
        new = SeminarModel(**dataclasses.asdict(current))
    except Exception as ex:  # e.g. a scenario file that does not compose: keep the old model
        error.value = f"{type(ex).__name__}: {ex}"
        return
    error.value = None
    model.value = new.advance(old.episode)
    syncing.set()  # show the values the model runs with, without rebuilding once per slider
    try:
        for k, v in dataclasses.asdict(current).items():
            values[k].value = v
    finally:
        syncing.clear()


@solara.component
def Page():
    """The app: a model per visitor, rebuilt as soon as a control moves."""
    values = solara.use_memo(lambda: {k: solara.reactive(v) for k, v in DEFAULTS.items()}, [])
    model = solara.use_memo(lambda: solara.reactive(SeminarModel(**DEFAULTS)), [])
    error = solara.use_memo(lambda: solara.reactive(None), [])
    syncing = solara.use_memo(threading.Event, [])

    def listen():
        # rebuild in the same event as the control's change: one render, not two
        stops = [
            r.subscribe(lambda _: rebuild(model, values, error, syncing)) for r in values.values()
        ]
        return lambda: [stop() for stop in stops]

    solara.use_effect(listen, [])
    current = Params(**{k: r.value for k, r in values.items()})
    solara.Title("linkage: US-Mexico issue linkage")
    if error.value:
        with solara.Sidebar():
            solara.Error(error.value)
    SeminarViz(model, model_params(values, current), name="linkage: US-Mexico issue linkage")


# --- the command -----------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    """``linkage-app``: serve the page with solara's server, offline."""
    ap = argparse.ArgumentParser(prog="linkage-app", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    ap.add_argument(
        "--class-db",
        metavar="FILE",
        help="keep the class's games (play mode, /play) in this SQLite file, across restarts; "
        "without it they are kept in memory while the server runs",
    )
    args = ap.parse_args(argv)
    from sim.play.classroom import Classroom
    from sim.play.web import Play, dispatch, routes

    try:
        classroom = Classroom(args.class_db or ":memory:")
    except sqlite3.Error as ex:
        ap.exit(2, f"linkage-app: --class-db={args.class_db!r} is not a usable SQLite file: {ex}\n")
    token = secrets.token_urlsafe(12)
    os.environ["SOLARA_APP"] = "sim.app:Page"
    logging.getLogger("MESA").setLevel(logging.WARNING)
    import uvicorn
    from solara.server import settings

    settings.main.mode = "production"
    # plain http on a local address: solara falls back to lax cookies, as it should
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    settings.theme.show_banner = False
    settings.theme.title = "linkage"
    host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    base = f"http://{host}:{args.port}"
    kept = f"in {args.class_db}" if args.class_db else "in memory only (--class-db FILE keeps them)"
    print(
        f"linkage-app: open {base}/ in a browser (Ctrl+C stops)\n"
        f"linkage-app: students play at {base}/play; games are kept {kept}\n"
        f"linkage-app: the teacher's page is {base}/teacher?token={token}",
        flush=True,
    )
    from solara.server.starlette import app as seminar

    app = dispatch(routes(Play(classroom, token)), seminar)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
