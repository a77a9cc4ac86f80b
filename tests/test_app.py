"""The seminar app (sim/app.py): its model, its figures, and its page rendered with solara's
test tools (no browser; tests/test_app_browser.py drives a real one)."""

import json
import logging
import re
import sys
import time

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara
import solara.widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim import app, app_figures, plot, seminar
from sim.config import ConfigError, scenario_names
from sim.model import LinkageModel, TableRecord

logging.getLogger("MESA").setLevel(logging.WARNING)


# --- the model behind the page -----------------------------------------------------------
def test_scenarios_are_the_packaged_yaml_files():
    names = scenario_names()
    assert "baseline" in names
    assert all(not n.endswith(".yaml") for n in names)


def test_seminar_model_is_linkage_model_with_keywords():
    m = seminar.SeminarModel(framework="delinked", trust=0.3, pressure=0.8, episodes=3, worlds=7)
    assert isinstance(m, LinkageModel)
    assert m.worlds == 7 and m.cfg.replications == 7
    assert (m.cfg.trust, m.cfg.pressure, m.cfg.framework.name.value) == (0.3, 0.8, "delinked")
    for _ in range(3):
        assert m.running
        m.step()
    assert m.episode == 3 and not m.running
    assert len(m.datacollector.model_vars["trust_us"]) == 3
    # trust is shown from episode 0
    assert app_figures.series(m, "trust_us").shape == (4, 7)
    assert np.allclose(app_figures.series(m, "trust_us")[0], 0.3)


def test_mesa_hands_reactive_values_through():
    m = seminar.SeminarModel(pressure=solara.reactive(0.9), worlds=solara.reactive(2))
    assert m.settings.pressure == 0.9 and m.worlds == 2


def test_compare_runs_both_frameworks_in_one_model():
    m = seminar.SeminarModel(framework=seminar.COMPARE, worlds=5, episodes=4).advance(2)
    assert m.worlds == 10
    assert [c.framework for c in m.cells] == ["linked", "delinked"]
    assert [t for t, _, _ in app_figures.blocks(m)] == ["linked", "delinked"]
    assert sorted({t.world for t in m.record}) == [0, 5]  # each cell's first world
    [(_, _, linked), (_, _, delinked)] = app_figures.blocks(m)
    linked = [t for t in linked if t.episode == 2]
    delinked = [t for t in delinked if t.episode == 2]
    assert len(linked) == 1 and len(linked[0].issues) == len(m.issues)
    assert len(delinked) == len(m.issues) and all(len(t.issues) == 1 for t in delinked)
    # the recorded delinked world is the delinked cell's first world: the same dance as a
    # delinked model alone (every cell has its own random stream)
    alone = seminar.SeminarModel(framework="delinked", worlds=5, episodes=4).advance(2)
    for a, b in zip([t for t in alone.record if t.episode == 2], delinked, strict=True):
        assert a.issues == b.issues and a.world == 0 and b.world == 5
        np.testing.assert_array_equal(a.offers, b.offers)
    np.testing.assert_array_equal(
        app_figures.series(alone, "mx_utility"), app_figures.series(m, "mx_utility")[:, 5:]
    )


def test_events_after_the_last_episode_are_dropped():
    cfg = seminar.config_for(seminar.Params(episodes=1))
    assert all(e.episode <= 1 for e in cfg.events)


@pytest.mark.parametrize(
    "framework", ["linked", "sequenced", "chosen (consent)", "chosen (coercive)", seminar.COMPARE]
)
@pytest.mark.parametrize("worlds", [1, 20])
def test_figures_draw_at_every_stage(framework, worlds):
    m = seminar.SeminarModel(framework=framework, worlds=worlds, episodes=3)
    for _ in range(2):
        for name in app_figures.FIGURES:
            data = app_figures.figure_png(name, m)
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
        m.step()


@pytest.mark.parametrize("scenario", scenario_names())
def test_every_scenario_draws(scenario):
    m = seminar.SeminarModel(
        scenario_name=scenario, framework=seminar.COMPARE, worlds=3, episodes=2
    )
    m.advance(2)
    for name in app_figures.FIGURES:
        assert app_figures.figure_png(name, m)[:4] == b"\x89PNG"


def test_latest_agreements_takes_the_newest():
    def table(episode, issues, agreed, x):
        none = np.zeros(len(issues))
        return TableRecord(
            episode, 0, issues, none, none, none, none, (0, 0), (1, 1), "US",
            np.zeros((2, 2)), 0 if agreed else 2, agreed, np.array(x),
        )  # fmt: skip

    record = [
        table(1, ["a", "b"], True, [0.1, 0.2]),
        table(2, ["a"], True, [0.9]),
        table(3, ["b"], False, [np.nan]),
    ]
    assert app_figures.latest_agreements(record) == {"a": (2, 0.9), "b": (1, 0.2)}


def longest_issue_name(scenario: str) -> int:
    return max(len(k) for k in seminar.config_for(seminar.Params(scenario_name=scenario)).issues)


def outside(fig, pad_px: float = 4.0) -> list[str]:
    """What of ``fig`` (panels with their tick labels and titles, texts, legends) reaches
    closer than ``pad_px`` to its edge, or beyond it, as drawn."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # axis labels and legends find their places when drawn
    renderer, inside = canvas.get_renderer(), fig.bbox.padded(-pad_px)
    out = []
    for artist in fig.get_default_bbox_extra_artists():
        box = artist.get_tightbbox(renderer)
        if box is not None and not (inside.contains(*box.min) and inside.contains(*box.max)):
            name = getattr(artist, "get_title", getattr(artist, "get_text", lambda: ""))()
            out.append(f"{type(artist).__name__} {name!r}: {box.bounds} in {fig.bbox.bounds}")
    return out


@pytest.mark.parametrize("framework", ["linked", "delinked", seminar.COMPARE])
@pytest.mark.parametrize("worlds", [1, 4])
def test_no_text_is_cut_even_with_the_longest_issue_names(framework, worlds):
    scenario = max(scenario_names(), key=longest_issue_name)
    m = seminar.SeminarModel(scenario_name=scenario, framework=framework, worlds=worlds)
    for episode in (0, 3):
        m.advance(episode)
        for name, draw in app_figures.FIGURES.items():
            assert outside(draw(m)) == [], f"{name} at episode {episode}"


def test_small_map_is_centred():
    """(Its speed is measured in benchmarks/bench_app.py, not here.)"""
    p = seminar.Params(episodes=20, seed=0)
    result = app_figures.compute_map(p)
    trust, pressure, diff = plot.difference_grid(result["cells"], "mx_utility")
    assert diff.shape == (seminar.MAP_SIDE, seminar.MAP_SIDE) and np.isfinite(diff).all()
    fig = app_figures.map_figure(result, 0.5, 0.5)
    ax = fig.axes[0]
    norm = ax.collections[0].norm
    assert norm.vcenter == 0 and norm.vmin == -norm.vmax  # diverging, centred on zero
    assert ax.get_xlabel() and ax.get_ylabel()


# --- the page, rendered with solara's test tools -------------------------------------------
@solara.component
def Layout():
    with solara.AppLayout():
        app.Page()


@pytest.fixture
def page():
    box, rc = solara.render(Layout(), handle_error=False)
    yield rc
    rc.close()


def image(rc, name) -> bytes:
    found = [
        w for w in rc.find(ipywidgets.Image).widgets if f"linkage-{name}-image" in w._dom_classes
    ]
    assert len(found) == 1, f"{name}: {len(found)} images"
    return found[0].value


def slider(rc, label) -> v.Slider:
    found = [w for w in rc.find(v.Slider).widgets if (w.label or "").startswith(label)]
    assert len(found) == 1, label
    return found[0]


def select(rc, label) -> v.Select:
    return rc.find(v.Select, label=label).widget


def button(rc, label) -> v.Btn:
    return rc.find(v.Btn, children=[label]).widget


def teaching(rc) -> str:
    found = [
        w
        for w in rc.find(solara.widgets.HTML).widgets
        if w.attributes.get("class") == "linkage-teaching"
    ]
    assert len(found) == 1
    return found[0].unsafe_innerHTML


def test_page_shows_every_view_and_control(page):
    for name in ("trust", "utility", "dance", "positions"):
        assert image(page, name)[:4] == b"\x89PNG"
    for label in ("Initial trust", "US pressure", "Episodes", "Seed", "Worlds"):
        slider(page, label)
    assert select(page, "Scenario").items == scenario_names()
    assert select(page, "Framework").items == seminar.FRAMEWORKS
    for label in ("Reset", "Step"):
        button(page, label)
    text = teaching(page)
    assert "Scenario: baseline" in text and "episode 0 of 20" in text
    assert "Compute map" in page.find(v.Btn, class_="linkage-map-button").widget.children[0]


def test_step_and_slider_redraw_trust(page):
    before = image(page, "trust")
    button(page, "Step").click()
    assert "episode 1 of" in teaching(page)
    stepped = image(page, "trust")
    assert stepped != before
    s = slider(page, "US pressure")
    s.v_model = 1.0
    # the model is rebuilt at the new pressure and replayed to the episode on screen
    assert "US pressure 1.00" in teaching(page) and "episode 1 of" in teaching(page)
    assert slider(page, "US pressure").label == "US pressure 1.00"
    moved = image(page, "trust")
    assert moved != stepped
    button(page, "Step").click()
    assert image(page, "trust") != moved and "episode 2 of" in teaching(page)
    # Mesa's Reset rebuilds from the controls: back to episode 0, pressure kept
    button(page, "Reset").click()
    assert "episode 0 of" in teaching(page) and "US pressure 1.00" in teaching(page)


def test_framework_changes_the_dance(page):
    button(page, "Step").click()
    linked = image(page, "dance")
    select(page, "Framework").v_model = "delinked"
    delinked = image(page, "dance")
    assert delinked != linked and "delinked" in teaching(page)
    select(page, "Framework").v_model = seminar.COMPARE
    assert image(page, "dance") not in (linked, delinked)
    assert "per framework" in teaching(page)


def test_chosen_framework_says_what_each_episode_chose(page):
    select(page, "Framework").v_model = "chosen (consent)"
    assert "Chosen (consent)" not in teaching(page)  # nothing chosen before the first episode
    button(page, "Step").click()
    text = teaching(page)
    m = re.search(r"Chosen \(consent\), episode 1:</b> (\d+)% of worlds on one table; Mexico "
                  r"blocked linkage in (\d+)%, the US in (\d+)%", text)  # fmt: skip
    assert m, text
    linked, blocked_mx = int(m.group(1)), int(m.group(2))
    assert linked + blocked_mx <= 101  # a world Mexico blocked is not linked (consent)
    select(page, "Framework").v_model = "chosen (coercive)"
    assert "a bundle under threat in" in teaching(page)


def test_slider_redraws_for_200_worlds_side_by_side(page):
    """(How fast is measured in benchmarks/bench_app.py, not here.)"""
    slider(page, "Worlds").v_model = seminar.MAX_WORLDS
    select(page, "Framework").v_model = seminar.COMPARE  # 2 x 200 worlds
    for _ in range(5):
        button(page, "Step").click()
    for value in (0.55, 0.6):
        before = image(page, "trust")
        slider(page, "US pressure").v_model = value
        assert image(page, "trust") != before


def test_map_button_computes_the_map(page):
    page.find(v.Btn, class_="linkage-map-button").widget.click()
    found = page.find(ipywidgets.Image)
    deadline = time.time() + 30
    while time.time() < deadline:
        if any("linkage-map-image" in w._dom_classes for w in found._reexecute_find().widgets):
            break
        time.sleep(0.1)
    assert image(page, "map")[:4] == b"\x89PNG"


def test_a_bad_scenario_keeps_the_old_model(page, monkeypatch):
    def broken(*args, **kwargs):
        raise ConfigError("scenario", "nope", "a scenario that composes")

    monkeypatch.setattr(seminar, "config_for", broken)
    slider(page, "Seed").v_model = 3
    assert page.find(v.Alert).widget  # the error, in the sidebar
    assert "seed 0" in teaching(page)


def test_page_displays_in_a_notebook(tmp_path, monkeypatch):
    """``Page()`` in a notebook cell shows the app as a widget."""
    from jupyter_client.manager import start_new_kernel

    # a kernel of this very environment, whatever other kernels the machine has
    spec = tmp_path / "kernels" / "linkage-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "linkage-test", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    km, kc = start_new_kernel(kernel_name="linkage-test")
    try:
        msg_id = kc.execute("from sim.app import Page\nPage()")
        shown, errors = [], []
        deadline = time.time() + 120
        while time.time() < deadline:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind in ("display_data", "execute_result"):
                shown += list(content["data"])
            elif kind == "error":
                errors.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert errors == []
    assert "application/vnd.jupyter.widget-view+json" in shown


def test_picking_a_scenario_moves_the_sliders_to_its_own_start():
    from sim.app import rebuild
    from sim.seminar import DEFAULTS, SeminarModel, scenario_start

    model = solara.reactive(SeminarModel(**DEFAULTS))
    values = {k: solara.reactive(v) for k, v in DEFAULTS.items()}
    error = solara.reactive(None)
    values["scenario_name"].value = "merida_2007"
    rebuild(model, values, error)
    start = scenario_start("merida_2007")
    assert (start["trust"], start["pressure"]) != (DEFAULTS["trust"], DEFAULTS["pressure"])
    assert values["trust"].value == start["trust"] and values["pressure"].value == start["pressure"]
    assert model.value.cfg.trust == start["trust"]
    assert model.value.settings == seminar.Params(**{k: r.value for k, r in values.items()})


def test_teaching_notes_keep_their_sections_and_commands():
    text = "QUESTION. Why\nnot?\nWHAT TO LOOK AT. Trust.\n  linkage experiment=single\nplain <b>"
    out = app.teaching_html(text)
    assert out.startswith("<p><b>QUESTION.</b> Why not?</p><p><b>WHAT TO LOOK AT.</b> Trust.</p>")
    assert "<code>linkage experiment=single</code>" in out and "plain &lt;b&gt;" in out


def test_ratifier_panel_shows_the_security_law_joining(page):
    assert "linkage-ratifiers" not in teaching(page)  # the baseline has no ratifiers
    select(page, "Scenario").v_model = "cienfuegos_2020"
    text = teaching(page)
    assert "Ratifiers at home (level II)" in text
    assert re.search(r"<td>MX</td><td>security_law</td><td>security 1.00</td><td>\+0.25</td>"
                     r"<td>no say yet</td>", text), text  # fmt: skip
    for _ in range(12):  # the law's veto_player event is dated episode 12
        button(page, "Step").click()
    text = teaching(page)
    assert "episode 12 of" in text and "<td>veto</td>" in text
    m = re.search(
        r"Believed win-set on the whole package \(share of its frontier\): MX (\d+)%", text
    )
    assert m and int(m.group(1)) < 100, text
