# The two commands of the README:
#   make main   — install, run the notebooks on the offline profile, build the book
#   make test   — unit tests + nbval on the smoke-profile notebooks (what CI runs)
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= offline

.PHONY: main setup notebooks book pdf test unit slow nbval smoke-notebooks device-bundle clean

main: setup notebooks book

$(BIN)/activate:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed

# Executed notebooks of a profile go to book/<profile>/ (rendered by the book).
notebooks: setup
	$(BIN)/python -m gatelib.pipeline --profile $(PROFILE) --out book/$(PROFILE)

# The book renders the executed notebooks under book/; a chapter whose source in notebooks/ changed
# since it ran stops the build (gatelib.provenance). HTML and PDF render the same notebooks.
book: setup
	$(BIN)/python -m gatelib.provenance
	$(BIN)/jupyter-book build . -W -n --keep-going

# The whole book as one PDF: single-page HTML printed by headless Chromium (Debian: apt install
# chromium). The page is moved to the build root so its relative _static/ and _images/ links resolve,
# and gets a contents page (book/print_contents.py); page numbers and chapter breaks: book/_static/print.css.
pdf: setup
	$(BIN)/python -m gatelib.provenance
	$(BIN)/jupyter-book build . --builder singlehtml -W -n --keep-going
	cp _build/singlehtml/book/intro.html _build/singlehtml/book.html
	$(BIN)/python book/print_contents.py _toc.yml _build/singlehtml/book.html
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
		--no-first-run --disable-sync --no-pdf-header-footer --generate-pdf-document-outline \
		--print-to-pdf=_build/gate-study.pdf _build/singlehtml/book.html
	@echo "PDF: _build/gate-study.pdf"

test: setup unit nbval

unit: setup
	$(BIN)/python -m pytest tests -m "not slow" -p no:cacheprovider --ignore=tests/notebooks

# Checks too long for CI: the decontamination of the 155k Flickr30k captions (counts, the
# contaminated arm, the near-copy curves) and the compiled-encoder training test (~3 min).
slow: setup
	$(BIN)/python -m pytest tests -m slow -p no:cacheprovider --ignore=tests/notebooks

# nbval re-executes the committed smoke notebooks and compares their outputs' text (decimals
# masked); tests/notebooks/test_smoke_numbers.py then compares the numbers they wrote to
# results/smoke/ with tests/notebooks/reference/ (untrained exactly, trained within a tolerance).
nbval: setup
	rm -rf models/smoke results/smoke
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-p no:cacheprovider tests/notebooks

# Regenerate the notebooks nbval checks (after changing gatelib or notebooks/).
SMOKE_TABLES := scores.csv truncation.csv retrieval.csv
smoke-notebooks: setup
	rm -rf models/smoke results/smoke
	$(BIN)/python -m gatelib.pipeline --profile smoke --out tests/notebooks
	mkdir -p tests/notebooks/reference
	cd results/smoke && cp $(SMOKE_TABLES) ../../tests/notebooks/reference/

# What benchmarks/gpu_job.sh needs on a GPU machine without internet (< 40 MiB: wheels for
# CPython 3.12, the Arabic+English fp16 base model as xz, the commit). Commit first.
WHEEL_PLATFORMS := $(foreach p,manylinux_2_28_x86_64 manylinux_2_26_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64,--platform $(p))
device-bundle: setup
	rm -rf .device && mkdir -p .device/whl
	$(BIN)/pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		$(WHEEL_PLATFORMS) -d .device/whl -r benchmarks/gpu-wheels.txt
	model=$$($(BIN)/python -c "from gatelib.models import ensure_bundled_ar_en as e; print(e())") && \
		tar -cJf .device/e5-ar-en.tar.xz -C "$$(dirname $$model)" "$$(basename $$model)"
	git rev-parse --short=10 HEAD > .device/COMMIT
	du -sh .device

clean:
	rm -rf _build models
