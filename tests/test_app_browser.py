"""The seminar app end to end: ``linkage-app`` on localhost, Debian's chromium driven by
Playwright, with every request that leaves this machine refused (the page must carry its
own front-end), and at 1280x800 no text cut and none of Mesa's controls a student does not need.

The browser is ``$LINKAGE_CHROMIUM`` if set, else ``chromium`` on the PATH or at
``/usr/bin/chromium``. Without it (or when Playwright cannot launch it) this test skips and
says how to install it (``apt-get install -y chromium``; ``make test`` run as root installs
it); with ``LINKAGE_REQUIRE_BROWSER=1`` (as CI sets) it fails instead, with the same reason.
``LINKAGE_APP_SCREENSHOT=docs/app.png`` also writes a small screenshot there
(``make app-screenshot``).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
INSTALL = "install it with `apt-get install -y chromium` (or run `make test` as root, which does)"
SEMINAR = {"width": 1280, "height": 800}  # a seminar room's projector


def find_chromium() -> str | None:
    """The browser: ``$LINKAGE_CHROMIUM`` (a path or a command name), else ``chromium`` on the
    PATH, else Debian's ``/usr/bin/chromium``; None when it is not there."""
    named = os.environ.get("LINKAGE_CHROMIUM")
    for candidate in [named] if named else ["chromium", "/usr/bin/chromium"]:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def no_browser(reason: str):
    """Skip, or fail when ``LINKAGE_REQUIRE_BROWSER=1``: one reason either way."""
    if os.environ.get("LINKAGE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def linkage_app() -> list[str]:
    """The ``linkage-app`` command installed beside this Python (or on the PATH)."""
    beside = Path(sys.executable).parent / "linkage-app"
    found = shutil.which(str(beside)) or shutil.which("linkage-app")
    assert found, "linkage-app is not installed: pip install -e '.[app]'"
    return [found]


def offline(target, outside: list[str]) -> None:
    """Refuse every request of ``target`` (a page or a browser context) that would leave this
    machine, noting its address in ``outside``."""

    def route(r):
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    target.route("**/*", route)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``linkage-app`` on a free local port; yields its address."""
    port = free_port()
    cmd = linkage_app()
    log = tmp_path_factory.mktemp("app") / "linkage-app.log"
    url = f"http://127.0.0.1:{port}/"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*cmd, "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=out
        )
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    assert r.status == 200
                break
            except OSError:
                assert proc.poll() is None, f"linkage-app stopped: {log.read_text()}"
                assert time.time() < deadline, f"linkage-app did not answer: {log.read_text()}"
                time.sleep(0.2)
        printed = log.read_text()
        assert f"open {url}" in printed, f"linkage-app did not print its address: {printed}"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    """Chromium under Playwright, or (a string) why there is none: the test then skips, or
    fails (not a setup error) with ``LINKAGE_REQUIRE_BROWSER=1``."""
    chromium = find_chromium()
    if chromium is None:
        where = os.environ.get("LINKAGE_CHROMIUM") or "chromium"
        yield f"no browser: {where} is not there; {INSTALL}"
        return
    try:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
    except Exception as ex:  # not installed, or its driver does not start
        why = f"Playwright does not start ({type(ex).__name__}: {ex}); pip install -e '.[app]'"
    else:
        try:
            b = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        except Exception as ex:
            playwright.stop()
            first = (str(ex).strip() or type(ex).__name__).splitlines()[0]
            why = f"Playwright cannot launch {chromium} ({first}); {INSTALL}"
        else:
            try:
                yield b
            finally:
                b.close()
                playwright.stop()
            return
    yield why


def picture(page, name) -> bytes:
    """What the view ``name`` shows now, as pixels."""
    return page.locator(f"img.linkage-{name}-image").screenshot(animations="disabled")


def source(page, name) -> str:
    return page.locator(f"img.linkage-{name}-image").get_attribute("src")


def wait_new(page, name, old_src, timeout=20.0) -> float:
    """Seconds until view ``name`` shows a new image."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        src = source(page, name)
        if src and src != old_src:
            return time.perf_counter() - start
        time.sleep(0.01)
    raise AssertionError(f"the {name} view was not redrawn within {timeout} s")


def slider(page, label):
    return page.locator(".v-input", has_text=label).locator("[role=slider]")


def choose(page, label, option):
    page.locator(".v-select", has_text=label).click()
    page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()


def step(page):
    old = source(page, "trust")
    page.get_by_role("button", name="Step").click()
    wait_new(page, "trust", old)


# Text that does not fit its box. Each visible text is checked in the box that lays it out
# (its nearest element that is not inline: an inline element has no width of its own) and in
# every box around it that clips (overflow other than visible), so that a box hiding part of
# a too-wide child counts too. No exception for the boxes that scroll: the page's scroll areas
# (sidebar, main area, teaching notes) scroll vertically, and text one would have to scroll
# sideways to read is cut as well.
CUT = """() => {
  const cut = [], seen = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walk.nextNode(); t; t = walk.nextNode()) {
    const text = t.textContent.trim();
    let e = t.parentElement;
    if (!text || !e || !e.checkVisibility({opacityProperty: true, visibilityProperty: true}))
      continue;
    while (['inline', 'contents'].includes(getComputedStyle(e).display) && e.parentElement)
      e = e.parentElement;
    for (let box = e; box && box !== document.documentElement; box = box.parentElement) {
      if (box !== e && getComputedStyle(box).overflowX === 'visible') continue;
      if (seen.has(box)) continue;
      seen.add(box);
      if (box.scrollWidth > box.clientWidth + 1)
        cut.push(`"${text.slice(0, 40)}" in <${box.tagName.toLowerCase()}`
                 + ` class="${box.className}">: ${box.scrollWidth} px in ${box.clientWidth} px`);
    }
  }
  return cut;
}"""

# What Mesa's SolaraViz shows and a student does not need (sim.app.SeminarViz leaves it out).
MESA_LEFTOVERS = {
    "Use Threads": re.compile(r"^Use Threads"),
    "Render Interval": re.compile(r"^Render Interval"),
    "PAGE 0": re.compile(r"^Page 0$", re.IGNORECASE),
    "the Time card": re.compile(r"^Time: "),
    "the Information card": re.compile(r"^Information$"),
}


def seminar_ready(page, timeout=10.0) -> None:
    """Nothing cut and no Mesa leftover on ``page``: waits for the layout to settle (the plot
    grid animates to a new width), then asserts."""
    deadline = time.time() + timeout
    while (cut := page.evaluate(CUT)) and time.time() < deadline:
        time.sleep(0.5)
    assert cut == [], "text cut at {}x{}:\n".format(*page.viewport_size.values()) + "\n".join(cut)
    shown = [
        name
        for name, pattern in MESA_LEFTOVERS.items()
        if any(e.is_visible() for e in page.get_by_text(pattern).all())
    ]
    if page.get_by_role("tab").count():
        shown.append("a tab bar")
    assert shown == [], f"Mesa controls a student does not need: {shown}"


WATCH = """() => {
  window.linkageRedraws = [];
  window.linkageKeys = [];
  new MutationObserver(ms => { for (const m of ms)
      if (m.target.classList.contains('linkage-trust-image'))
        window.linkageRedraws.push(performance.now()); })
    .observe(document.body, {attributes: true, subtree: true, attributeFilter: ['src']});
  document.addEventListener('keydown', () => window.linkageKeys.push(performance.now()), true);
}"""


def key_to_redraw(page, locator, key) -> float:
    """Seconds from a key press on ``locator`` to the trust view's new picture, timed in the
    page itself (the test's own polling would add its latency)."""
    page.evaluate("() => { window.linkageRedraws = []; window.linkageKeys = []; }")
    old = source(page, "trust")
    locator.press(key)
    wait_new(page, "trust", old)
    keys, redraws = page.evaluate("[window.linkageKeys, window.linkageRedraws]")
    return (redraws[0] - keys[0]) / 1000


def test_app_in_chromium(browser, request, tmp_path):
    if isinstance(browser, str):
        no_browser(browser)
    server = request.getfixturevalue("server")  # only when there is a browser to show it
    page = browser.new_page(viewport={"width": 1400, "height": 1500})
    outside, failed = [], []
    offline(page, outside)
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(server)

    # the page loads, from this machine alone
    page.wait_for_selector("img.linkage-trust-image", timeout=60_000)
    for name in ("utility", "dance", "positions"):
        page.wait_for_selector(f"img.linkage-{name}-image")
    assert page.get_by_text("Scenario: baseline").is_visible()
    assert outside == [], f"requests off this machine: {outside}"
    assert failed == [], f"requests that failed: {failed}"
    seminar_ready(page)
    page.evaluate(WATCH)

    # step, then moving the pressure slider and stepping changes the plotted trust
    step(page)
    stepped = picture(page, "trust")
    seconds = key_to_redraw(page, slider(page, "US pressure"), "End")
    page.get_by_text("US pressure 1.00", exact=True).wait_for()
    print(f"pressure slider, 50 worlds: trust redrawn in {seconds:.2f} s")
    moved = picture(page, "trust")
    assert moved != stepped
    step(page)
    assert picture(page, "trust") != moved
    assert page.get_by_text("episode 2 of 20").is_visible()

    # a slider still redraws at 200 worlds (how fast: benchmarks/bench_app.py)
    key_to_redraw(page, slider(page, "Worlds"), "End")
    page.get_by_text("Worlds 200", exact=True).wait_for()
    times = [key_to_redraw(page, slider(page, "US pressure"), "ArrowLeft") for _ in range(3)]
    print("pressure slider, 200 worlds, in the browser:", ", ".join(f"{s:.2f} s" for s in times))

    # switching framework changes the dance
    dance = picture(page, "dance")
    old = source(page, "dance")
    choose(page, "Framework", "delinked")
    wait_new(page, "dance", old)
    delinked = picture(page, "dance")
    assert delinked != dance
    old = source(page, "dance")
    choose(page, "Framework", "compare linked and delinked")
    wait_new(page, "dance", old)
    assert picture(page, "dance") not in (dance, delinked)
    for _ in range(6):
        step(page)
    times = [key_to_redraw(page, slider(page, "US pressure"), "ArrowRight") for _ in range(3)]
    print("pressure slider, 2 x 200 worlds:", ", ".join(f"{s:.2f} s" for s in times))

    # play runs episodes until paused; reset goes back to episode 0 with the same controls
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("episode 0 of 20").wait_for()
    page.get_by_role("button", name="▶").click()
    page.get_by_text("episode 3 of 20").wait_for(timeout=30_000)
    page.get_by_role("button", name="❚❚").click()
    # Mesa may finish the step under way; then the episodes stop
    deadline, last = time.time() + 20, None
    while (now := page.locator(".linkage-teaching").inner_text()) != last:
        assert time.time() < deadline, "play did not stop"
        last = now
        time.sleep(2)
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("episode 0 of 20").wait_for()
    assert page.get_by_text("Worlds 200", exact=True).is_visible()
    for _ in range(8):
        step(page)

    # the small map, on request
    page.locator(".linkage-map-button").click()
    page.wait_for_selector("img.linkage-map-image", timeout=60_000)
    print(page.locator(".linkage-map-time").inner_text())

    # every visitor has a model of their own
    other = browser.new_context(viewport=SEMINAR).new_page()
    other.goto(server)
    other.wait_for_selector("img.linkage-trust-image", timeout=60_000)
    for name in ("utility", "dance", "positions"):
        other.wait_for_selector(f"img.linkage-{name}-image")
    seminar_ready(other)
    other.screenshot(path=str(tmp_path / "app-1280-start.png"), animations="disabled")
    assert other.get_by_text("episode 0 of 20").is_visible()
    assert other.get_by_text("Worlds 50", exact=True).is_visible()
    other.get_by_role("button", name="Step").click()
    other.get_by_text("episode 1 of 20").wait_for()
    # the ratifier panel (level II): the 2020 security law's approval becomes a Mexican veto
    # player at episode 12
    choose(other, "Scenario", "cienfuegos_2020")
    other.get_by_text("Scenario: cienfuegos_2020").wait_for()
    other.get_by_role("button", name="Reset").click()
    other.get_by_text("episode 0 of 20").wait_for()
    assert "no say yet" in other.locator(".linkage-ratifiers").inner_text()
    for _ in range(12):
        step(other)
    other.get_by_text("episode 12 of 20").wait_for()
    panel = other.locator(".linkage-ratifiers").inner_text()
    assert re.search(r"security_law\s+security 1\.00\s+\+0\.25\s+veto", panel), panel
    assert re.search(r"win-set on the whole package \(share of its frontier\): MX \d+%", panel)
    seminar_ready(other)
    other.context.close()
    assert page.get_by_text("episode 8 of 20").is_visible()

    assert outside == [] and failed == []
    shot = tmp_path / "app.png"
    page.screenshot(path=str(shot), animations="disabled")
    assert shot.stat().st_size > 10_000
    docs = os.environ.get("LINKAGE_APP_SCREENSHOT")
    if docs:
        small_png(shot, Path(docs))
        print(f"wrote {docs}")

    # the same page, far into the session (compare mode, 200 worlds, the map), at 1280x800
    page.set_viewport_size(SEMINAR)
    seminar_ready(page)
    page.screenshot(path=str(tmp_path / "app-1280.png"), animations="disabled")
    print(f"screenshots in {tmp_path}")
    page.close()


def small_png(src: Path, dst: Path, width: int = 1000) -> None:
    """A smaller copy for the docs: ``width`` pixels wide, 256 colours (undithered octree
    quantisation keeps the palette's colours true)."""
    from PIL import Image

    im = Image.open(src).convert("RGB")
    im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    im = im.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    im.save(dst, optimize=True)
