# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench bench-micro clean fonts messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

# The npm tools the tests run (the Nu HTML checker, vnu-jar, on Java; ical.js, one of the four
# iCalendar readers of the feed tests): installed when npm is
# there, otherwise those tests are skipped with the reason (CI installs npm).
# --ignore-scripts: vnu-jar's install script would try to download a Java; Debian's is used.
tools/node_modules/.installed: tools/package.json tools/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	    npm ci --prefix tools --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the HTML validity test will be skipped (apt-get install npm)"; fi

# The font the pages use, Noto Sans (variable weight, normal style), with its licence: copied
# from the npm package into static/ and committed, so pages look the same everywhere and
# layout tests do not depend on the machine's fonts. Run after changing its version in tools/.
FONT_PKG := tools/node_modules/@fontsource-variable/noto-sans
FONT_DIR := static/fonts/noto-sans
fonts: tools/node_modules/.installed
	rm -rf $(FONT_DIR) && mkdir -p $(FONT_DIR)/files
	cp $(FONT_PKG)/LICENSE $(FONT_PKG)/wght.css $(FONT_DIR)/
	cp $(FONT_PKG)/files/*-wght-normal.woff2 $(FONT_DIR)/files/

## Translations (README, "Languages"): collect every text marked for translation into
## events_app/locale/messages.pot and merge it into each language's catalog, marking changed
## texts fuzzy; then translate what is new or fuzzy (tests/test_i18n.py fails until nothing is
## missing, empty or fuzzy). There is nothing to compile: the app compiles the .po files in
## memory as it starts (events_app/i18n.py), so no binary .mo is built or committed.
LOCALE_DIR := events_app/locale
messages: $(VENV)/.installed-test
	$(BIN)/pybabel -q extract -F babel.cfg -c Translators: --add-location=file --sort-by-file \
	    --project=events_app -o $(LOCALE_DIR)/messages.pot .
	$(BIN)/pybabel -q update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) --previous \
	    --ignore-obsolete --ignore-pot-creation-date
	@for po in $(LOCALE_DIR)/*/LC_MESSAGES/messages.po; do \
	    $(BIN)/pybabel compile --statistics -i $$po -o /dev/null 2>&1 | grep translated; done

## Install, migrate, load the demo data when the database is empty, serve on :8000 (SQLite).
run: $(VENV)/.installed
	$(BIN)/events-app migrate
	$(BIN)/events-app seed --if-empty
	$(BIN)/events-app serve --host 127.0.0.1 --port 8000

## Install the test extras, lint, and run the whole suite (SQLite and PostgreSQL).
## In TEST_WORKERS processes (pytest-xdist): while one waits on the database, a browser or a
## server, the other runs; 2 suits a 2-core machine. The slowest tests are listed at the end.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test tools/node_modules/.installed
	$(BIN)/ruff check events_app tests bench
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=25

lint: $(VENV)/.installed-test
	$(BIN)/ruff check events_app tests bench

## The app under wrk on 100,000 events / 1,000,000 RSVPs (SQLite and PostgreSQL, 1 and 2
## workers), each figure as a ratio to bare Starlette; the dataset is generated once and reused.
## Quick run: make bench BENCH_ARGS="--events 2000 --duration 2"
BENCH_ARGS ?=
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## In-process figures: feed rendering (cold, after one edit, cached), the door list, and CPU
## per request of the read paths next to bare Starlette (bench/http_cpu.py).
bench-micro: $(VENV)/.installed-test
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/attendees.py
	$(BIN)/python -m bench.rsvp_cpu
	$(BIN)/python -m bench.http_cpu --requests 1000 --cold
	$(BIN)/python -m bench.stack_cpu
	$(BIN)/python -m bench.page_seats

clean:
	rm -rf $(VENV) events.db events.db-wal events.db-shm test-artifacts
