# traindoc — the two commands a newcomer needs are `make demo` and `make test`; both set themselves up.
PY         ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
# Overridable: `make setup TORCH_SPEC="torch==2.5.1"`. The default is the CPU build that lies on this machine's
# disk; pinning it stops pip from resolving a multi-GB CUDA wheel in CI.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: setup demo test lint bench clean

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

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests tools bench

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .cache .pytest_cache
