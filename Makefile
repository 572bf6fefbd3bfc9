# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

## Install, migrate, load the demo data when the database is empty, serve on :8000 (SQLite).
run: $(VENV)/.installed
	$(BIN)/events-app migrate
	$(BIN)/events-app seed --if-empty
	$(BIN)/events-app serve --host 127.0.0.1 --port 8000

# ical.js, one of the four iCalendar readers the feed tests use, from its lock file.
tests/js/node_modules/.package-lock.json: tests/js/package-lock.json
	cd tests/js && npm ci --prefer-offline --no-audit --no-fund

## Install the test extras, lint, and run the whole suite (SQLite and PostgreSQL).
test: $(VENV)/.installed-test tests/js/node_modules/.package-lock.json
	$(BIN)/ruff check events_app tests bench
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check events_app tests bench

bench: $(VENV)/.installed-test
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/feeds.py

clean:
	rm -rf $(VENV) events.db events.db-wal events.db-shm test-artifacts tests/js/node_modules
