# Everyday commands. `make demo` and `make test` work on a fresh clone: they build .venv
# and node_modules on first use (stamp files make later runs fast).

VENV      := .venv
BIN       := $(VENV)/bin
SALESPLAN := $(BIN)/salesplan
PYTEST    := $(BIN)/pytest
# Two pytest processes suit a laptop and the 2-core CI box alike; override with
# `make test PYTEST_WORKERS=auto` (or 0 to run in one process).
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000

PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help setup demo run worker test lint bench clean migrate

help:
	@echo "make demo    set up, build the demo company and serve it on http://$(HOST):$(PORT)/"
	@echo "make test    set up and run the whole test suite (browser tests need /usr/bin/chromium)"
	@echo "make run     serve the existing database"
	@echo "make worker  run background workers (needs SALESPLAN_TASK_BROKER)"
	@echo "make lint    ruff, mypy and the import-layers contract"
	@echo "make bench   performance benchmarks"
	@echo "make clean   remove the virtualenv, node_modules, collected static files and caches"

$(PY_STAMP): pyproject.toml .python-version
	@test -x $(BIN)/python || "$$(scripts/find-python)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

migrate: setup
	@mkdir -p var
	$(SALESPLAN) migrate --noinput --verbosity 0
	$(SALESPLAN) createcachetable

demo: migrate
	@if $(SALESPLAN) shell --no-imports -c "import sys; from salesplan.customers.models import Account; sys.exit(0 if Account.objects.exists() else 1)" 2>/dev/null; \
	then echo "The database already holds data; not rebuilding the demo company."; \
	else $(SALESPLAN) demo; fi
	@scripts/demo-banner http://$(HOST):$(PORT)/
	$(SALESPLAN) serve --host $(HOST) --port $(PORT)

run: migrate
	$(SALESPLAN) serve --host $(HOST) --port $(PORT)

worker: migrate
	$(SALESPLAN) worker

# The whole suite, browser journeys included (they skip when /usr/bin/chromium is absent).
# Worker tests need a live broker and worker; .ci/run runs them with `pytest -m worker`.
test: setup
	$(PYTEST) -n $(PYTEST_WORKERS) -m "not worker"

lint: setup
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# Each bench/bench_*.py prints JSON lines at its default (full) size; see bench/README.md
# for each script's own size options. `make bench BENCH=reports` runs one of them.
BENCH ?= *
bench: setup
	@set -e; for script in bench/bench_$(BENCH).py; do \
		echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) node_modules staticfiles build dist .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} +
