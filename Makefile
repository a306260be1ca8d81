# Two commands do all set-up: `make course` and `make test` (both install first).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# What each use installs (pyproject.toml's extras): the course (the core is always in),
# then dev for tests and lint, lab for JupyterLab and TensorBoard.
COURSE_EXTRAS := notebooks,serve,cloud
PROFILE ?= default
# Python writes bytecode for what make's processes import (see install_extras).
unexport PYTHONDONTWRITEBYTECODE

# Where TensorFlow 2.21 has wheels and the local endpoint has gunicorn (constraints.txt
# resolves for exactly these): anything else stops here, with what to use instead.
PLATFORM := $(shell uname -s)-$(shell uname -m)
, := ,
ifeq ($(filter $(PLATFORM),Linux-x86_64 Linux-aarch64 Darwin-arm64),)
$(error unsupported platform $(PLATFORM): the kit runs on Linux (x86_64 or arm64; on Windows, in WSL2) and on macOS with Apple Silicon)
endif
# ONNX Runtime, as pinned, has macOS wheels for macOS 14 and later only: on an older macOS
# the resolver would fail deep inside; say it in one line instead.
ifeq ($(PLATFORM),Darwin-arm64)
MACOS := $(shell sw_vers -productVersion | cut -d. -f1)
ifeq ($(shell [ "$(MACOS)" -lt 14 ] && echo old),old)
$(error macOS $(MACOS): the kit needs macOS 14 or later (the pinned ONNX Runtime has no wheels for older releases))
endif
endif

.PHONY: install course test test-fast lint format hooks pins lab serve monitor mlflow-ui clean

install: $(STAMP)-course

$(BIN)/uv:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==0.13.9

# Installs the kit with the extras given, at the pinned versions, and says how big the
# environment is. Bytecode is not compiled here (all 18,000 files: 35 s on two cores) but
# written by the processes make starts, for the modules they import, once: make lets
# Python write it even where PYTHONDONTWRITEBYTECODE is set, or every kernel, test worker
# and server would compile TensorFlow anew. (Measured on fresh clones, same commit:
# make test 5 min 27 s this way, 6 min 15 s compiling everything at install.)
define install_extras
	$(BIN)/uv pip install --python $(BIN)/python --quiet -c constraints.txt -e '.[$(1)]'
	@echo "environment: $$(du -sh $(VENV) | cut -f1) in $(VENV) (core + $(1))"
endef

# Each re-installs only when the pins or the package metadata change.
$(STAMP)-course: pyproject.toml constraints.txt | $(BIN)/uv
	$(call install_extras,$(COURSE_EXTRAS))
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

$(STAMP)-dev: $(STAMP)-course
	$(call install_extras,$(COURSE_EXTRAS)$(,)dev)
	@touch $@

$(STAMP)-lab: $(STAMP)-course
	$(call install_extras,$(COURSE_EXTRAS)$(,)lab)
	@touch $@

course: install
	$(BIN)/course run --profile $(PROFILE) $(if $(COURSE_OUT),--out $(COURSE_OUT))

# Every tier (what CI runs); test-fast skips training, servers and subprocesses. Two
# workers, each taking whole test modules in the order tests/conftest.py gives them (not
# xdist's largest-first): the notebooks' student path, the longest, starts at once beside
# everything else. (A third worker costs more than it saves: each imports TensorFlow and
# trains its own session fixtures, and the student path's kernels starve.)
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadscope --no-loadscope-reorder

test: $(STAMP)-dev
	$(PYTEST)

test-fast: $(STAMP)-dev
	$(PYTEST) -m "not slow"

lint: $(STAMP)-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint
	$(BIN)/course check-notebooks

format: $(STAMP)-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Git hooks from .pre-commit-config.yaml: ruff, notebook stripping and checks, actionlint.
hooks: $(STAMP)-dev
	$(BIN)/pre-commit install

# Re-resolve constraints.txt after a change to pyproject.toml (UPGRADE=1 moves every pin to
# its newest release) and write environment.yml from the new pins.
pins: | $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 $(if $(UPGRADE),--upgrade) -o constraints.txt
	$(BIN)/python -m cloud.conda

# Bundle the champion of a run folder (RUN=runs/<folder>, else the newest that has one) and
# serve it locally.
serve: install
	@bundle=runs/bundles/$$(date +%Y%m%d-%H%M%S); \
	$(BIN)/python -m production bundle $(if $(RUN),--run-dir $(RUN)) --out $$bundle && \
	$(BIN)/python -m production serve $$bundle --port 5001 --collect $$bundle/collected.jsonl \
	  --metrics-port 9101

# Prometheus on 127.0.0.1:9090, scraping `make serve` (metrics on 9101) with the kit's alert
# rules; its data goes to runs/prometheus. Uses the distribution's prometheus binary.
monitor:
	@command -v prometheus >/dev/null || { echo "prometheus is not installed: apt-get install prometheus (Debian/Ubuntu) or brew install prometheus (macOS)"; exit 1; }
	prometheus --config.file=production/observability/prometheus.yml \
	  --web.listen-address=127.0.0.1:9090 --storage.tsdb.path=runs/prometheus

# JupyterLab on the course notebooks (installed on first use, with TensorBoard).
lab: $(STAMP)-lab
	$(BIN)/jupyter lab notebooks/

# The MLflow UI on a run folder's store: RUN=runs/<folder>, else the newest store.
mlflow-ui: install
	@store=$${RUN:+$$RUN/mlflow.db}; store=$${store:-$$(ls -t runs/*/mlflow.db 2>/dev/null | head -1)}; \
	test -n "$$store" || { echo "no MLflow store under runs/: run a notebook or make course first"; exit 1; }; \
	echo "MLflow UI for $$store at http://127.0.0.1:5000"; \
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$$(realpath $$store) --host 127.0.0.1 --port 5000

clean:
	rm -rf runs .pytest_cache .ruff_cache build *.egg-info
