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

DASHBOARD_PORT ?= 8866
DASHBOARD_ARGS ?=
# the same flags tests/browser/conftest.py gives the dashboard it tests
DASHBOARD_FLAGS := --VoilaConfiguration.show_tracebacks=True

.PHONY: lab test unit notebooks test-browser browser-deps dashboard lint bench \
	execute-notebooks kernel clean

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

## dashboard: the ROI case study and the serving notebook as a Voila app (widgets, no code)
##            headless: make dashboard DASHBOARD_ARGS=--no-browser
dashboard: $(STAMP)
	@echo "ROI case study: http://localhost:$(DASHBOARD_PORT)/voila/render/06_roi_case_study.ipynb"
	@echo "serving:        http://localhost:$(DASHBOARD_PORT)/voila/render/03_serving_cost.ipynb"
	$(BIN)/voila notebooks --port=$(DASHBOARD_PORT) $(DASHBOARD_FLAGS) $(DASHBOARD_ARGS)

## test: lint, unit tests and doctests, every notebook under strict nbval, then the browser tests
test: $(STAMP) lint unit notebooks test-browser

lint: $(STAMP)
	$(BIN)/ruff check costkit tests benchmarks

unit: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/browser --doctest-modules costkit \
		--ignore=costkit/__main__.py

notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks

## test-browser: JupyterLab, the Voila dashboard and the HTML report in Debian's Chromium
test-browser: $(STAMP) browser-deps
	$(BIN)/python -m pytest tests/browser -rs

## browser-deps: Debian's chromium for the browser tests (apt-get, as root or with sudo);
##               where it cannot be installed, the browser tests skip and say why
browser-deps:
	@if [ -n "$$COSTKIT_CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "browser-deps: no apt-get here; install Chromium and set COSTKIT_CHROMIUM"; \
	else \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
		echo "browser-deps: installing Debian's chromium"; \
		($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			$$SUDO apt-get install -y -qq chromium >/dev/null) \
		|| echo "browser-deps: chromium could not be installed; the browser tests will skip"; \
	fi

## bench: import time, catalog look-ups, training, serving, tuning, ROI, monitoring, scenarios
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_catalog.py
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_tuning.py
	$(BIN)/python benchmarks/bench_roi.py
	$(BIN)/python benchmarks/bench_monitoring.py
	$(BIN)/python benchmarks/bench_scenario.py

## execute-notebooks: re-run every notebook top to bottom and store its outputs
execute-notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.kernel_name=costkit notebooks/[0-9]*.ipynb

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
