# seedbot: `make run` starts the bot, `make test` runs ruff, mypy and pytest.
# Both create/update the virtualenv in .venv, pinned by constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: run test lint typecheck pytest bench clean catalogs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip setuptools wheel

$(VENV)/.run-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e '.[dev]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/seedbot run

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# Two workers (pytest-xdist): each has its own PostgreSQL cluster, ports and temp dirs, and the
# suite takes two thirds of the time on 2 cores. `.venv/bin/pytest FILE` runs one file alone.
pytest: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -q -n 2

test: lint typecheck pytest

# The sentences users read: extract the msgids into bot/locales/seedbot.pot and merge them
# into every language's .po (then translate what is new; tests/test_i18n.py says what is missing).
KEYWORDS := -k _n:1,2 -k _p:1c,2 -k NC_:1c,2 -k N_
catalogs: $(VENV)/.dev-installed
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --add-comments=TRANSLATORS: --sort-by-file \
		--project=seedbot --copyright-holder="seedbot contributors" --no-wrap \
		-o bot/locales/seedbot.pot .
	$(BIN)/pybabel update -i bot/locales/seedbot.pot -d bot/locales -D seedbot --no-wrap --ignore-obsolete

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
