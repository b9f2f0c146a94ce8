# `make run` and `make test` work on a fresh machine: each sets up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH := torch==2.13.0
CORPUS ?= corpus
INDEX ?= index
EVAL_DATA ?= ../shared/eval

.DEFAULT_GOAL := help
.PHONY: help setup setup-test run index test eval lint clean

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

setup: $(VENV)/.app ## create .venv and install the project

setup-test: $(VENV)/.test ## setup, plus the test tools

$(INDEX)/manifest.json: | $(VENV)/.app
	$(VENV)/bin/qa build --corpus $(CORPUS) --index $(INDEX)

index: $(INDEX)/manifest.json ## build the index of corpus/ if it is missing

run: setup index ## set up, build the index if missing, and answer a demo question
	$(VENV)/bin/qa ask "How many traffickers did the FIA arrest in Gujranwala?" --index $(INDEX) -k 3

test: setup-test ## set up and run every test
	$(PY) -m pytest

eval: setup ## retrieval quality (lexical) on SciFact test and SQuAD dev; EVAL_DATA=../shared/eval
	$(VENV)/bin/qa eval $(EVAL_DATA)/beir-scifact --mode lexical
	@echo
	$(VENV)/bin/qa eval $(EVAL_DATA)/squad-v1.1/dev-v1.1.json --mode lexical

lint: setup-test ## ruff
	$(VENV)/bin/ruff check qa tests && $(VENV)/bin/ruff format --check qa tests

clean: ## remove the virtualenv and the built index
	rm -rf $(VENV) $(INDEX) $(INDEX).building-*
