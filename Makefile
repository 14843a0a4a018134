# The README's two commands run `make tune` and `make test`; each sets up what it needs first.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
FASHION_MNIST = /usr/share/datasets/fashion-mnist

.PHONY: setup data tune test test-slow tune-gate panel panel-ci ci-after-test benchmarks matrix oldest-gate

setup: $(VENV)/.installed

# uv installs the same releases pip would pick, from PyPI, in about 0.6x pip's time on a
# fresh machine (TensorFlow's wheel is most of it; docs/performance.md, "Setup with uv"). It is
# a setup tool only: nothing imports it. Its range is the one tested here. It reads no pip.conf
# (a private index goes in UV_DEFAULT_INDEX). --compile-bytecode because, unlike pip, uv writes
# no .pyc files by default, and where PYTHONDONTWRITEBYTECODE is set (as on our CI machines)
# every process would compile TensorFlow's Python again on import.
UV = $(BIN)/uv
UV_INSTALL = $(UV) pip install --quiet --compile-bytecode --python $(BIN)/python
$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv>=0.13,<0.14"

$(VENV)/.installed: pyproject.toml | $(UV)
	$(UV_INSTALL) -e ".[test]"
	touch $@

# Debian's dataset-fashion-mnist holds the four IDX files; nothing is downloaded at run time.
data:
	@test -f $(FASHION_MNIST)/train-images-idx3-ubyte.gz || \
		(apt-get update && apt-get install -y dataset-fashion-mnist)

tune: setup data
	$(BIN)/mlptune tune --n-calls 10 --out runs/quickstart-$$(date +%Y%m%d-%H%M%S)

# The edit-test loop: everything but the few end-to-end tests marked slow (whole workflows in
# subprocesses, a minute or more each); test-slow runs those, and CI runs both.
test: setup data
	$(BIN)/python -m pytest -n 2 -m "not slow"

test-slow: setup data
	$(BIN)/python -m pytest -n 2 -m slow

# The tuning gate: each tuning test compared with its committed baseline, one test per core.
tune-gate: setup data
	$(BIN)/python -m pytest --tune --n-calls 10 -m tune -n 2

# The mutation panel (docs/verdict.md): harmless changes must pass, regressions of 2 points or more
# must fail, on three problems. Over an hour here; CI runs two of its cases (panel-ci) with the
# shipped defaults. `make panel` records each problem's baseline with 4 searches and 4 replay seeds,
# so tests/panel/report.py can judge the same runs with 2, 3 or 4 seeds.
PANEL_RESULTS ?= panel-results
panel: setup data
	MLPTUNE_PANEL_REPEATS=4 MLPTUNE_PANEL_RESULTS=$(PANEL_RESULTS) \
		$(BIN)/python -m pytest tests/panel -n 2 --dist loadgroup -p no:randomly -rA

panel-ci: setup data
	MLPTUNE_PANEL_TRUTH=skip MLPTUNE_PANEL_RESULTS=$(PANEL_RESULTS) $(BIN)/python -m pytest tests/panel -m panel_ci \
		-p no:randomly -rA

# What CI runs after `make test`: test-slow, tune-gate and panel-ci in one session on both cores.
# The panel's three runs must follow each other (its cases share one recorded baseline); listed
# first, they start first, and the other tests fill the second core meanwhile.
ci-after-test: setup data
	MLPTUNE_PANEL_TRUTH=skip MLPTUNE_PANEL_RESULTS=$(PANEL_RESULTS) \
		$(BIN)/python -m pytest --tune --n-calls 10 -n 2 --dist loadgroup \
		-p no:randomly -rfE -m "panel_ci or slow or tune" tests/panel tests/harness tests/pytest_mlptune tests/tuning

# Side-by-side benchmarks with ratios (about 16 minutes here); not part of `make test`.
benchmarks: setup data
	$(BIN)/python -m pytest tests/benchmarks -p no:randomly --benchmark-columns=min,median,max,rounds

# The TensorFlow matrix (tox.ini): every version's suite and tuning gate, each in its own env.
TOX = $(BIN)/tox
$(TOX): $(VENV)/.installed
	$(UV_INSTALL) "tox>=4.20,<5"

matrix: setup data $(TOX)
	$(TOX) run-parallel -p 2

# The oldest supported TensorFlow's tuning gate against its own baselines (CI runs it beside the
# tests); tox builds its environment first if it has none.
oldest-gate: setup data $(TOX)
	$(TOX) run -e tf215-gate -- -n 2
