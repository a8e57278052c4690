# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
OUT ?= demo_output

.PHONY: demo test lint browser postgis clean bench docs samples screenshot

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	rm -rf $(OUT)
	$(VENV)/bin/minemap --store $(OUT)/minemap.gpkg demo $(OUT)

# Browser tests need Debian's chromium; install it where apt is available.
browser:
	@if { [ ! -x /usr/bin/chromium ] || ! command -v pdftoppm >/dev/null 2>&1; } \
		&& command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium poppler-utils >/dev/null) \
		|| echo "warning: could not install chromium/poppler-utils; browser and sheet-rendering tests will be skipped"; \
	fi

# Store tests run a throwaway PostgreSQL + PostGIS cluster; install it where apt is available.
postgis:
	@if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 \
		&& command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			postgresql postgresql-postgis >/dev/null) \
		|| echo "warning: could not install PostgreSQL + PostGIS; PostGIS store tests will be skipped"; \
	fi

test: $(VENV)/.installed-test browser postgis
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n 2 -q

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

# Benchmarks are run by hand (minutes each); figures go to docs/benchmarks.md.
# bench_commands.py times the commands as a user runs them (issue 14's table).
BENCH_FIELDS ?= 50000
bench: $(VENV)/.installed-test browser
	$(PY) benchmarks/bench_import.py
	$(PY) benchmarks/bench_traverse.py
	$(PY) benchmarks/bench_crossref.py
	$(PY) benchmarks/bench_offsets.py
	$(PY) benchmarks/bench_store.py
	$(PY) benchmarks/bench_export.py
	$(PY) benchmarks/bench_map.py
	$(PY) benchmarks/bench_commands.py --fields $(BENCH_FIELDS)
	$(PY) benchmarks/bench_postgis.py  # figures in docs/team.md

samples: $(VENV)/.installed
	$(PY) tools/make_sample_maps.py --out sample_maps

docs: $(VENV)/.installed
	$(PY) tools/make_cli_docs.py > docs/cli.md

# Keeps docs/map.png (the README's picture) in step with the sample map.
screenshot: demo browser
	$(PY) tools/screenshot.py $(OUT)/map.html -o docs/map.png

clean:
	rm -rf $(OUT) .pytest_cache build *.egg-info
