# Two commands: `make demo` runs the main job on the bundled synthetic sample,
# `make test` runs the test suite. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := data/sample
OUT := out/sample

.PHONY: demo demo-hilly docs-img test bench lint clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench,sites,lint]"
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/planner sample --out $(SAMPLE)
	$(BIN)/planner run --network $(SAMPLE)/roads.gpkg \
	    --communities $(SAMPLE)/communities.gpkg \
	    --facilities $(SAMPLE)/facilities.csv \
	    --gates $(SAMPLE)/gates.csv \
	    --profile jinzhong --out $(OUT) --map maps/sample_gap_map.html \
	    --boundary $(SAMPLE)/boundary.geojson --water $(SAMPLE)/river.geojson \
	    --png maps/sample_gap_map.png --report
	@echo "map: maps/sample_gap_map.html  print: maps/sample_gap_map.png  report: $(OUT)/report.html  tables: $(OUT)/"

# The hilly variant (a river town on steep banks, like Wanzhou): slope- and stairs-aware
# walking from its DEM, and the minutes to the nearest facility as a GeoTIFF.
demo-hilly: $(VENV)/.installed
	$(BIN)/planner sample --hilly --out data/sample_hilly
	$(BIN)/planner run --network data/sample_hilly/roads.gpkg \
	    --communities data/sample_hilly/communities.gpkg \
	    --facilities data/sample_hilly/facilities.csv \
	    --gates data/sample_hilly/gates.csv \
	    --profile wanzhou --out out/sample_hilly --dem data/sample_hilly/dem.tif \
	    --minutes-raster out/sample_hilly_minutes.tif --map maps/sample_hilly_gap_map.html
	@echo "map: maps/sample_hilly_gap_map.html  minutes: out/sample_hilly_minutes.tif  tables: out/sample_hilly/"

# The README's picture: the demo's map printed as a 16:9 slide (generated, then committed).
docs-img: demo
	mkdir -p docs/img
	$(BIN)/planner map $(OUT) --network $(SAMPLE)/roads.gpkg \
	    --boundary $(SAMPLE)/boundary.geojson --water $(SAMPLE)/river.geojson \
	    --png docs/img/sample_map.png --print-size slide --print-dpi 110

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/stages.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check planner tests benchmarks
	$(BIN)/mypy  # planner/, configured in pyproject.toml [tool.mypy]

clean:
	rm -rf $(OUT) $(SAMPLE) data/cache maps/*.html maps/*.png
