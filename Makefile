# Two commands from a fresh clone: `make demo` (main job) and `make test`. Each creates .venv itself.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,ray,slurm]'
	rm -f $(VENV)/.installed-* && touch $@

.PHONY: install demo test test-all bench clean
install: $(STAMP)

demo: $(STAMP)  ## the main job: t_c vs n for (n,3)-parity, results + figures in results/demo
	$(BIN)/groklab run parity-scaling --store results/demo

# Two pytest-xdist workers, one per core of the 2-core CI machine (the suite is compile-bound and XLA
# compiles on one thread); whole files per worker so that module fixtures (shared stores) run once.
TEST_WORKERS ?= 2
test: $(STAMP)  ## the default suite (at most 6 minutes on 2 cores from a fresh clone)
	$(BIN)/python -m pytest -m "not slow" -q -n $(TEST_WORKERS) --dist loadfile --durations=15

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## benchmarks/ (installs the optional CPU torch 2.13.0 for the baseline)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[torch]'
	$(BIN)/python benchmarks/run.py --output BENCHMARKS.md

clean:
	rm -rf $(VENV) results
