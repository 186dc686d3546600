# The two commands: `make run` (demo on the embedded default) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint imports typecheck pytypes system-packages clean

$(BIN)/videotermin: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: $(BIN)/videotermin pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Links in mails must point where the demo really listens.
run: export VIDEOTERMIN_PUBLIC_URL ?= http://$(HOST):$(PORT)
run: $(BIN)/videotermin
	$(BIN)/videotermin migrate
	$(BIN)/videotermin demo
	$(BIN)/videotermin serve --host $(HOST) --port $(PORT)

system-packages:
	bash scripts/system-packages.sh

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .

# The layers and their arrows ([tool.importlinter] in pyproject.toml).
imports: $(VENV)/.test-deps
	$(BIN)/lint-imports

node_modules/.bin/tsc: package.json
	npm install --silent
	touch $@

# The browser code is plain JavaScript with JSDoc types; TypeScript only checks it.
typecheck: node_modules/.bin/tsc
	node_modules/.bin/tsc -p tsconfig.json

# The Python types ([tool.mypy] in pyproject.toml): strict for domain/ and services/.
pytypes: $(VENV)/.test-deps
	$(BIN)/mypy

# The slowest tests are listed at the end, to keep the suite's time in view. One process:
# many tests judge what the server does within a second, and a second worker on two
# cores made them flaky (tried: 1591 + 58 tests in 18 min instead of 23, with 2 of 5
# runs failing a timing check).
test: $(VENV)/.test-deps system-packages lint imports typecheck pytypes
	$(BIN)/pytest -q --durations=25

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache node_modules
