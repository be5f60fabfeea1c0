# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_INSTALLED := $(VENV)/.installed-runtime
INSTALLED := $(VENV)/.installed
CATALOGS := $(wildcard bot/locale/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
PACKAGES := bot handlers conversations storage

.PHONY: demo run test check lint typecheck format messages language install install-runtime migrate benchmark clean proxy-nginx

demo: install-runtime $(COMPILED)  ## chat in the terminal as several people; pipe a script to run unattended
	$(BIN)/python -m bot demo

run: install-runtime $(COMPILED)  ## run every configured transport (see README: Configuration)
	$(BIN)/python -m bot run

migrate: install-runtime
	$(BIN)/python -m bot migrate

test: install $(COMPILED)  ## the whole suite, then lint, format check and type check
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory check

check: lint typecheck

lint: install
	$(BIN)/ruff check $(PACKAGES) tests benchmarks
	$(BIN)/ruff format --check $(PACKAGES) tests benchmarks

typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix $(PACKAGES) tests benchmarks
	$(BIN)/ruff format $(PACKAGES) tests benchmarks

# Debian's nginx, unpacked (not installed: no service started) for the proxy's end-to-end
# test (tests/test_proxy_e2e.py runs this target when the binary is missing).
NGINX_DIR := .cache/nginx
NGINX := $(NGINX_DIR)/usr/sbin/nginx

proxy-nginx: $(NGINX)  ## Debian's nginx for the webhook proxy test (deploy/proxy/)

$(NGINX):
	mkdir -p $(NGINX_DIR)/deb
	cd $(NGINX_DIR)/deb && apt-get download nginx
	dpkg-deb -x $$(ls $(NGINX_DIR)/deb/nginx_*.deb | tail -1) $(NGINX_DIR)
	touch $@

LOCALES := bot/locale
TEMPLATE := $(LOCALES)/messages.pot

# after changing texts: the template from the source, every catalog updated from it; then
# translate what `bot.catalog_tool` lists (English is filled from the source)
messages: install-runtime
	$(BIN)/pybabel extract --mapping-file=babel.cfg --add-comments=TRANSLATORS: --sort-output \
	  --no-location --width=100 --project="Tæl mig med" --version=1 --output-file=$(TEMPLATE) \
	  $(PACKAGES)
	$(BIN)/pybabel update --domain=messages --input-file=$(TEMPLATE) --output-dir=$(LOCALES) \
	  --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date --width=100
	$(BIN)/python -m bot.catalog_tool

# a new language: make language LANGUAGE=so (then translate it, its name first)
language: install-runtime
	@test -n "$(LANGUAGE)" || { echo "usage: make language LANGUAGE=<code>"; exit 2; }
	$(BIN)/pybabel init --domain=messages --input-file=$(TEMPLATE) --output-dir=$(LOCALES) \
	  --locale=$(LANGUAGE) --width=100
	$(MAKE) --no-print-directory messages

benchmark: install $(COMPILED)
	$(BIN)/python -m benchmarks all

EMULATOR := tests/telegram_emulator
EMULATOR_INSTALLED := $(EMULATOR)/node_modules/.installed

# Running needs Python only; the test extras and the emulator (Node.js) are for `make test`.
install-runtime: $(RUNTIME_INSTALLED)

install: $(INSTALLED) $(EMULATOR_INSTALLED)

# the Telegram Bot API emulator the end-to-end tests start (telegram-test-api, pinned)
$(EMULATOR_INSTALLED): $(EMULATOR)/package.json $(EMULATOR)/package-lock.json
	npm ci --prefix $(EMULATOR) --no-audit --no-fund --loglevel=error
	@touch $@

$(RUNTIME_INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(INSTALLED): pyproject.toml $(RUNTIME_INSTALLED)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

%.mo: %.po $(RUNTIME_INSTALLED)
	$(BIN)/pybabel compile --statistics -D messages -i $< -o $@

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache $(COMPILED) $(EMULATOR)/node_modules
