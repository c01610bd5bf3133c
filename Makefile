# traindoc — the two commands a newcomer needs are `make demo` and `make test`; both set themselves up.
PY         ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
# Overridable: `make setup TORCH_SPEC="torch==2.5.1"`. The default is the CPU build that lies on this machine's
# disk; pinning it stops pip from resolving a multi-GB CUDA wheel in CI.
TORCH_SPEC ?= torch==2.13.0
# Two pytest-xdist workers; worksteal lets an idle worker take queued tests from the busy one (with the default
# load scheduling the run ended with one worker idle and the other's queue of subprocess-waiting tests left).
PYTEST_ARGS ?= -n 2 --dist worksteal

.PHONY: setup demo test lint bench eval clean browser

setup: $(VENV)/.setup-done

# An existing torch in the user's Python is respected: the venv then sees system site-packages and we skip
# installing torch. Otherwise TORCH_SPEC is installed first so that nothing later pulls another build.
$(VENV)/.setup-done: pyproject.toml
	@set -e; \
	if [ ! -x $(BIN)/python ]; then \
	  if $(PY) -c "import torch" >/dev/null 2>&1; then \
	    echo "setup: reusing the torch already installed for $(PY)"; \
	    $(PY) -m venv --system-site-packages $(VENV); \
	  else \
	    $(PY) -m venv $(VENV); \
	  fi; \
	fi; \
	$(BIN)/python -m pip install -q --upgrade pip; \
	if ! $(BIN)/python -c "import torch" >/dev/null 2>&1; then \
	  echo "setup: installing $(TORCH_SPEC)"; \
	  $(BIN)/python -m pip install -q "$(TORCH_SPEC)"; \
	fi; \
	$(BIN)/python -m pip install -q -e ".[train,test]"; \
	touch $@

demo: setup
	$(BIN)/python tools/demo.py

# The HTML report tests (tests/test_skills_browser.py) load every report in headless Chromium. `make test` runs
# `browser` first: it installs Debian's chromium package when it is missing and apt-get can run (as root, or
# through password-less sudo); anywhere else it says why and the browser tests skip with the same message. It never
# fails the build: a machine without apt still runs every other test.
# Bytecode is written (git-ignored __pycache__/) even where PYTHONDONTWRITEBYTECODE is set, as on this project's
# machines, and as it is by default: otherwise every `python -m traindoc` child the suite starts recompiles the
# package (a diagnose: 0.98 -> 0.87 CPU-s) and, on every later run, each xdist worker recompiles and re-rewrites
# every test module (collection 10.6 -> 4.7 CPU-s). Projects whose tests apply runs still get none (testrun.py).
test: setup browser
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest $(PYTEST_ARGS)

browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
	  echo "browser: chromium found"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "browser: no chromium and no apt-get here: the headless-browser report tests will be skipped"; \
	else \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true >/dev/null 2>&1; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" = none ]; then \
	    echo "browser: chromium is missing and apt-get needs root: run 'sudo apt-get install -y chromium' (the browser tests skip until then)"; \
	  else \
	    echo "browser: installing Debian's chromium package (once)"; \
	    ( $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
	      || { $$SUDO apt-get update >/dev/null 2>&1 && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; } ) \
	      && echo "browser: chromium installed" \
	      || echo "browser: apt-get could not install chromium: the browser tests will be skipped"; \
	  fi; \
	fi

lint: setup
	$(BIN)/ruff check src tests tools bench

bench: setup
	$(BIN)/python bench/run_all.py

# Held-out accuracy and calibration on the committed corpora (tests/corpus/), leave one family out
# (tools/evaluate.py; each run is diagnosed once, cached in .cache/eval/).
eval: setup
	$(BIN)/python tools/evaluate.py --compare

clean:
	rm -rf $(VENV) .cache .pytest_cache test-artifacts
