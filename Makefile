# The two commands: `make reproduce` and `make test`. Both set up .venv on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
SNAKEMAKE := $(VENV)/bin/snakemake
CORES ?= 2
SCALE ?= default
RESULTS := $(if $(filter default,$(SCALE)),results,results/$(SCALE))
export PATH := $(abspath $(VENV))/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export PYTHONHASHSEED := 0

.PHONY: setup reproduce test smoke verify report lint dry-run clean-smoke

$(VENV)/.installed: envs/requirements.txt envs/requirements-nodeps.txt pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r envs/requirements.txt
	$(VENV)/bin/pip install --quiet --no-deps -r envs/requirements-nodeps.txt
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed

reproduce: setup
	$(SNAKEMAKE) --cores $(CORES) --config scale=$(SCALE)

smoke: setup
	$(SNAKEMAKE) --cores $(CORES) --config scale=smoke

verify: setup
	$(SNAKEMAKE) --cores $(CORES) --config scale=$(SCALE) verify

# The browsable report (and results/README.md, numbers.tex); runs whatever is missing first.
report: setup
	$(SNAKEMAKE) --cores $(CORES) all $(RESULTS)/README.md --config scale=$(SCALE)
	$(SNAKEMAKE) --cores 1 --config scale=$(SCALE) --report $(RESULTS)/report.html

# Static checks, also run by `make test`: ruff (ruff.toml), snakefmt and Snakemake's own linter.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/snakefmt --check Snakefile workflow
	$(SNAKEMAKE) --lint

dry-run: setup
	$(SNAKEMAKE) -n --config scale=$(SCALE)

test: setup lint
	$(PY) -m pytest
