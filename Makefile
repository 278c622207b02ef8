# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench run clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Veille needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/veille demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	@for b in $$(ls bench/*.py 2>/dev/null | grep -v __init__ | xargs -rn1 basename | sed 's/\.py$$//'); do \
		echo "== python -m bench.$$b"; $(BIN)/python -m bench.$$b || exit 1; done

run: $(STAMP)
	$(BIN)/veille run

clean:
	rm -rf $(VENV) veille-demo.db veille-demo.db-wal veille-demo.db-shm .pytest_cache
