# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv on first use, installs a pinned torch first (a bare `torch`
# can pull a newer multi-GB CUDA build), then this package with its extras.
# Where PyPI's torch==2.13.0 is a CUDA build, ask for the CPU one:
#   make test TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
EXTRAS ?= tests,plot,dask
PYTEST_ARGS ?=
DEMO_OUT ?= results/demo

comma := ,
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: demo test mutants lint format docs bench install clean

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml setup.cfg | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

demo: $(STAMP)
	$(BIN)/sklearn-prognet paralinguistic --quick --out $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest --cov=sklearn_prognet --cov-report=term --durations=15 $(PYTEST_ARGS)

# Deliberate bugs that the tests must catch (scripts/mutants.py, docs/contributing.rst)
mutants: $(STAMP)
	$(BIN)/python scripts/mutants.py

docs:
	$(MAKE) install EXTRAS=tests,plot,dask,docs
	$(MAKE) -C docs html SPHINXBUILD=$(abspath $(BIN))/sphinx-build

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_extraction.py
	$(BIN)/python benchmarks/bench_embeddings.py
	$(BIN)/python benchmarks/bench_speaker.py
	$(BIN)/python benchmarks/bench_predict.py
	$(BIN)/python benchmarks/bench_batched.py
	$(BIN)/python benchmarks/bench_protocol.py
	$(BIN)/python benchmarks/bench_skorch_stack.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .coverage docs/_build docs/auto_examples docs/generated
