# Two commands on a fresh machine with Python 3.11, pip and make:
#   make run    install what is needed and start the service on SQLite
#   make test   install what is needed and run the whole test suite
# uv is installed into its own small environment (.tools) and installs the locked
# dependencies into .venv; nothing is installed system-wide.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
VENV := .venv

.PHONY: run test install check demo bench clean system-packages

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Byte-code compiled at install: where PYTHONDONTWRITEBYTECODE is set, Python would otherwise
# recompile every library at every start (seconds for each `pikir` command).
$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --quiet --compile-bytecode
	touch $@

# Chromium, Node.js/npm, the DejaVu fonts and poppler-utils for the browser, end-to-end and
# poster tests, and nginx, systemd (booted by a test; systemd-analyze) and redis-server for the
# deployment and several-worker tests: installed from the system's packages when run as root
# with apt, otherwise named in one line with how to install them.
system-packages:
	.ci/system-packages nginx systemd redis-server

# The Telegram Bot API emulator and axe-core for the end-to-end tests (needs Node.js and npm).
E2E_MODULES := tests/e2e/node_modules/.installed
$(E2E_MODULES): tests/e2e/package.json tests/e2e/package-lock.json | system-packages
	if command -v npm >/dev/null; then \
	  cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; fi

install: $(VENV)/.installed

run: install
	$(VENV)/bin/pikir serve

demo: install
	$(VENV)/bin/pikir demo

test: install system-packages $(E2E_MODULES)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check bot storage admin classifier vocabulary
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/vulture

clean:
	rm -rf $(TOOLS) $(VENV) .pytest_cache .mypy_cache .ruff_cache
