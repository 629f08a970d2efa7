# The two commands: `make run` and `make test`. Everything they need is installed by scripts/setup.sh.
SHELL := /bin/bash
.DEFAULT_GOAL := run
PY := .venv/bin/python
MANAGE := $(PY) manage.py

.PHONY: run test setup setup-test prepare lint importlint typecheck check-django test-spatialite test-postgis prod-check clean

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

# Migrate and load data; every step is idempotent, so a second run changes nothing.
prepare:
	@$(MANAGE) migrate --no-input -v 0
	@$(MANAGE) createcachetable
	@$(MANAGE) load_municipalities
	@$(MANAGE) load_demo_data
	@$(MANAGE) setup_schedules
	@$(MANAGE) make_photo_sizes
	@$(MANAGE) collectstatic --no-input -v 0

run: setup prepare
	@$(PY) scripts/serve.py

lint: importlint
	@echo "==> ruff"; .venv/bin/ruff check .

# The layers and forbidden imports of [tool.importlinter] in pyproject.toml: imports point one way.
importlint:
	@echo "==> import-linter"; .venv/bin/lint-imports --no-cache

# mypy with django-stubs (config in pyproject.toml); the in-memory channel layer keeps settings import Redis-free.
typecheck:
	@echo "==> mypy"; CHANNEL_LAYER=memory .venv/bin/mypy deploy bukaamanzi changelog municipalities projects reports ingestion realtime alerts apikeys open311 webhooks insights

check-django:
	@echo "==> manage.py check"; $(MANAGE) check --fail-level WARNING
	@echo "==> makemigrations --check"; $(MANAGE) makemigrations --check --dry-run >/dev/null \
		|| { echo "A model change has no migration: run manage.py makemigrations --name <what>"; exit 1; }
	@echo "==> check --deploy (production settings)"; HTTPS=true SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
		ALLOWED_HOSTS=bukaamanzi.example $(MANAGE) check --deploy --fail-level WARNING

test-spatialite:
	@echo "==> pytest on SpatiaLite"
	@DATABASE_URL= $(PY) -m pytest -q -p no:randomly --ignore=tests/deploy

test-postgis:
	@echo "==> pytest on PostGIS"
	@url=$$(scripts/pg.sh start) && DATABASE_URL=$$url $(PY) -m pytest -q --ignore=tests/deploy; status=$$?; scripts/pg.sh stop; exit $$status

# The production layout on this machine (deploy/layout.py: nginx, 2 page and 2 socket processes, the django-q2
# cluster, the private PostGIS cluster, Redis), the smoke suite through nginx (tests/deploy), then everything
# stopped. Where nginx cannot be installed it says why and stops (docs/deploy.md).
prod-check:
	@echo "==> prod-check: the production layout behind nginx"
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
		echo "prod-check skipped: nginx is not installed and scripts/setup.sh --test could not install it"; \
	else DATABASE_URL= $(PY) -m pytest -q -p no:randomly tests/deploy; fi

test: setup-test prepare lint typecheck check-django test-spatialite test-postgis prod-check

clean:
	@scripts/pg.sh stop; rm -rf var/pg var/staticfiles var/prod
