# Aqualine — the two commands: `make run` (the whole system, embedded) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test pytest lint messages system-packages clean

$(BIN)/python:
	@scripts/ensure-system-packages --venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/aqualine run

# Installs what the tests need (Python packages; Debian packages when root), lints, runs pytest.
test: $(VENV)/.installed-test system-packages lint pytest

# Tests keep their own var/ (cache, keys) so that they never touch a running `make run`.
pytest: $(VENV)/.installed-test
	AQUALINE_VAR_DIR=$${AQUALINE_VAR_DIR:-$(CURDIR)/var/test} $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy aqualine
	$(BIN)/aqualine makemigrations --check --dry-run
	$(BIN)/lint-imports

system-packages:
	@scripts/ensure-system-packages

# Re-extract the translatable strings and compile the catalogue (needs Debian's gettext).
messages: $(VENV)/.installed-test
	cd aqualine && ../$(BIN)/aqualine makemessages -l zh_Hans --no-obsolete --ignore 'tests/*' --ignore 'telephony/*'
	cd aqualine && ../$(BIN)/aqualine compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
