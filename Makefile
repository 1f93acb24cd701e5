# make train: set up and run the main job (gap on Fashion-MNIST); make test: set up and run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
APT_DATA := dataset-fashion-mnist
APT_TEST := chromium chromium-driver

.PHONY: setup train test test-fast sweep report clean system-data system-test

# Debian packages, where apt-get is there and we may use it (root or passwordless sudo); skipped elsewhere.
define apt_install
	@echo "set-up: Debian packages $(1)"
	@if command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  dpkg -s $(1) >/dev/null 2>&1 || $$SUDO apt-get install -y -q $(1) >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q $(1) >/dev/null; }; \
	else echo "apt-get not available or not allowed: skipping $(1)"; fi
endef

system-data:
	$(call apt_install,$(APT_DATA))

system-test: system-data
	$(call apt_install,$(APT_TEST))

$(BIN)/python: pyproject.toml
	@echo "set-up: creating $(VENV) and installing inductive with its dev extra (TensorFlow, about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@echo "set-up: done"
	@touch $@

setup: system-data $(BIN)/python

train: setup
	$(BIN)/python -m inductive.run $(ARGS)

test: system-test $(BIN)/python
	$(BIN)/python -m pytest $(ARGS)

test-fast: $(BIN)/python
	$(BIN)/python -m pytest -m "not slow" -q $(ARGS)

# make report SWEEPS="outputs/sweeps/<timestamp>_evidence_fashion_mnist": the claims report of those sweeps
report: $(BIN)/python
	$(BIN)/python -m inductive.report $(SWEEPS) $(ARGS)

sweep: setup
	$(BIN)/python -m inductive.run -m model=dense,conv_flatten,gap seed=0,1,2 $(ARGS)

clean:
	rm -rf outputs .pytest_cache .hypothesis
