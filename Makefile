# The two commands: `make reproduce` and `make test`. Both set up .venv on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
SNAKEMAKE := $(VENV)/bin/snakemake
PAPERDAG := $(VENV)/bin/paperdag
CORES ?= 2
SCALE ?= default
RESULTS := $(if $(filter default,$(SCALE)),results,results/$(SCALE))
# FROM_SCRATCH=1: rerun every job (`paperdag run --from-scratch`) instead of reusing results.
SCRATCH := $(if $(filter 1 yes true,$(FROM_SCRATCH)),--from-scratch,)
export PATH := $(abspath $(VENV))/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export PYTHONHASHSEED := 0

.PHONY: setup lock reproduce test smoke verify report lint dry-run clean-smoke

# The venv is installed from the hashed lock files (`make lock` regenerates them from
# envs/requirements*.txt): TORCH=cpu (default) or TORCH=cuda picks torch's build.
TORCH ?= cpu
$(VENV)/.installed: envs/lock-$(TORCH).txt envs/lock-nodeps.txt pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --require-hashes -r envs/lock-$(TORCH).txt
	$(VENV)/bin/pip install --quiet --require-hashes --no-deps -r envs/lock-nodeps.txt
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed

# Re-resolve the lock files after editing envs/requirements*.txt (UPGRADE=1: newest releases;
# WHEELS=DIR: take the CPU torch wheel from a local folder instead of PyTorch's CPU index).
lock: setup
	tools/lock.sh

# Thin aliases of the `paperdag` command (README, "The paperdag command").
reproduce: setup
	$(PAPERDAG) run --scale $(SCALE) --cores $(CORES) $(SCRATCH)

smoke: setup
	$(PAPERDAG) run --scale smoke --cores $(CORES) $(SCRATCH)

# Runs whatever is stale first, then exits non-zero if an applicable claim failed.
verify: setup
	$(PAPERDAG) run --scale $(SCALE) --cores $(CORES)
	$(PAPERDAG) verify --scale $(SCALE)

# The browsable report (and results/README.md, numbers.tex); runs whatever is missing first.
report: setup
	$(PAPERDAG) report --scale $(SCALE) --cores $(CORES)

# Static checks, also run by `make test`: ruff (ruff.toml), snakefmt and Snakemake's own linter.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/snakefmt --check Snakefile workflow
	$(SNAKEMAKE) --lint

dry-run: setup
	$(PAPERDAG) plan --scale $(SCALE) $(SCRATCH)

test: setup lint
	$(PY) -m pytest
