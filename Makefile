# The two set-up commands: `make run` (install, migrate, serve) and `make test` (install, check, test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run serve migrate test lint typecheck pytest openapi bench clean lock test-browser check-client

LOCK         := requirements.lock
RUNTIME_LOCK := requirements-runtime.lock
LOCK_FLAGS   := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
LOCK_ARGS    ?=

UV_VERSION   := 0.13.9

# Exactly the locked versions, hash-checked, compiled to bytecode; then the app itself (editable,
# no dependencies). uv installs them (about 8 s from an empty cache where pip took 45 s); pip
# with the same lock works too: pip install --require-hashes -r requirements.lock.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --require-hashes -r $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
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

# The SPA example (examples/spa/) in headless Chromium against the service (tests/browser/, left
# out of `make test`): Debian's chromium and chromium-driver, installed when missing; Selenium
# from the lock, told where they are (it never downloads a browser or a driver of its own).
CHROMIUM     := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

test-browser: install
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
		echo "installing Debian's chromium and chromium-driver"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi
	$(BIN)/python -m pytest tests/browser -m browser -n 0

openapi: install
	$(BIN)/python -m app openapi --output openapi/openapi.json

bench: install
	$(BIN)/python bench/run.py

# The TypeScript client example (examples/ts-client/): types generated from the committed
# openapi/openapi.json, then a type check of a script that uses them, so a change to the contract
# that breaks clients fails here. Left out of `make test`; skipped where npm is not installed.
TS_CLIENT := examples/ts-client

check-client:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "check-client: npm is not installed; skipping the TypeScript client check"; \
		exit 0; \
	fi; \
	cd $(TS_CLIENT) && npm ci --no-audit --no-fund && npm run generate && npm run check

# Regenerate both lock files from pyproject.toml (after changing a dependency on purpose).
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet pip-tools
	.venv-lock/bin/pip-compile $(LOCK_FLAGS) $(LOCK_ARGS) --extra dev --extra embedded --extra bench --extra browser -o $(LOCK) pyproject.toml
	.venv-lock/bin/pip-compile $(LOCK_FLAGS) $(LOCK_ARGS) -o $(RUNTIME_LOCK) pyproject.toml
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
