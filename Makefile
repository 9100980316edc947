# Two commands matter: `make demo` and `make test`. Both create .venv first if needed.
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup demo demo-full demo-pmm test lint format clean

setup:
	VENV=$(VENV) tools/setup_env.sh

demo: setup
	$(PY) tools/run_demo.py

demo-full: setup
	$(PY) tools/run_demo.py --schedule full

demo-pmm: setup
	$(PY) tools/run_pmm_demo.py

test: setup
	$(PY) -m pytest tests

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf work_dirs .pytest_cache
