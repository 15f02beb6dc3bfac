#!/usr/bin/env bash
# Snakemake runs this inside the conda environment of envs/paperdag.yaml once it is created
# (`--sdm conda`), from the workflow's directory (the repository root). It installs the same
# hashed lock files as `make` set-up: the CUDA build of torch by default (it runs on CPU nodes
# too), PAPERDAG_TORCH=cpu for the CPU build.
# The digests below are rewritten by `make lock`; a change in a lock file changes this script,
# which makes Snakemake build the environment anew.
# lock digests: envs/lock-cpu.txt=708fe9a415d4 envs/lock-cuda.txt=09a79231717b envs/lock-nodeps.txt=a50636e5bfaa
set -euo pipefail
variant=${PAPERDAG_TORCH:-cuda}
python -m pip install --require-hashes -r "envs/lock-${variant}.txt"
python -m pip install --require-hashes --no-deps -r envs/lock-nodeps.txt
