# The two set-up commands: `make run` (install, migrate, serve) and `make test` (install, check, test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run serve migrate test lint typecheck pytest openapi bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m app migrate
	$(BIN)/python -m app users bootstrap
	$(BIN)/python -m app serve --host $(HOST) --port $(PORT)

migrate: install
	$(BIN)/python -m app migrate

test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/ruff format --check app tests migrations bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy app

pytest: install
	$(BIN)/python -m pytest

openapi: install
	$(BIN)/python -m app openapi --output openapi/openapi.json

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
