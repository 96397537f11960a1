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

datasets: $(DATA)/xuefu-2024/expected.yaml $(DATA)/nkcgw-2023/expected.yaml $(DATA)/xuefu-2025/expected.yaml

# The main jobs on the shipped fixtures and on 学府街道's 2024: the check of the demo cases, the Q4 review,
# the alerts as of the last day and the annual statistics (HTML and XLSX copies under build/reports).
# Exit 1 only means "error findings / failed files / overdue deadlines were reported", which is the point
# of the demo; exit 2 (bad input or a crash) still fails make.
demo: venv $(DATA)/xuefu-2024/expected.yaml
	@mkdir -p build/reports
	$(VENV)/bin/casecheck check fixtures/demo --as-of $(AS_OF) -o build/reports/check-demo.json; rc=$$?; [ $$rc -le 1 ]
	$(VENV)/bin/casecheck check fixtures/demo-2025 --as-of 2025-12-31 -o build/reports/check-demo-2025.json; rc=$$?; [ $$rc -le 1 ]
	$(VENV)/bin/casecheck review $(DATA)/xuefu-2024 --quarter 2024Q4 -o build/reports/review-2024Q4.txt; rc=$$?; [ $$rc -le 1 ]
	@for ext in json html xlsx docx; do \
	  $(VENV)/bin/casecheck review $(DATA)/xuefu-2024 --quarter 2024Q4 -o build/reports/review-2024Q4.$$ext; rc=$$?; [ $$rc -le 1 ] || exit 1; done
	$(VENV)/bin/casecheck alerts $(DATA)/xuefu-2024 --as-of 2024-12-31 --within 5 -o build/reports/alerts.json; rc=$$?; [ $$rc -le 1 ]
	$(VENV)/bin/casecheck alerts $(DATA)/xuefu-2024 --as-of 2024-12-31 --within 5 -o build/reports/alerts.html; rc=$$?; [ $$rc -le 1 ]
	$(VENV)/bin/casecheck review fixtures/demo --quarter 2024Q2 --district nankai -o build/reports/supervision-2024Q2.json; rc=$$?; [ $$rc -le 1 ]
	$(VENV)/bin/casecheck stats $(DATA)/xuefu-2024 --year 2024 -o build/reports/stats-2024.json
	$(VENV)/bin/casecheck stats $(DATA)/xuefu-2024 --year 2024 -o build/reports/stats-2024.xlsx
	@echo "reports: build/reports/ (review-2024Q4 .txt .html .xlsx .docx .json, alerts.html, stats-2024.xlsx)"
	@$(PY) -m engine.report.headline build/reports/check-demo.json build/reports/check-demo-2025.json build/reports/review-2024Q4.json \
	  build/reports/alerts.json build/reports/stats-2024.json build/reports/supervision-2024Q2.json

# Headless Chromium, a CJK font, LibreOffice (DOCX to PDF; Calc opens the ledger template) and poppler (PDF to text/PNG) for the browser,
# print and document tests (Debian packages; needs root or sudo).
BROWSER_PKGS := chromium fonts-wqy-microhei libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils
browser:
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q . \
	    || ! command -v soffice >/dev/null || ! command -v pdftotext >/dev/null \
	    || ! ls /usr/lib/libreoffice/program/libsclo.so >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PKGS) >/dev/null \
	    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PKGS) >/dev/null; }; \
	  elif command -v sudo >/dev/null; then sudo apt-get install -y -q $(BROWSER_PKGS) >/dev/null; \
	  else echo "note: install $(BROWSER_PKGS) for the browser, print and document tests"; fi; fi

test: venv browser
	$(PY) -m pytest -q -n 2 tests

# The long fuzz campaign (the suite runs a short one): FUZZ inputs through loading, checking and import,
# random each run; prints how many inputs of each kind were tried. A failure prints the falsifying input.
FUZZ ?= 5000
fuzz: venv
	CASECHECK_FUZZ=$(FUZZ) $(PY) -m pytest -q -s -p no:xdist tests/test_fuzz.py tests/test_fuzz_store.py tests/test_ledger_property.py

# Benchmarks (figures, not tests): rule stage vs baselines, review vs the load floor, workers, memory,
# stores (SQLite and the local PostgreSQL 15), alerts, the live guard. bench: 10k cases (a few minutes);
# bench-large: 10k/100k/1M scaling and stores of 1M (about an hour; 3 GB of disk under build/bench).
bench: venv
	$(PY) -m benchmarks.suite

bench-large: venv
	$(PY) -m benchmarks.suite --large

# The web workspace on a demo store (the demo cases, three open cases dated around today, a user of each
# role); prints the address and the logins. SERVE_DB / PORT to change; the store is kept under build/serve.
.PHONY: serve
SERVE_DB ?= build/serve/demo.db
PORT ?= 8000
serve: venv
	@mkdir -p $(dir $(SERVE_DB))
	$(PY) -m engine.web.demo $(SERVE_DB) fixtures/demo
	@echo "casecheck 工作台 / workspace: http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)"
	$(VENV)/bin/casecheck serve --db $(SERVE_DB) --host 127.0.0.1 --port $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# The HTTP API under load (issue 22): 20 clients recording steps and 20 checking for 30 s, SQLite and
# PostgreSQL, 2 server workers on 127.0.0.1, next to the in-process live guard (benchmarks/bench_api.py).
.PHONY: bench-api
bench-api: venv
	$(PY) -m benchmarks.bench_api
