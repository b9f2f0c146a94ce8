# `make run` and `make test` work on a fresh machine: each sets up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH := torch==2.13.0
CORPUS ?= corpus
INDEX ?= index

.DEFAULT_GOAL := help
.PHONY: help setup setup-test run index test lint bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.app: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet $(TORCH)   # first, so nothing pulls a CUDA build of torch
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.app
	$(PIP) install --quiet -e '.[test]'
	touch $@

$(VENV)/.bench: $(VENV)/.test
	$(PIP) install --quiet -e '.[bench]'
	touch $@

setup: $(VENV)/.app ## create .venv and install the project

setup-test: $(VENV)/.test ## setup, plus the test tools

$(INDEX)/manifest.json: | $(VENV)/.app
	$(VENV)/bin/qa build --corpus $(CORPUS) --index $(INDEX)

index: $(INDEX)/manifest.json ## build the index of corpus/ if it is missing

run: setup index ## set up, build the index if missing, and answer a demo question
	$(VENV)/bin/qa ask "How many traffickers did the FIA arrest in Gujranwala?" --index $(INDEX) -k 3

test: setup-test ## set up and run every test
	$(PY) -m pytest

lint: setup-test ## ruff
	$(VENV)/bin/ruff check qa tests benchmarks && $(VENV)/bin/ruff format --check qa tests benchmarks

bench: $(VENV)/.bench ## benchmarks next to rank_bm25, bm25s and txtai (~30 min; BENCH_ARGS=--quick: ~3 min)
	$(PY) -m benchmarks $(BENCH_ARGS) --out .bench/results.json

clean: ## remove the virtualenv and the built index
	rm -rf $(VENV) $(INDEX) $(INDEX).building-*
