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

# All three parts always run; the summary names the part(s) that failed and the exit status is
# non-zero if any did (pytest's own summary above it lists the failing tests and cells).
# plain assignments: only the command line (make PYTEST=...) overrides them, not the environment
PYTEST = $(BIN)/python -m pytest
LINT_IMPORTS = $(BIN)/lint-imports

test: $(STAMP)
	@failed=""; \
	$(LINT_IMPORTS) || failed="$$failed import layers (lint-imports);"; \
	GANSEG_FAST=1 $(PYTEST) -q tests || failed="$$failed library tests (pytest tests);"; \
	GANSEG_FAST=1 $(PYTEST) -q --nbval-lax notebooks || failed="$$failed notebooks (pytest --nbval-lax notebooks);"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test: import layers, library tests and notebooks passed"

test-lib: $(STAMP)
	$(BIN)/python -m pytest -q tests

demo: $(STAMP)
	$(BIN)/ganseg demo

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all $(ARGS)

clean:
	rm -rf runs benchmarks/results .pytest_cache
