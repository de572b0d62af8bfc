# Everyday entry points. Needs only GNU make, bash and python3.
#   make run   ARGS='--scenario default'   (RUN_ARGS= keeps the backend up after the scenario)
#   make test  PYTEST_ARGS='-m "not broker"'

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
RUN_ARGS ?= --once
PYTEST_ARGS ?=

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

.PHONY: help venv lock services run test lint compose-check clean

help:
	@echo "make run            start Mosquitto, Redis, the backend and a scenario (ARGS=...)"
	@echo "make test           run the test suite (PYTEST_ARGS=...)"
	@echo "make lint           ruff check and mypy"
	@echo "make compose-check  validate docker-compose.yml (when docker-compose is installed)"
	@echo "make services       check for mosquitto and redis-server; as root, install them"
	@echo "make venv           create $(VENV) and install the project with its dev extras,"
	@echo "                    every dependency at the version requirements.lock names"
	@echo "make lock           rewrite requirements.lock from what $(VENV) has installed"
	@echo "make clean          remove caches, build output and the local run directory"

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml or the lock is newer than the stamp. The lock holds
# every package's exact version (a constraint: it pins what is installed, it asks for
# nothing), so two machines get the same dependencies.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# After changing a dependency in pyproject.toml: install it into the venv, then run this.
lock: venv
	{ echo "# Exact versions of every dependency (runtime and dev): make venv and the"; \
	  echo "# Dockerfile install with -c requirements.lock. Regenerate with make lock."; \
	  $(BIN)/python -m pip freeze --exclude-editable --exclude pip \
	    --exclude telematics-platform; } > requirements.lock

services: venv
	$(BIN)/python -m cli.local_services --ensure

run: venv services
	$(BIN)/telematics up $(RUN_ARGS) $(ARGS)

test: venv services
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy

compose-check:
	@if command -v docker-compose >/dev/null 2>&1; then \
		docker-compose config -q && echo "docker-compose.yml is valid"; \
	elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then \
		docker compose config -q && echo "docker-compose.yml is valid"; \
	else \
		echo "compose-check: docker-compose is not installed; skipped"; \
	fi

clean:
	rm -rf .run build .pytest_cache .mypy_cache .ruff_cache .hypothesis report.json ./*.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
