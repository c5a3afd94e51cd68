# TenkaiGen: `make run` serves the app on embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: run test test-fast screenshots services clean add-user

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps 'spandrel==0.4.2'  # see pyproject.toml: its torchvision would break transformers
	touch $@ $(VENV)/.installed

## run: create the virtual environment, install, and serve http://$(HOST):$(PORT)
##      (SHARE=1 also opens a temporary public Gradio share link; it needs internet access)
run: $(VENV)/.installed
	$(BIN)/python app.py --host $(HOST) --port $(PORT) $(if $(filter-out 0,$(SHARE)),--share) $(ARGS)

## add-user: add a local account (make add-user NAME=alice [ADMIN=1]); asks for the password
add-user: $(VENV)/.installed
	$(BIN)/python app.py add-user $(NAME) $(if $(ADMIN),--admin)

## test: install the test extras, start what the tests need, run the whole suite
test: $(VENV)/.installed-test services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: the suite without the slow real-server tests
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

## screenshots: run the studio's browser tests and copy their screenshots into docs/ for the README
screenshots: $(VENV)/.installed-test services
	$(BIN)/python -m pytest -q -m browser tests/ui $(PYTEST_ARGS)
	mkdir -p docs/screenshots
	cp test-output/generate-tab.png test-output/generate-batch.png test-output/admin-tab.png docs/screenshots/

## services: install PostgreSQL's binaries (the tests start their own server) and Debian's chromium
services:
	bash scripts/ensure_test_services.sh

clean:
	rm -rf $(VENV) .pytest_cache test-output
