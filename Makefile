# Tally — one Makefile: run, test, check, schema, bench.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-deep check schema bench migrate install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make run: migrate ./var/tally.db, apply the demo program, seed demo members, serve.
run: $(STAMP)
	$(BIN)/tally dev

migrate: $(STAMP)
	$(BIN)/tally migrate

## make test: every test; PostgreSQL tests read TALLY_TEST_POSTGRES_URL.
test: $(STAMP)
	$(BIN)/python -m pytest -q

## make test-deep: the same with the deep hypothesis profile.
test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -q --timeout=3600 tests/ledger

check: $(STAMP)
	$(BIN)/ruff check app tests bench client_examples migrations
	$(BIN)/ruff format --check app tests bench client_examples migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

schema: $(STAMP)
	$(BIN)/python -m app.graphql.export > schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
