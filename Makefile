# Tally — one Makefile: run, test, check, schema, bench.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium

.PHONY: run test test-deep check schema bench migrate install clean ide-assets fuzz

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
test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q

## The GraphiQL browser test (tests/e2e/test_graphiql_browser.py) drives Debian's Chromium;
## installed only when missing, and only as root (CI). Elsewhere that test skips, not in CI.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	elif [ -n "$$CI" ]; then \
		echo "CI needs $(CHROMIUM): run as root, or apt-get install chromium chromium-driver" >&2; exit 1; \
	else \
		echo "no $(CHROMIUM) (apt-get install chromium chromium-driver): the browser test skips" >&2; \
	fi

## make test-deep: the same with the deep hypothesis profile.
test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -q --timeout=3600 tests/ledger

check: $(STAMP)
	$(BIN)/ruff check app tests bench client_examples migrations
	$(BIN)/ruff format --check app tests bench client_examples migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

## make ide-assets: re-fetch GraphiQL's pinned npm assets (needs npm; not needed to run).
ide-assets: $(STAMP)
	$(BIN)/python -m app.graphql.ide.vendor

schema: $(STAMP)
	$(BIN)/python -m app.graphql.export > schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis

## make fuzz: the GraphQL fuzz (tests/api/test_api_fuzz.py) with the deep hypothesis
## profile: 3200 documents per test instead of make test's 200 (about 4 minutes).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -q --timeout=3600 tests/api/test_api_fuzz.py
