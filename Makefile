# Two commands on a fresh machine: `make setup` then `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Datasets prepared by `make setup`; TMNIST specs need font files or the published CSVs.
PREPARE ?= digits fashion
# The CPU wheel; installed first so that no dependency pulls a newer (CUDA) torch.
TORCH ?= torch==2.13.0

.PHONY: setup install prepare warm test lint typecheck docs pytest bench clean

setup: install prepare warm

# Pays umap-learn's one-time numba compile now, not at the user's first embed or demo.
warm:
	$(BIN)/python -m latentmap.embed.warm

install:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[dev]"

prepare:
	$(BIN)/latentmap data prepare $(PREPARE)

test: lint typecheck docs pytest

lint:
	$(BIN)/ruff check src tests bench docs *.py
	$(BIN)/ruff format --check src tests bench docs *.py

typecheck:
	$(BIN)/mypy

# The manual (MkDocs Material) into site/; --strict fails on a broken link or API reference.
docs:
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict --quiet

# Two workers, a file each (module fixtures are built once), the longest files first (the
# order tests/conftest.py gives, not xdist's by test count); TEST_JOBS=0 runs in one process.
TEST_JOBS ?= 2
pytest:
	$(BIN)/pytest -q -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder --durations=25

bench:
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_csv.py
	$(BIN)/python bench/bench_tmnist_rebuild.py
	$(BIN)/python bench/bench_training.py
	$(BIN)/python bench/bench_quality.py
	$(BIN)/python bench/bench_embed.py
	$(BIN)/python bench/bench_explorer.py
	$(BIN)/python bench/bench_load_api.py
	$(BIN)/python bench/bench_compare.py
	$(BIN)/python bench/bench_sweep.py
	$(BIN)/python bench/bench_fonts.py
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_widget.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
