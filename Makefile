# Two commands on a fresh machine: `make demo` (the example videos) and `make test`.
# Each creates its own virtual environment from nothing (PyPI only, no system packages).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench resume verify chaos docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## make every example story, up to results/{story}/final.mp4
	$(BIN)/snakemake --cores all

test: $(STAMP)  ## unit and workflow tests
	$(BIN)/pytest -q

lint: $(STAMP)  ## ruff, snakefmt, snakemake --lint, generated docs up to date
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check .
	$(BIN)/snakemake --lint --cores 1
	$(BIN)/storyreel docs --check

bench: $(STAMP)  ## timings and memory of the example stories (prints figures)
	$(BIN)/python benchmarks/run.py

resume: $(STAMP)  ## after a crash or kill -9: verify, clean leftovers, unlock if stale, rerun
	$(BIN)/storyreel resume --cores all

verify: $(STAMP)  ## check every artifact; remove corrupt ones and what depends on them
	$(BIN)/storyreel verify

chaos: $(STAMP)  ## fault-injection benchmark: kills, transient/permanent faults, corruption, bad input
	nice -n 10 $(BIN)/python benchmarks/chaos.py $(CHAOS_ARGS)

docs: $(STAMP)
	$(BIN)/storyreel docs

clean:
	rm -rf results logs .snakemake benchmarks/*/
