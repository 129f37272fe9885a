# Waterguard: `make run` serves the demo district, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test
PG_BENCH_URL ?= postgresql+psycopg://root@127.0.0.1:5432/waterguard_bench
export YOLO_OFFLINE := 1

.DEFAULT_GOAL := help

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,train]'  # train: ultralytics, so CI runs the .pt adapter tests
	touch $@ $(VENV)/.run-installed

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: install
install: $(VENV)/.dev-installed ## create .venv with the dev extras

.PHONY: run
run: $(VENV)/.run-installed ## migrate, seed the demo district, serve on :8000 with the demo day and the DJI docks flying live
	$(BIN)/waterguard migrate
	$(BIN)/waterguard seed-demo --if-missing
	$(BIN)/waterguard demo --day $$(TZ=Asia/Shanghai date -d yesterday +%F) --if-missing
	WATERGUARD_EGRESS_ALLOW=$${WATERGUARD_EGRESS_ALLOW-127.0.0.1/32,::1/128} \
		$(BIN)/waterguard serve --host 127.0.0.1 --port 8000 --demo-speed 1 --demo-docks

.PHONY: cluster
cluster: $(VENV)/.run-installed ## two APIs (:8001, :8002), two Celery workers and beat on local PostgreSQL, RabbitMQ, Redis
	deploy/cluster.sh start

.PHONY: cluster-stop
cluster-stop: ## stop what make cluster started
	deploy/cluster.sh stop

.PHONY: migrate
migrate: $(VENV)/.run-installed ## apply migrations to WATERGUARD_DATABASE_URL (default var/)
	$(BIN)/waterguard migrate

.PHONY: revision
revision: $(VENV)/.dev-installed ## new migration: make revision m="what changed"
	$(BIN)/alembic revision --autogenerate -m "$(m)"

# Debian packages the tests need: CJK fonts for the PDF report, chromium for the browser tests,
# Mosquitto for the DJI bridge tests, Redis and RabbitMQ for the engine tests (.ci/run starts them).
SYSTEM_PACKAGES := /usr/bin/chromium:chromium \
	/usr/bin/redis-server:redis-server \
	/usr/sbin/rabbitmq-server:rabbitmq-server \
	/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc:fonts-noto-cjk \
	/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf:fonts-droid-fallback \
	/usr/sbin/mosquitto:mosquitto

.PHONY: system-packages
system-packages: ## install the Debian packages the tests need (as root), or say which are missing
	@missing=""; \
	for pair in $(SYSTEM_PACKAGES); do [ -e "$${pair%%:*}" ] || missing="$$missing $${pair##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing Debian packages:$$missing (sudo apt-get install$$missing)" >&2; exit 1; \
	  fi; \
	fi

.PHONY: test
test: system-packages $(VENV)/.dev-installed ## run the whole suite (SQLite)
	$(BIN)/pytest

.PHONY: test-postgres
# The route walk and the schema fuzz (every route as every role, through the HTTP layer) run
# in `make test` only: they doubled CI's PostgreSQL leg, which sets how long CI takes.
test-postgres: $(VENV)/.dev-installed ## run the database tests against PostgreSQL (PG_TEST_URL)
	WATERGUARD_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest tests/app tests/security \
	  --ignore=tests/app/test_access_walk.py --ignore=tests/app/test_api_fuzz.py

.venv-bench/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install --quiet -e . opencoverage
	touch $@

.PHONY: bench-planner
bench-planner: .venv-bench/.installed ## planner vs opencoverage on real and generated outlines
	.venv-bench/bin/python bench/planner_vs_peer.py
	.venv-bench/bin/python bench/channel_accuracy.py

.venv-bench/.sahi-installed: .venv-bench/.installed
	.venv-bench/bin/pip install --quiet sahi scikit-image  # scikit-image: the photo crops in generated scenes
	touch $@

.PHONY: bench-detection
bench-detection: $(VENV)/.dev-installed .venv-bench/.sahi-installed ## swimmer model: accuracy by size, throughput, tiling vs SAHI
	$(BIN)/python bench/detection_accuracy.py --set evalset --set synth --set wide --count 150 --seed 2024
	$(BIN)/python bench/detection_accuracy.py --set evalset --set synth --count 150 --seed 2024 --model detection/weights/swimmer-yolo-n-int8.onnx
	$(BIN)/python bench/detection_throughput.py --frames 12
	PYTHONPATH=. .venv-bench/bin/python bench/detection_sahi.py --frames 12 --repeats 5 --int8-model detection/weights/swimmer-yolo-n-int8.onnx

.PHONY: e2e
e2e: system-packages $(VENV)/.dev-installed ## dashboard in headless Chromium (fails, not skips, without /usr/bin/chromium)
	WATERGUARD_E2E_REQUIRED=1 $(BIN)/pytest -m e2e tests/e2e

.PHONY: bench-stats
bench-stats: $(VENV)/.dev-installed ## season summary over 100k sightings on SQLite and PostgreSQL
	$(BIN)/python bench/stats_summary.py --pg-url $(PG_BENCH_URL)

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
# The same deterministic hypothesis profile as CI (tests/conftest.py): `make test` alone explores.
check: export CI := true
check: lint typecheck imports test test-postgres ## everything CI runs
