# newsarchive: `make demo` and `make test` are all a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := sqlite:///demo.db

.PHONY: install lint test test-fast demo bench egg clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo --no-cache

# One test process: several at once (pytest-xdist, `-n 3`) took 6.5 min instead of 10,
# but failed timing-sensitive tests (docs/benchmarks.md, "Figures behind choices").
test: lint
	$(BIN)/pytest

# The edit loop: no lint, no slow, end-to-end or PostgreSQL tests, a small property-test
# budget (`make test` runs them all).
test-fast: install
	$(BIN)/pytest -q -m "not slow and not e2e and not postgres" --hypothesis-profile=fast

# Serves the bundled demo newspaper on 127.0.0.1, crawls it twice (an edit in between) and
# queries the archive. It writes demo.db, never your archive.db.
demo: install
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/python -m crawler.demo.tour --db $(DEMO_DB)

# A Scrapyd egg in $(EGG_DIR) (deploy it with `scrapyd-deploy TARGET --egg FILE`), built
# from pyproject.toml: no setup.py, build/ or egg-info is written into the checkout, as
# scrapyd-deploy's own build does (docs/deploy.md, "Scrapyd").
EGG_DIR ?= dist
egg: install
	@tmp=$$(mktemp -d) && $(BIN)/python -c "from setuptools import setup; setup()" -q \
		egg_info --egg-base "$$tmp" build --build-base "$$tmp/build" \
		bdist_egg --bdist-dir "$$tmp/bdist" --dist-dir "$(EGG_DIR)" >"$$tmp/log" 2>&1; \
		status=$$?; [ $$status -eq 0 ] || cat "$$tmp/log"; rm -rf "$$tmp"; exit $$status
	@ls "$(EGG_DIR)"/newsarchive-*.egg

bench: install
	$(BIN)/python tests/bench/bench_extraction.py --output docs/benchmarks.md
	$(BIN)/python tests/bench/bench_storage.py --output docs/benchmarks.md
	$(BIN)/python tests/bench/bench_faults.py --output docs/benchmarks.md
	$(BIN)/python tests/bench/bench_crawl.py --output docs/benchmarks.md
	$(BIN)/python tests/bench/bench_scale.py --output docs/benchmarks.md
	$(BIN)/python tests/bench/bench_queue.py --output docs/benchmarks.md
	$(BIN)/python tests/bench/bench_web.py --output docs/benchmarks.md

clean:
	rm -rf $(VENV) dist demo.db demo.db-wal demo.db-shm .mypy_cache .pytest_cache .ruff_cache
