# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make run   set up .venv, run the audit on data/sample/, print where the files are
#   make test  set up .venv, run the tests (the slow end-to-end ones: make test-all, as CI)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
INSTALLED := $(VENV)/.installed
# No telemetry; Prefect state kept in the repo (see ../shared/docs/prefect-here.md).
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export PREFECT_HOME ?= $(CURDIR)/.prefect
# A run's own log (stage timings, counts) to the Prefect UI at INFO, the console at warnings
# (as liver_audit/cli.py sets them; flow runs of make worker need them here).
export PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL ?= INFO
export PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL ?= INFO
export PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL ?= WARNING

.PHONY: run test test-all check bench clean server serve worker

$(INSTALLED): pyproject.toml requirements.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	# This machine's pip config warns about ~130 ignored local indexes: harmless, hidden.
	$(VENV)/bin/pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]' 2>&1 \
		| { grep -v "is ignored: it is neither a file nor a directory" || true; }
	touch $(INSTALLED)

run: $(INSTALLED)
	$(VENV)/bin/liver-audit run data/sample/episodes.csv --theatre data/sample/theatre.csv

# make test on both cores (each test has its own tmp paths; each worker process its own
# Prefect home, tests/conftest.py); make test-all (CI) runs one at a time, as the kill,
# server and fan-out tests time what they see. worksteal: a worker out of tests takes the
# other's (by default one sat idle while the other ran the golden run: 4m04 against 3m38).
test: $(INSTALLED)
	LIVER_AUDIT_TEST_EXAMPLES=0.25 $(VENV)/bin/pytest -q -p no:cacheprovider -m "not slow" -n 2 --dist worksteal

test-all: $(INSTALLED)
	$(VENV)/bin/pytest -q -p no:cacheprovider

check: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(INSTALLED)
	$(VENV)/bin/python bench/bench.py --rows 1000000 --rows 5000000 --rows 21000000 \
		--format csv --format parquet
	$(VENV)/bin/python bench/uk_biobank.py --episodes 5000000

# The nightly schedule: a long-lived Prefect server (UI on http://127.0.0.1:4200) and, in
# another terminal, the serve process with ./liver-audit.toml (README, Nightly operations).
server: $(INSTALLED)
	$(VENV)/bin/prefect server start --host 127.0.0.1 --port 4200

# The example settings' inbox (inbox = "inbox") is made if missing, owner only: deliveries
# are patient data. Any other inbox is the delivering system's to make.
serve: $(INSTALLED)
	if grep -qs '^inbox = "inbox"' liver-audit.toml; then mkdir -p -m 700 inbox; fi
	PREFECT_API_URL=$${PREFECT_API_URL:-http://127.0.0.1:4200/api} $(VENV)/bin/liver-audit serve

# Fan-out: a Prefect worker on this machine for the work pool liver-audit (README, Beyond one
# machine); PREFECT_API_URL names the shared server.
worker: $(INSTALLED)
	PREFECT_API_URL=$${PREFECT_API_URL:-http://127.0.0.1:4200/api} $(VENV)/bin/prefect worker start \
		--pool $${LIVER_AUDIT_POOL:-liver-audit} --type process --limit 1

clean:
	rm -rf $(VENV) .prefect reports data/warehouse.duckdb data/warehouse.duckdb.wal data/warehouse.duckdb.tmp \
		data/warehouse.duckdb.delivered data/warehouse.duckdb.lock data/warehouse.tmp
