# Every target creates and uses the local virtualenv by itself.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
DEMO_DIR ?= demo-out

.PHONY: demo test test-slow lint bench lock clean postgres chromium java

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/crosswalk demo --out $(DEMO_DIR)

# The PostgreSQL control-plane tests start their own server from the installed binaries.
postgres:
	@bash .ci/install-postgres

# The web UI's browser tests drive Debian's Chromium (never a browser download).
chromium:
	@bash .ci/install-chromium

# The Spark engine's tests start Spark local mode on a Java runtime (Debian's).
java:
	@bash .ci/install-java

test: $(STAMP) postgres chromium java
	$(BIN)/python -m pytest -q

# Long runs, in the reduced size that CI can afford.
test-slow: $(STAMP) chromium java
	$(BIN)/python -m pytest -q -m slow || test $$? -eq 5

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

# Regenerate the exact-version lock from pyproject.toml (needs network to the package index).
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--no-header --output-file requirements.lock

clean:
	rm -rf $(VENV) $(DEMO_DIR) .mypy_cache .ruff_cache
