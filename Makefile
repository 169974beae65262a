# The two commands: `make up` runs the platform, `make test` proves it.
# Only Python 3.11+ is needed: uv is installed into a private virtualenv when missing.

SHELL := /bin/bash
UV_BOOTSTRAP := .uv-bootstrap
UV := $(shell command -v uv 2>/dev/null || echo $(UV_BOOTSTRAP)/bin/uv)
PYTHON ?= python3
RUN := $(UV) run --frozen --no-sync
PYTEST_WORKERS ?= 2

.PHONY: help up test lint format typecheck pytest bench install clean

help:
	@echo "make up      start MLflow and every service (Ctrl-C stops all)"
	@echo "make test    lint, type-check and run the test suite"
	@echo "make bench   run the benchmarks and record the results (SUITE=serving for one suite)"
	@echo "make lint    ruff, formatting and the import-layer contracts"

$(UV_BOOTSTRAP)/bin/uv:
	@echo "uv not found: installing it into $(UV_BOOTSTRAP)"
	$(PYTHON) -m venv $(UV_BOOTSTRAP)
	$(UV_BOOTSTRAP)/bin/pip install --quiet uv

install: $(if $(findstring $(UV_BOOTSTRAP),$(UV)),$(UV_BOOTSTRAP)/bin/uv)
	$(UV) sync --frozen

up: install
	$(RUN) mlsec up

lint: install
	$(RUN) ruff check src tests benchmarks scripts
	$(RUN) ruff format --check src tests benchmarks scripts
	$(RUN) lint-imports

format: install
	$(RUN) ruff check --fix src tests benchmarks scripts
	$(RUN) ruff format src tests benchmarks scripts

typecheck: install
	$(RUN) mypy

# Unit and API tests on PYTEST_WORKERS processes (they wait on servers much of their time), then the tests that
# start platforms (tests/browser, tests/e2e: one shared `mlsec up`) alone, so that nothing else competes with their
# timings; both always run, and either failing fails the target.
pytest: install
	@status=0; \
	$(RUN) pytest -n $(PYTEST_WORKERS) --ignore=tests/browser --ignore=tests/e2e || status=1; \
	$(RUN) pytest tests/browser tests/e2e || status=1; \
	exit $$status

test: lint typecheck pytest

bench: install  # SUITE=foundation|model|serving|gateway|drift|control-tower|data-privacy|tracing|business-metrics runs one suite
	$(UV) sync --frozen --group bench  # the anchors that only benchmarks need (Evidently)
	$(RUN) python -m benchmarks $(if $(SUITE),--suite $(SUITE))

clean:
	rm -rf .venv $(UV_BOOTSTRAP) .mypy_cache .ruff_cache .pytest_cache
