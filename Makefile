# matcher — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= instance
HOST ?= 127.0.0.1
PORT ?= 5000
CORPUS ?= corpora/saxony

.PHONY: run test install install-test lint data clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files: reinstall only when the package metadata changes.
# torch comes first, pinned to the local CPU build, so that nothing pulls the CUDA wheels.
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[st]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[st,test,ray]'
	touch $@

# txtai for the peer comparison; it changes none of torch, numpy, faiss-cpu,
# sentence-transformers, transformers or spacy (checked with pip install --dry-run).
$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[st,test,ray,bench]'
	touch $@

# Debian's chromium for the browser tests (Playwright drives it; it downloads no browser).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	  echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; \
	fi

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test $(CHROMIUM)

## Load the bundled corpus into $(DATA_DIR) and bring the search index up to date.
data: install
	$(BIN)/matcher --data-dir $(DATA_DIR) ingest $(CORPUS)
	$(BIN)/matcher --data-dir $(DATA_DIR) index

## Install everything, load the corpus, serve the app on http://$(HOST):$(PORT).
run: data
	$(BIN)/matcher-web --data-dir $(DATA_DIR) --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check matcher webapp tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

## Linters and the whole test suite (slow and browser tests included).
test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache

## Scale benchmarks and the txtai comparison into docs/BENCHMARKS.md (long: see docs/SCALING.md).
BENCH_WORK ?= /tmp/matcher-bench
BENCH_SIZES ?= 1000,10000,100000
bench: $(VENV)/.installed-bench
	$(BIN)/python scripts/bench.py run --work $(BENCH_WORK) --sizes $(BENCH_SIZES)
	$(BIN)/python scripts/bench.py run --work $(BENCH_WORK) --sizes 1000 --stages embed
	$(BIN)/python scripts/bench_txtai.py --work $(BENCH_WORK) --rounds 3
	$(BIN)/python scripts/bench_txtai.py --work $(BENCH_WORK) --threads 1 --rounds 3
	$(BIN)/python scripts/bench.py write --work $(BENCH_WORK)
