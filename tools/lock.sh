#!/usr/bin/env bash
# Regenerate the hashed lock files from envs/requirements*.txt (`make lock`).
#
# envs/lock-cpu.txt   every runtime and test dependency, transitive ones included, with the
#                     sha256 of every file of each pinned release; torch is the CPU build
#                     (2.13.0+cpu, from download.pytorch.org/whl/cpu or a local wheel folder).
# envs/lock-cuda.txt  the same with PyPI's CUDA build of torch and its nvidia-* libraries.
# envs/lock-nodeps.txt the data-only packages, installed without their dependencies.
#
# An existing lock's pins are kept (uv treats them as preferences): a regeneration only moves
# what envs/requirements*.txt changed. UPGRADE=1 re-resolves everything to the newest releases.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
UV_VERSION=0.13.9
if ! "$VENV/bin/uv" --version 2>/dev/null | grep -q "$UV_VERSION"; then
    "$VENV/bin/pip" install --quiet "uv==$UV_VERSION"
fi
uv=("$VENV/bin/uv" pip compile --quiet --generate-hashes --python-version 3.11
    --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock")
if [[ "${UPGRADE:-0}" == 1 ]]; then uv+=(--upgrade); fi
# The CPU build of torch is not on PyPI: a local wheel folder (WHEELS) or PyTorch's CPU index.
cpu_source=(--extra-index-url https://download.pytorch.org/whl/cpu --index-strategy unsafe-best-match)
if [[ -n "${WHEELS:-}" ]]; then cpu_source=(--find-links "$WHEELS"); fi
"${uv[@]}" envs/requirements.txt --override envs/torch-cpu.txt "${cpu_source[@]}" -o envs/lock-cpu.txt
"${uv[@]}" envs/requirements.txt --override envs/torch-cuda.txt -o envs/lock-cuda.txt
"${uv[@]}" envs/requirements-nodeps.txt --no-deps -o envs/lock-nodeps.txt
# Stamp the locks' digests into the conda post-deploy script, so that Snakemake rebuilds its
# environment when a lock changes (it hashes the env file and that script, not the locks).
digests=$(sha256sum envs/lock-*.txt | awk '{printf "%s=%s ", $2, substr($1, 1, 12)}')
sed -i "s|^# lock digests: .*|# lock digests: ${digests% }|" envs/paperdag.post-deploy.sh
echo "wrote envs/lock-cpu.txt envs/lock-cuda.txt envs/lock-nodeps.txt"
