# Two commands for a newcomer: `make lab` (explore) and `make test` (check everything).
# Both create .venv with the system python3 if it is missing and install costkit into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.costkit-installed
LAB_ARGS ?=
# Jupyter refuses to start as root (containers, CI) unless told it may.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: lab test unit notebooks lint bench execute-notebooks kernel clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[notebooks,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name costkit --display-name "Python (costkit)" >/dev/null
	touch $@

## lab: start JupyterLab on notebooks/ (headless: make lab LAB_ARGS=--no-browser)
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

## test: lint, unit tests and doctests, then every notebook under strict nbval
test: $(STAMP) lint unit notebooks

lint: $(STAMP)
	$(BIN)/ruff check costkit tests benchmarks

unit: $(STAMP)
	$(BIN)/python -m pytest tests --doctest-modules costkit

notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks

## bench: import time, catalog look-ups, training, serving, tuning, ROI and monitoring
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_catalog.py
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_tuning.py
	$(BIN)/python benchmarks/bench_roi.py
	$(BIN)/python benchmarks/bench_monitoring.py

## execute-notebooks: re-run every notebook top to bottom and store its outputs
execute-notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.kernel_name=costkit notebooks/[0-9]*.ipynb

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
