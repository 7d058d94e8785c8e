# Developer entry points. See README.md.
#   make demo   the blue-green story on SQLite (in .venv-demo: Django and this package only)
#   make test   the whole test suite (SQLite, PostgreSQL, MariaDB), on three workers
#   make test-matrix  the suite on every Django/Python leg of noxfile.py
#   make lint   ruff, if installed
#   make rehearsal  deploy rehearsal under load, stock vs bluegreen (benchmarks/)
#   make bench      lock footprint, lock timeout, makemigrations overhead and
#                   write stall (benchmarks/)
#   make write-stall  write stall only: every catalogue row's deploy steps, 10k and
#                     1M rows, PostgreSQL and MariaDB (benchmarks/write_stall.py)
#   make test-django  Django's own tests/migrations with the package substituted,
#                     on every leg (tests/django_suite/)
#   make test-corpus  real apps' migration histories through the split (tests/corpus/)
#   make docs   the reference (docs/, Sphinx) into docs/_build/html, warnings as errors

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test test-matrix lint clean rehearsal bench write-stall test-django test-corpus docs

venv: $(STAMP)

# Re-install when pyproject.toml is newer than the stamp. Also when the
# package's __init__.py is: an editable install made while the package had no
# __init__.py records it as a namespace package, and Django rejects that app.
$(STAMP): pyproject.toml $(wildcard bluegreen_autodetector/__init__.py)
	bash scripts/system-deps.sh
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -e '.[test]'
	touch $(STAMP)

# The demo runs on SQLite and needs Django and the package only: its own
# virtualenv, no test extra, no system packages.
DEMO_VENV := .venv-demo

demo: $(DEMO_VENV)/.installed
	$(DEMO_VENV)/bin/python scripts/demo.py

$(DEMO_VENV)/.installed: pyproject.toml $(wildcard bluegreen_autodetector/__init__.py)
	test -x $(DEMO_VENV)/bin/python || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install -q -e .
	touch $@

# The suite on three workers (pytest-xdist) on two cores: each test runs its
# project's commands one process after another, forked from a server that
# imported Django once (tests/zygote.py), and waits on the database servers
# in between (a third worker: 12 % faster than two, a fourth: slower;
# tests/test_names_taken.py, 2026-12-06). Idle workers take tests queued
# for a busy one (--dist worksteal: otherwise the slowest tests, queued
# on one worker, may end the run there); the slowest are listed at the
# end. The benchmarks' smoke runs come after, alone on the machine: they
# replay a deploy under load.
test: venv
	bash scripts/services.sh
	$(VPY) -m pytest -n 3 --dist worksteal --durations=15 -k "not benchmark_smoke"
	$(VPY) -m pytest tests/test_benchmarks_smoke.py

# Every leg of noxfile.py (Django 5.2/Python 3.11, 6.0/3.12, 6.1/3.13), each in
# its own virtualenv under .nox/. TEST_VENDORS=sqlite (or a comma-separated
# list of sqlite, postgresql, mysql) narrows the databases; NOX_ARGS goes to
# nox, e.g. NOX_ARGS='-s tests-6.1 -- -x'. The servers are started either way:
# some tests without a vendor parameter replay SQL on PostgreSQL and MariaDB.
NOX_ARGS ?=

test-matrix: venv
	bash scripts/services.sh
	$(VENV)/bin/nox $(NOX_ARGS)

# Django's own tests/migrations (from the sdist of the Django each leg has,
# cached in .cache/), stock, then with the package's autodetector and commands
# substituted, flag off and on: see README, "Tests". The 6.0 and 6.1 legs run
# in nox's virtualenvs, created (install only) when missing. Every leg runs;
# any failing leg fails the target.
DJANGO_SUITE_LEGS ?= $(VPY) .nox/tests-6-0/bin/python .nox/tests-6-1/bin/python

test-django: venv
	test -x .nox/tests-6-0/bin/python || $(VENV)/bin/nox -s tests-6.0 --install-only
	test -x .nox/tests-6-1/bin/python || $(VENV)/bin/nox -s tests-6.1 --install-only
	status=0; for python in $(DJANGO_SUITE_LEGS); do \
		$$python tests/django_suite/run.py || status=1; \
	done; exit $$status

# Real migration histories (tests/corpus/requirements.txt pins the apps), in
# their own virtualenv: the apps and their dependencies stay out of .venv.
# CORPUS_VENDORS: any of sqlite, postgresql, mysql (the servers must be up:
# bash scripts/services.sh).
CORPUS_VENV    := .cache/corpus/venv
CORPUS_VENDORS ?= sqlite

$(CORPUS_VENV)/.installed: tests/corpus/requirements.txt pyproject.toml
	test -x $(CORPUS_VENV)/bin/python || $(PYTHON) -m venv $(CORPUS_VENV)
	$(CORPUS_VENV)/bin/pip install -q -e . -r tests/corpus/requirements.txt
	touch $@

test-corpus: $(CORPUS_VENV)/.installed
	case " $(CORPUS_VENDORS) " in *" mysql "*) $(CORPUS_VENV)/bin/pip install -q mysqlclient;; esac
	status=0; for vendor in $(CORPUS_VENDORS); do \
		$(CORPUS_VENV)/bin/python tests/corpus/run.py --vendor $$vendor || status=1; \
	done; exit $$status

# Benchmarks: see benchmarks/README.md. They need PostgreSQL and MariaDB
# (started if stopped); the rehearsal runs on PostgreSQL, MariaDB and SQLite.
rehearsal: venv
	bash scripts/services.sh
	$(VPY) benchmarks/rollout.py

bench: venv
	bash scripts/services.sh
	$(VPY) benchmarks/bench.py

write-stall: venv
	bash scripts/services.sh
	$(VPY) benchmarks/write_stall.py

# The reference: docs/ (Sphinx with MyST), warnings as errors. Sphinx goes
# into .venv once (the docs extra), beside the test extra.
DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(STAMP)
	$(VPY) -m pip install -q -e '.[test,docs]'
	touch $@

docs: $(DOCS_STAMP)
	$(VPY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

# Migrations are generated code (Django's writer + black): not linted.
LINT_PATHS := bluegreen_autodetector tests example_project scripts
LINT_FLAGS := --extend-exclude '**/migrations/**'

lint:
	@if [ -x $(VENV)/bin/ruff ]; then \
		$(VENV)/bin/ruff check $(LINT_FLAGS) $(LINT_PATHS); \
	elif command -v ruff >/dev/null 2>&1; then \
		ruff check $(LINT_FLAGS) $(LINT_PATHS); \
	else \
		echo "ruff is not installed; skipping lint (pip install ruff)"; \
	fi

clean:
	rm -rf $(VENV) $(DEMO_VENV)
