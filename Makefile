# Two commands matter: `make run` (the default pipeline on sample data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
SAMPLE := sample/invoices.csv

.PHONY: run test lint typecheck bench clean sample

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

$(SAMPLE):
	$(BIN)/python sample/generate.py --out $(SAMPLE)

sample: $(STAMP)
	$(BIN)/python sample/generate.py --out $(SAMPLE) --force

run: $(STAMP) $(SAMPLE)
	$(BIN)/dunning run

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy sees the package through a tree of links, because the source folders map to dunning.*
typecheck: $(DEV_STAMP)
	mkdir -p .typecheck/dunning
	ln -sfn ../../core .typecheck/dunning/core
	ln -sfn ../../plugins .typecheck/dunning/plugins
	ln -sfn ../../channels .typecheck/dunning/channels
	MYPYPATH=.typecheck $(BIN)/mypy -p dunning

test: $(DEV_STAMP) lint typecheck
	$(BIN)/pytest

bench: $(DEV_STAMP)
	$(BIN)/python bench/dispatch_email.py
	$(BIN)/python bench/dispatch_pipeline.py
	$(BIN)/python bench/plan.py
	$(BIN)/python bench/sync_moneybird.py
	$(BIN)/python bench/sync_exact.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/match.py

clean:
	rm -rf $(VENV) .typecheck .mypy_cache .pytest_cache .ruff_cache out dunning.db* $(SAMPLE)
