# Set-up and the project's main entry points. Works from a fresh clone: the first target run
# creates .venv and installs torch (CPU wheels from the local index when present) and the project.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-lib test-notebooks demo bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e ".[course,test]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/lint-imports
	GANSEG_FAST=1 $(BIN)/python -m pytest -q tests
	GANSEG_FAST=1 $(BIN)/python -m pytest -q --nbval-lax notebooks

test-lib: $(STAMP)
	$(BIN)/python -m pytest -q tests

demo: $(STAMP)
	$(BIN)/ganseg demo

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all $(ARGS)

clean:
	rm -rf runs benchmarks/results .pytest_cache
