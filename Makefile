# Two entry points (see README): `make demo` runs the main job end to end, `make test` runs the tests.
# Both create .venv and install what they need, idempotently (a stamp file tracks pyproject.toml).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# torch==2.13.0 resolves to the local CPU wheel on machines that carry one (and to PyPI's default build
# elsewhere). Users who want another build: `make demo TORCH="torch --index-url https://download.pytorch.org/whl/cpu"`.
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q $(TORCH) || $(PY) -m pip install -q "torch>=2.2"
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/homeclip demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
