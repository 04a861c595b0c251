# Two commands for a new user: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-stack install install-dev stack bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

## Set everything up and serve the app on the embedded default (SQLite, in-process cache).
run: install
	PATH="$(CURDIR)/$(BIN):$$PATH" scripts/run-embedded.sh

## Install the test requirements and run the whole test suite, on SQLite and on PostgreSQL + Redis.
test: install-dev
	scripts/system-packages.sh
	PATH="$(CURDIR)/$(BIN):$$PATH" scripts/test.sh $(PYTEST_ARGS)

## Start PostgreSQL, Redis, 3 waitress replicas and nginx on loopback; Ctrl-C stops it.
stack: install
	scripts/system-packages.sh
	$(BIN)/python scripts/stack.py --replicas $(or $(REPLICAS),3)

## Only the end-to-end tests through nginx, and the offline checks of the Docker files.
test-stack: install-dev
	scripts/system-packages.sh
	tests/stack/install-compose.sh
	STACK_TESTS=1 $(BIN)/python -m pytest tests/stack $(PYTEST_ARGS)

## Benchmarks (see README): prints ratios against baselines measured in the same run.
bench: install-dev
	scripts/system-packages.sh
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
