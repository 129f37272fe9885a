# Waterguard: `make run` serves the demo district, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test
export YOLO_OFFLINE := 1

.DEFAULT_GOAL := help

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.run-installed

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: install
install: $(VENV)/.dev-installed ## create .venv with the dev extras

.PHONY: run
run: $(VENV)/.run-installed ## migrate var/waterguard.sqlite3, seed the demo district, serve on :8000
	$(BIN)/waterguard migrate
	$(BIN)/waterguard seed-demo --if-missing
	$(BIN)/waterguard serve --host 127.0.0.1 --port 8000

.PHONY: migrate
migrate: $(VENV)/.run-installed ## apply migrations to WATERGUARD_DATABASE_URL (default var/)
	$(BIN)/waterguard migrate

.PHONY: revision
revision: $(VENV)/.dev-installed ## new migration: make revision m="what changed"
	$(BIN)/alembic revision --autogenerate -m "$(m)"

.PHONY: test
test: $(VENV)/.dev-installed ## run the whole suite (SQLite)
	$(BIN)/pytest

.PHONY: test-postgres
test-postgres: $(VENV)/.dev-installed ## run the database tests against PostgreSQL (PG_TEST_URL)
	WATERGUARD_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest tests/app

.PHONY: fmt
fmt: $(VENV)/.dev-installed ## format and autofix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: lint
lint: $(VENV)/.dev-installed ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: typecheck
typecheck: $(VENV)/.dev-installed ## mypy --strict
	$(BIN)/mypy

.PHONY: imports
imports: $(VENV)/.dev-installed ## import-linter contracts
	$(BIN)/lint-imports

.PHONY: check
check: lint typecheck imports test test-postgres ## everything CI runs
