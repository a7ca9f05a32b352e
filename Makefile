# Two commands for a newcomer: `make lab` (explore) and `make test` (check everything).
# Both create .venv with the system python3 if it is missing and install costkit into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.costkit-installed
TEST_STAMP := $(VENV)/.costkit-test-installed
LAB_ARGS ?=
# Jupyter refuses to start as root (containers, CI) unless told it may.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# A room without network: `make wheelhouse` once (with network), then `make lab OFFLINE=1`
# installs everything from wheelhouse/ with the package index disabled.
OFFLINE ?=
WHEELHOUSE ?= wheelhouse
FROM_WHEELHOUSE := --no-index --find-links $(abspath $(WHEELHOUSE))

DASHBOARD_PORT ?= 8866
DASHBOARD_ARGS ?=
# the same flags tests/browser/conftest.py gives the dashboard it tests
DASHBOARD_FLAGS := --VoilaConfiguration.show_tracebacks=True

.PHONY: class lab install test unit notebooks test-browser browser-deps dashboard lint bench \
	execute-notebooks kernel clean handouts test-handouts html timings wheelhouse test-offline \
	fuzz test-lowest test-timezones validate docs test-spark spark-deps test-focus mutate

# costkit needs Python 3.11 or newer (pyproject.toml's requires-python)
SUPPORTED := import sys; sys.exit(sys.version_info < (3, 11))

TOO_OLD := costkit needs Python 3.11 or newer

$(BIN)/python:
	@$(PYTHON) -c '$(SUPPORTED)' 2>/dev/null || { echo "$(PYTHON) is $$($(PYTHON) --version 2>&1 | head -1): $(TOO_OLD); try make install PYTHON=python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@# a .venv left by an unsupported Python is named and rebuilt, not reused and failed on
	@$(BIN)/python -c '$(SUPPORTED)' || { echo "$(VENV) was made by $$($(BIN)/python --version 2>&1): $(TOO_OLD); rebuilding it with $(PYTHON)"; rm -rf $(VENV); $(MAKE) --no-print-directory $(BIN)/python; }
	@echo "installing costkit and JupyterLab into $(VENV) (a few minutes the first time)"
ifeq ($(OFFLINE),1)
	@test -d $(WHEELHOUSE) || { echo "no $(WHEELHOUSE)/: run make wheelhouse where there is network"; exit 2; }
	$(BIN)/python -m pip install --quiet $(FROM_WHEELHOUSE) --upgrade pip "setuptools>=77" wheel
	$(BIN)/python -m pip install --progress-bar on $(FROM_WHEELHOUSE) --no-build-isolation -e ".[notebooks]"
else
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e ".[notebooks]"
endif
	$(BIN)/python -m ipykernel install --sys-prefix --name costkit --display-name "Python (costkit)" >/dev/null
	@echo "installed. The command line is $(BIN)/costkit (or: source $(BIN)/activate, then costkit)"
	touch $@

DOCS_STAMP := $(VENV)/.costkit-docs-installed

# Sphinx and its extensions only for make docs
$(DOCS_STAMP): $(STAMP)
	@echo "installing Sphinx, numpydoc, the PyData theme and myst-nb into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e ".[notebooks,docs]"
	touch $@

## docs: the reference site in build/docs (API from the docstrings, the notebooks with their
##       stored outputs, the validation figures, the scenario format); warnings are errors
docs: $(DOCS_STAMP)
	rm -rf build/docs
	$(BIN)/sphinx-build -W --keep-going -b html docs build/docs
	@echo "built build/docs/index.html"

# the test tools (pytest, nbval, hypothesis, Playwright, ruff ...) only for the targets that test
$(TEST_STAMP): $(STAMP)
	@echo "installing the test tools into $(VENV)"
ifeq ($(OFFLINE),1)
	$(BIN)/python -m pip install --progress-bar on $(FROM_WHEELHOUSE) --no-build-isolation -e ".[notebooks,test]"
else
	$(BIN)/python -m pip install --progress-bar on -e ".[notebooks,test]"
endif
	touch $@

## install: create .venv and install costkit with the notebook extra (OFFLINE=1: from wheelhouse/);
##          make test adds the test extra
install: $(STAMP)

## validate: every published training run and serving benchmark against costkit's out-of-sample
##           prediction, with the peer llm-analysis beside it (installs the [peers] extra)
validate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[peers]"
	$(BIN)/python -m costkit.validation

## lab: start JupyterLab on notebooks/ (headless: make lab LAB_ARGS=--no-browser)
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ALLOW_ROOT) $(LAB_ARGS)

## class: what students open: JupyterLab on the hand-outs (no solution cells; the checks work)
##        headless: make class LAB_ARGS=--no-browser
class: handouts
	@echo "class: JupyterLab on handouts/ (the teacher's copies with solutions are in notebooks/)"
	$(BIN)/jupyter lab --notebook-dir=handouts $(ALLOW_ROOT) $(LAB_ARGS)

## dashboard: the ROI case study and the serving notebook as a Voila app (widgets, no code)
##            headless: make dashboard DASHBOARD_ARGS=--no-browser
dashboard: $(STAMP)
	@echo "ROI case study: http://localhost:$(DASHBOARD_PORT)/voila/render/06_roi_case_study.ipynb"
	@echo "serving:        http://localhost:$(DASHBOARD_PORT)/voila/render/03_serving_cost.ipynb"
	@# no port retries: Voila would move to the next free port and the URLs above would be wrong
	$(BIN)/voila notebooks --port=$(DASHBOARD_PORT) --Voila.port_retries=0 $(DASHBOARD_FLAGS) \
		$(DASHBOARD_ARGS) || { echo "dashboard: is port $(DASHBOARD_PORT) taken? try make dashboard DASHBOARD_PORT=8870"; exit 2; }

## test: lint, unit tests and doctests, the fleet pipeline on Spark, FOCUS exports through the
##       FinOps Foundation's validator, the time tests in two other time zones, every notebook under strict nbval, the hand-outs (lax), the offline install
##       from a wheelhouse, then the browser tests
test: $(TEST_STAMP) lint unit test-spark test-focus test-timezones notebooks test-handouts \
	test-offline test-browser

lint: $(TEST_STAMP)
	$(BIN)/ruff check costkit tests benchmarks
	$(BIN)/mypy

unit: $(TEST_STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/browser --ignore=tests/offline \
		--ignore=tests/test_fleet_spark.py --doctest-modules costkit \
		--ignore=costkit/__main__.py

SPARK_STAMP := $(VENV)/.costkit-spark-installed

# PySpark (a large download, built once) only for make test-spark
$(SPARK_STAMP): $(TEST_STAMP)
	@echo "installing PySpark into $(VENV) (the spark extra)"
	$(BIN)/python -m pip install --progress-bar on -e ".[notebooks,test,spark]"
	touch $@

## test-spark: the fleet pipeline on Apache Spark in local mode, every table equal to DuckDB's
##             to the cent (needs Java 17 or 21: make spark-deps installs Debian's)
test-spark: $(SPARK_STAMP) spark-deps
	COSTKIT_REQUIRE_SPARK=1 $(BIN)/python -m pytest tests/test_fleet_spark.py -q -p no:cacheprovider

## test-focus: costkit.billing.focus_conformance with the FinOps Foundation's focus-validator,
##             installed into .venv-focus (its pins, numpy<2 and pandas<3, cannot share .venv)
FOCUS_VENV ?= .venv-focus
$(FOCUS_VENV)/bin/focus-validator:
	rm -rf $(FOCUS_VENV)
	$(PYTHON) -m venv $(FOCUS_VENV)
	$(FOCUS_VENV)/bin/python -m pip install --quiet focus-validator==1.0.0 "multimethod<1.11"

test-focus: $(TEST_STAMP) $(FOCUS_VENV)/bin/focus-validator
	COSTKIT_FOCUS_VALIDATOR=$(abspath $(FOCUS_VENV))/bin/focus-validator $(BIN)/python -m pytest \
		tests/test_monitoring.py -k conformance -q -p no:cacheprovider

## spark-deps: a Java runtime for Spark (Debian's openjdk-17-jre-headless) unless java is there
spark-deps:
	@if command -v java >/dev/null 2>&1 || [ -n "$$JAVA_HOME" ]; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "spark-deps: no java and no apt-get; install a JDK 17 and set JAVA_HOME"; exit 2; \
	else \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
		echo "spark-deps: installing Debian's openjdk-17-jre-headless"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			$$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	fi

## test-timezones: everything that touches time again on machines in New York and Shanghai time:
##                 costkit works in UTC, so the answers must not move
test-timezones: $(TEST_STAMP)
	for tz in America/New_York Asia/Shanghai; do \
		TZ=$$tz $(BIN)/python -m pytest tests/test_adversarial.py tests/test_trust_data.py \
			tests/test_monitoring.py -q -p no:cacheprovider || exit 1; \
	done

# The day the notebooks' stored outputs were computed (they print the age of their prices): their
# check runs on that day, as a seed pins random draws; make execute-notebooks moves it to today.
NOTEBOOK_TODAY = $(shell cat notebooks/.today)

notebooks: $(TEST_STAMP)
	COSTKIT_TODAY=$(NOTEBOOK_TODAY) $(BIN)/python -m pytest $(NBVAL) notebooks

## fuzz: the property and adversarial tests with random examples, FUZZ_FACTOR times as many
##       (make test runs them derandomised); failures are kept in .hypothesis/ to replay; then
##       the table of TALLY random inputs of each kind by outcome (tests/adversarial_tally.py)
FUZZ_FACTOR ?= 20
TALLY ?= 300
fuzz: $(TEST_STAMP)
	COSTKIT_HYPOTHESIS_PROFILE=fuzz COSTKIT_FUZZ_FACTOR=$(FUZZ_FACTOR) \
		$(BIN)/python -m pytest tests/test_adversarial.py tests/test_capacity.py \
		tests/test_monitoring.py tests/test_optimization.py tests/test_roi.py \
		tests/test_serving.py tests/test_training.py tests/test_tuning.py tests/test_units.py \
		tests/test_trust_accuracy.py tests/test_ledger.py tests/test_price_lists.py \
		tests/test_fleet.py tests/test_trust_iii.py tests/test_one_rule.py -q
	$(BIN)/python tests/adversarial_tally.py $(TALLY)

## mutate: a mutation run over the formula modules (tests/mutate.py): MUTANTS per module,
##         seeded; prints the kill rate, writes the survivors to build/mutate/survivors.md
MUTANTS ?= 12
mutate: $(TEST_STAMP)
	$(BIN)/python tests/mutate.py $(MUTANTS)

## test-lowest: the unit tests on the lowest versions pyproject.toml allows (uv's
##              --resolution lowest-direct), in .venv-lowest: proves the declared floors
LOWEST_VENV ?= .venv-lowest
test-lowest: $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet "uv>=0.4"
	rm -rf $(LOWEST_VENV)
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv venv --quiet --seed --python $(BIN)/python $(LOWEST_VENV)
	$(BIN)/uv pip install --quiet --python $(LOWEST_VENV)/bin/python --resolution lowest-direct \
		-e ".[notebooks,test]"
	$(LOWEST_VENV)/bin/python -c "import numpy, pandas, yaml, duckdb, pyarrow, matplotlib; \
		print('lowest:', 'numpy', numpy.__version__, 'pandas', pandas.__version__, 'pyyaml', \
		yaml.__version__, 'duckdb', duckdb.__version__, 'pyarrow', pyarrow.__version__, \
		'matplotlib', matplotlib.__version__)"
	$(LOWEST_VENV)/bin/python -m pytest tests --ignore=tests/browser --ignore=tests/offline -q \
		--ignore=tests/test_fleet_spark.py -p no:cacheprovider

## test-browser: JupyterLab, the Voila dashboard and the HTML report in Debian's Chromium
test-browser: $(TEST_STAMP) browser-deps
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

## handouts: student copies in handouts/ (solution cells removed, exercise cells emptied)
handouts: $(STAMP)
	$(BIN)/python -m costkit.workshop handouts --out handouts

## test-handouts: build the hand-outs and run them (nbval lax: they must execute, answers left open)
test-handouts: handouts $(TEST_STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env handouts

## html: the executed notebooks as static HTML with an index, in build/html/
html: $(STAMP)
	$(BIN)/python -m costkit.workshop html --out build/html

## timings: run every notebook, write docs/notebook_timings.csv and the facilitator guide's table
##          and agendas (docs/workshop.md, between its markers)
timings: $(STAMP)
	$(BIN)/python -m costkit.workshop timings --out docs/notebook_timings.csv

## wheelhouse: download every wheel the project needs into wheelhouse/ (once, with network)
wheelhouse: $(STAMP)
	$(BIN)/python -m pip wheel --quiet --wheel-dir $(WHEELHOUSE) ".[notebooks,test]" \
		pip "setuptools>=77" wheel

## test-offline: install from wheelhouse/ into a fresh venv with the package index disabled
test-offline: wheelhouse $(TEST_STAMP)
	COSTKIT_WHEELHOUSE=$(abspath $(WHEELHOUSE)) $(BIN)/python -m pytest tests/offline -rs

## bench: import time, catalog look-ups, training, serving, tuning, ROI, monitoring (in pandas,
##        and out of core on DuckDB at 1e6 and 1e7 samples), scenarios, what the trust checks
##        cost, and the validation report's cost and figures
bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/bench_catalog.py
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_tuning.py
	$(BIN)/python benchmarks/bench_roi.py
	$(BIN)/python benchmarks/bench_monitoring.py
	$(BIN)/python benchmarks/bench_fleet.py
	$(BIN)/python benchmarks/bench_scenario.py
	$(BIN)/python benchmarks/bench_trust.py
	$(BIN)/python benchmarks/bench_accuracy.py

## execute-notebooks: re-run every notebook top to bottom and store its outputs
execute-notebooks: $(STAMP)
	date -u +%F > notebooks/.today
	COSTKIT_TODAY=$$(cat notebooks/.today) $(BIN)/python -m costkit.workshop execute --src notebooks

clean:
	rm -rf $(VENV) $(LOWEST_VENV) $(FOCUS_VENV) build *.egg-info .pytest_cache .ruff_cache handouts
