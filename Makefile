# casecheck — everything runs inside .venv, created on first use from a Python 3.11 or 3.12.
# durable-rules 2.0.28 fails to import on Python 3.13, so 3.13 is refused here.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not ((3,11) <= sys.version_info[:2] < (3,13)))' 2>/dev/null \
	  && { echo $$p; break; }; done)
AS_OF ?= 2024-12-31

DATA  := build/datasets

.PHONY: demo test venv clean datasets browser bench bench-large fuzz

$(VENV)/.stamp: pyproject.toml
	@test -n "$(PYTHON)" || { echo "casecheck needs Python 3.11 or 3.12 (durable-rules does not import on 3.13)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(VENV)/.stamp

# The seed-matching year data sets (fixtures/generate.py), written on demand: they are large and seeded.
$(DATA)/%/expected.yaml: fixtures/generate.py fixtures/casegen.py | venv
	$(PY) -m fixtures.generate $* $(DATA)/$*

datasets: $(DATA)/xuefu-2024/expected.yaml $(DATA)/nkcgw-2023/expected.yaml

# The main jobs on the shipped fixtures and on 学府街道's 2024: the check of the demo cases, the Q4 review,
# the alerts as of the last day and the annual statistics (HTML and XLSX copies under build/reports).
# Exit 1 only means "error findings / failed files / overdue deadlines were reported", which is the point
# of the demo; exit 2 (bad input or a crash) still fails make.
demo: venv $(DATA)/xuefu-2024/expected.yaml
	@mkdir -p build/reports
	$(VENV)/bin/casecheck check fixtures/demo --as-of $(AS_OF); rc=$$?; [ $$rc -le 1 ]
	$(VENV)/bin/casecheck review $(DATA)/xuefu-2024 --quarter 2024Q4 -o build/reports/review-2024Q4.txt; rc=$$?; [ $$rc -le 1 ] \
	  && tail -n 40 build/reports/review-2024Q4.txt
	$(VENV)/bin/casecheck review $(DATA)/xuefu-2024 --quarter 2024Q4 --format html -o build/reports/review-2024Q4.html; [ $$? -le 1 ]
	$(VENV)/bin/casecheck alerts $(DATA)/xuefu-2024 --as-of 2024-12-31 --within 5; rc=$$?; [ $$rc -le 1 ]
	$(VENV)/bin/casecheck stats $(DATA)/xuefu-2024 --year 2024
	$(VENV)/bin/casecheck stats $(DATA)/xuefu-2024 --year 2024 --format xlsx -o build/reports/stats-2024.xlsx
	@echo "reports: build/reports/ (review-2024Q4.txt/.html, stats-2024.xlsx)"

# Headless Chromium and a CJK font for the HTML screenshot test (Debian packages; needs root or sudo).
browser:
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium fonts-wqy-microhei >/dev/null \
	    || { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-wqy-microhei >/dev/null; }; \
	  elif command -v sudo >/dev/null; then sudo apt-get install -y -q chromium fonts-wqy-microhei >/dev/null; \
	  else echo "note: install chromium and fonts-wqy-microhei for the HTML screenshot test"; fi; fi

test: venv browser
	$(PY) -m pytest -q -n 2 tests

# The long fuzz campaign (the suite runs a short one): FUZZ inputs through loading, checking and import,
# random each run; prints how many inputs of each kind were tried. A failure prints the falsifying input.
FUZZ ?= 5000
fuzz: venv
	CASECHECK_FUZZ=$(FUZZ) $(PY) -m pytest -q -s -p no:xdist tests/test_fuzz.py tests/test_ledger_property.py

# Benchmarks (figures, not tests): rule stage vs baselines, review vs the load floor, workers, memory,
# stores (SQLite and the local PostgreSQL 15), alerts, the live guard. bench: 10k cases (a few minutes);
# bench-large: 10k/100k/1M scaling and stores of 1M (about an hour; 3 GB of disk under build/bench).
bench: venv
	$(PY) -m benchmarks.suite

bench-large: venv
	$(PY) -m benchmarks.suite --large

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
