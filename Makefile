# Fashion-MNIST Studio: one command to run, one to test. Every target sets up what it needs
# and skips what is already done (stamp files inside .venv).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8050

.PHONY: run test lint setup setup-test setup-lint data reference reference-models bench clean-venv

run: setup data
	$(PY) -m dashboard --host $(HOST) --port $(PORT)

# two workers (pytest-xdist): the suite alone keeps one of the two cores busy; each test module runs
# whole on one worker, and the expensive shared fixtures are built once (tests/conftest.py).
# PYTEST_WORKERS=0 runs it in one process. Each TensorFlow process of the suite uses one thread per
# pool (TF_NUM_*_THREADS): two workers' trainings share two cores without oversubscribing them (the
# first phase, quick runs and tiny studies built at once, took 121 s instead of 134 s here). The
# project's modules are byte-compiled first: with PYTHONDONTWRITEBYTECODE set, every one of the
# suite's subprocesses would compile them again.
PYTEST_WORKERS ?= 2
TEST_THREADS ?= 1
test: setup-test data lint
	@$(PY) -m compileall -q core dashboard bench
	TF_NUM_INTRAOP_THREADS=$(TEST_THREADS) TF_NUM_INTEROP_THREADS=$(TEST_THREADS) \
	  $(PY) -m pytest --headless -n $(PYTEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS) tests

# ruff (lint + format check), mypy and import-linter (the layer contracts), configured in
# pyproject.toml; each problem is printed with its file and line, and any problem fails the target
# (and so `make test` and CI).
lint: setup-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

setup: $(VENV)/.runtime.stamp

setup-test: $(VENV)/.test.stamp
	@scripts/ensure-apt.sh chromium:chromium chromium-driver:chromedriver redis-server:redis-server

$(VENV)/.runtime.stamp: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

setup-lint: $(VENV)/.lint.stamp

$(VENV)/.lint.stamp: requirements-lint.txt $(VENV)/.runtime.stamp
	$(PY) -m pip install -q -r requirements-lint.txt
	@touch $@

$(VENV)/.test.stamp: requirements-test.txt $(VENV)/.runtime.stamp
	$(PY) -m pip install -q -r requirements-test.txt
	@touch $@

# The real dataset: Debian's dataset-fashion-mnist unless FASHION_MNIST_DIR or artifacts/data has it.
data: setup
	@if [ -z "$$FASHION_MNIST_DIR" ] && [ ! -f artifacts/data/train-images-idx3-ubyte.gz ]; then \
	  scripts/ensure-apt.sh dataset-fashion-mnist:/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz; fi
	@$(PY) -m core data check

reference: setup data
	$(PY) -m core reference

# model files too large for git (the Random Forest), rebuilt here and checked against their predictions
reference-models: setup data
	$(PY) -m core rebuild --missing

bench: setup data
	$(PY) -m bench

clean-venv:
	rm -rf $(VENV)
