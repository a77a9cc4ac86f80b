# `make run` and `make test` build .venv with the first Python >= 3.12 found on this machine.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell for p in python3.13 python3.12 python3 $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3); do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)

.PHONY: run test test-all browser bench figures experiments lint clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found; install one or pass PYTHON=/path/to/python3.12" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,sweep,analysis,calibration]'
	$(PY) -m pip install --quiet --no-deps 'elfi==0.8.8'  # its matplotlib<3.9 pin: see pyproject
	$(PY) -m pip install --quiet -e '.[app]'  # the seminar app; builds solara-assets (~240 MB)
	@touch $@

run: $(VENV)/.installed
	$(VENV)/bin/linkage

# The default suite (under 3 minutes on 2 cores, one test process per core); test-all adds the tests marked slow
# (every launcher, kills and resumes, the notebooks), as CI runs them.
test: $(VENV)/.installed browser
	$(PY) -m pytest -n auto

test-all: $(VENV)/.installed browser
	$(PY) -m pytest -n auto -m ""

# The app's browser test needs Debian's chromium: installed here when we can (root with
# apt-get); elsewhere that test skips and says how to install it.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	      >/dev/null 2>&1 || echo "could not install chromium; the browser tests will skip" >&2; \
	  else \
	    echo "chromium is missing (as root: apt-get install -y chromium); the browser tests will skip" >&2; \
	  fi; }

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_startup.py
	$(PY) benchmarks/bench_kernel.py
	$(PY) benchmarks/bench_map.py
	$(PY) benchmarks/bench_single.py
	$(PY) benchmarks/bench_sensitivity.py
	$(PY) benchmarks/bench_calibrate.py
	$(PY) benchmarks/bench_memory.py
	$(PY) benchmarks/bench_app.py

# The README's figures: the headline map (default job), a map over two other parameters and a
# negotiation dance.
figures: $(VENV)/.installed
	$(VENV)/bin/linkage store=null figures.formats=[png] hydra.run.dir=outputs/docs/map
	$(VENV)/bin/linkage experiment=single trust=0.3 pressure=0.7 store=null figures.formats=[png] \
		hydra.run.dir=outputs/docs/single
	$(VENV)/bin/linkage '+map.axes={countries.MX.salience.sovereignty: [0.1,0.2,0.3,0.4,0.5], threat.size: [0,1,2,3]}' \
		store=null figures.formats=[png] hydra.run.dir=outputs/docs/axes
	cp outputs/docs/map/figures/map_mx_utility.png docs/linkage_map.png
	cp outputs/docs/axes/figures/map_mx_utility.png docs/linkage_map_axes.png
	cp outputs/docs/single/figures/dance_episode1_table0.png docs/dance.png

# The seminar app on http://127.0.0.1:8765/ (sim/app.py), and its screenshot in docs/.
# The screenshot comes from the browser test; it needs Debian's chromium (apt-get install chromium).
# Students play at /play and the teacher watches at /teacher (the token is printed at start);
# `make app CLASS_DB=class.sqlite` keeps the class's games in that file across restarts.
.PHONY: app app-screenshot play-screenshots
app: $(VENV)/.installed
	$(VENV)/bin/linkage-app $(if $(CLASS_DB),--class-db $(CLASS_DB))

app-screenshot: $(VENV)/.installed
	LINKAGE_APP_SCREENSHOT=docs/app.png $(PY) -m pytest tests/test_app_browser.py -s

play-screenshots: $(VENV)/.installed
	LINKAGE_PLAY_SCREENSHOTS=docs $(PY) -m pytest tests/test_play_browser.py -s

# The experiments' figures and the numbers their READMEs quote (a few minutes).
experiments: $(VENV)/.installed
	$(PY) experiments/make_experiments.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) outputs multirun
