# The two commands: `make test` and `make demo`. Everything they need is installed from requirements/dev.lock.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Package caches stay in the clone (git-ignored), so that nothing is written to the user's home.
export UV_CACHE_DIR := $(CURDIR)/.cache/uv
export PIP_CACHE_DIR := $(CURDIR)/.cache/pip

.PHONY: test lint typecheck unit docs demo bench clean lock venv browser redis airflow dist

$(STAMP): requirements/dev.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements/dev.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	touch $@

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html

test: browser redis lint typecheck unit docs

# The browser test drives Debian's Chromium (no browser downloads here). Installed when we can (root with
# apt-get); otherwise only that test is skipped, with its reason in the test report.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "chromium not installed and cannot install it: the browser test will be skipped"; fi

# The Celery end-to-end test runs its own Debian redis-server as the broker, installed the same way (never
# started as a service: the test starts one on a free loopback port and stops it).
redis:
	@if [ -x /usr/bin/redis-server ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's redis-server for the Celery test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	else echo "redis-server not installed and cannot install it: the Celery test will be skipped"; fi

# The example DAGs end to end (real Airflow, dag.test()) against the local sandbox, with a short report.
demo: $(STAMP)
	$(PY) -m demo.run_demo

# The same DAGs in a running Airflow 3 (UI, scheduler, triggerer) with the sandbox, until Ctrl-C.
airflow: $(STAMP)
	$(PY) -m demo.run_airflow

# Regenerate the lock after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile --quiet --python-version 3.11 --extra dev pyproject.toml -o requirements/dev.lock

# The release: an sdist and a wheel (built from that sdist) in dist/. uv fetches setuptools from the registry.
dist: $(STAMP)
	rm -rf dist
	$(VENV)/bin/uv build --quiet --python $(PY) --out-dir dist
	@ls dist

clean:
	rm -rf $(VENV) .cache docs/_build .mypy_cache .ruff_cache .demo test-artifacts dist build

# Benchmarks (a few minutes): writes bench/results/latest.json and latest.md.
bench: $(STAMP)
	$(PY) bench/run.py
