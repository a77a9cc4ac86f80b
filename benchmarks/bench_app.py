"""The seminar app's responsiveness: a slider change, and the small map.

    python benchmarks/bench_app.py

A slider change makes the app build a new model with the new parameters, replay it to the
episode on screen, and draw the four figures of Mesa's plot grid; this script times exactly
that server-side work (with the picture cache emptied), for 200 worlds and for 200 worlds
per framework side by side. The browser adds its round trip on top: the browser test
(`pytest tests/test_app_browser.py -s`) prints the time from a key press on the pressure
slider to the new trust picture on screen. Targets: a redraw within 1 s for up to 200
worlds; the 11 x 11 x 2 map with 20 worlds per cell within 5 s.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time

from sim import app_figures
from sim.seminar import COMPARE, MAP_SIDE, MAP_WORLDS, Params, SeminarModel


def redraw(p: Params, episode: int) -> float:
    """Seconds to rebuild the model for ``p``, replay ``episode`` episodes and draw."""
    app_figures._png_cache.clear()
    t0 = time.perf_counter()
    model = SeminarModel(**dataclasses.asdict(p)).advance(episode)
    for name in app_figures.FIGURES:
        app_figures.figure_png(name, model)
    return time.perf_counter() - t0


def main():
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    redraw(Params(worlds=10), 1)  # imports and first-draw costs, not what a slider pays
    for framework, label in (("linked", "200 worlds"), (COMPARE, "2 x 200 worlds (compare)")):
        for episode in (5, 20):
            times = [
                redraw(Params(framework=framework, worlds=200, pressure=pi), episode)
                for pi in (0.55, 0.6, 0.65)
            ]
            print(
                f"slider redraw, {label}, at episode {episode:2d}: "
                + ", ".join(f"{s:.2f}" for s in times)
                + " s (target <= 1 s)"
            )
    times = []
    for seed in (0, 1, 2):
        t0 = time.perf_counter()
        app_figures.compute_map(Params(seed=seed))
        times.append(time.perf_counter() - t0)
    print(
        f"map, {MAP_SIDE}x{MAP_SIDE}x2 cells x {MAP_WORLDS} worlds x 20 episodes: "
        + ", ".join(f"{s:.2f}" for s in times)
        + " s (target <= 5 s)"
    )


if __name__ == "__main__":
    main()
