# People and CI use only these targets; each wraps one command. uv is installed with pip if absent.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
PYTEST_ARGS ?=

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install browser promtool run test test-unit lint fmt bench chaos up down clean

help:
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install: ## install uv (if missing) and the locked dependencies into .venv
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet 'uv>=0.5'
	@$(UV) sync --frozen --quiet

browser: ## Debian's Chromium for the browser tests (Playwright drives it; no browser download)
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

promtool: ## Debian's Prometheus (promtool and the server) for the alert-rule and dashboard tests
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

run: install ## start the whole system (and the dev stand-ins) and print the URLs
	$(UV) run --frozen python tools/run.py

test: install browser promtool ## the whole suite against a real RabbitMQ and PostgreSQL
	$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: install ## unit tests only: no network (everything not marked integration)
	$(UV) run --frozen pytest -m "not integration" $(PYTEST_ARGS)

lint: install ## ruff, formatting, mypy --strict, import contracts, public events unbroken (AsyncAPI)
	$(UV) run --frozen ruff check . && \
	$(UV) run --frozen ruff format --check . && \
	$(UV) run --frozen mypy libs services tools benchmarks && \
	$(UV) run --frozen lint-imports && \
	$(UV) run --frozen python -m messaging asyncapi --check docs/asyncapi.json

fmt: install ## format and autofix
	$(UV) run --frozen ruff format . && $(UV) run --frozen ruff check --fix .

bench: install ## libs/messaging beside aio-pika, then the whole pipeline: CPU per payment, latency, webhooks (JSON lines, table; ~10 min)
	$(UV) run --frozen python -m benchmarks

chaos: install ## faults on a 3-node RabbitMQ cluster and a PostgreSQL of its own (JSON lines, then a table)
	$(UV) run --frozen python -m chaos $(CHAOS_ARGS)

up: ## the system in Docker Compose (needs a Docker engine); SERVICE_TOKEN generated when unset
	SERVICE_TOKEN=$${SERVICE_TOKEN:-$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))')} \
		docker compose -f deploy/compose.yml up --build --detach --wait

down:
	docker compose -f deploy/compose.yml down

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache test-artifacts
