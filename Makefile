# newsarchive: `make demo` and `make test` are all a fresh clone needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := sqlite:///demo.db
NA := $(BIN)/newsarchive --db $(DEMO_DB)

.PHONY: install lint test demo bench clean

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

test: lint
	$(BIN)/pytest

# Until the crawler lands, the demo loads bundled stories and queries them.
demo: install
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/python -m crawler.demo_fixture --db $(DEMO_DB)
	$(NA) stats
	$(NA) search comet --collapse
	$(NA) history 'https://www.harbor-times.example/2026/11/02/port-strike-ends.html?utm_source=demo'
	$(NA) diff 'https://www.harbor-times.example/2026/11/02/port-strike-ends.html' --from 1
	$(NA) export --format jsonl | head -c 400; echo

bench: install
	$(BIN)/python tests/bench/bench_storage.py --output docs/benchmarks.md

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm .mypy_cache .pytest_cache .ruff_cache
