# pdm — `make up` runs the whole system, `make test` runs every test. Needs Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: up test test-unit lint audit lock install clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# requirements.lock constrains every version it names: CI installs and audits what was tested.
$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pdm needs Python 3.11+ (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -c requirements.lock
	@touch $(STAMP)

install: $(STAMP)  ## Create the virtualenv and install pdm with its dev tools

up: $(STAMP)  ## Run the whole system (embedded broker and PostgreSQL unless configured)
	$(BIN)/pdm up

test: $(STAMP)  ## Run the architecture check and all tests against a real broker and PostgreSQL
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -q

test-unit: $(STAMP)  ## Only the fast unit tests (no network)
	$(BIN)/pytest -q -m unit

lint: $(STAMP)  ## ruff and the import-layer contracts
	$(BIN)/ruff check src streams projections tests
	$(BIN)/lint-imports --no-cache

audit: $(STAMP)  ## Known vulnerabilities in requirements.lock (accepted ones: .ci/audit-ignore.txt)
	$(BIN)/python .ci/audit.py

lock: $(STAMP)  ## Rewrite requirements.lock from the virtualenv (after changing pyproject.toml)
	@{ echo "# Every package of the development environment (pdm and its dev extras), as resolved and tested."; \
	   echo "# Regenerate with \`make lock\` after changing pyproject.toml; \`make audit\` checks it for known vulnerabilities."; \
	   $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock
	@touch $(STAMP)  # the virtualenv is what the lock describes: no reinstall for it

clean:  ## Remove the virtualenv and local data
	rm -rf $(VENV) .pdm-data .pytest_cache .ruff_cache .mypy_cache
