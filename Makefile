# Two commands do all set-up: `make course` and `make test` (both install first).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROFILE ?= default

.PHONY: install course test test-fast lint format mlflow-ui clean

install: $(STAMP)

# Re-installs only when the pins or the package metadata change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv==0.13.9
	$(BIN)/uv pip install --python $(BIN)/python --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

course: install
	$(BIN)/course run --profile $(PROFILE)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

mlflow-ui: install
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(or $(RUN),$(lastword $(sort $(wildcard runs/*))))/mlflow.db --host 127.0.0.1

clean:
	rm -rf runs .pytest_cache .ruff_cache build *.egg-info
