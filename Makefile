# casecheck — everything runs inside .venv, created on first use from a Python 3.11 or 3.12.
# durable-rules 2.0.28 fails to import on Python 3.13, so 3.13 is refused here.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not ((3,11) <= sys.version_info[:2] < (3,13)))' 2>/dev/null \
	  && { echo $$p; break; }; done)
AS_OF ?= 2024-12-31

.PHONY: demo test venv clean

$(VENV)/.stamp: pyproject.toml
	@test -n "$(PYTHON)" || { echo "casecheck needs Python 3.11 or 3.12 (durable-rules does not import on 3.13)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(VENV)/.stamp

# The main job on the shipped fixtures. Exit 1 only means "error findings were reported", which is
# the point of the demo; exit 2 (bad input or a crash) still fails make.
demo: venv
	$(VENV)/bin/casecheck check fixtures/demo --as-of $(AS_OF); rc=$$?; [ $$rc -le 1 ]

test: venv
	$(PY) -m pytest -q -n 2 tests

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
