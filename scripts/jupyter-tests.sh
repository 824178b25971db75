#!/usr/bin/env bash
# The Jupyter side of the kernel tests: a virtualenv with pinned Jupyter packages, memsim's
# kernel installed into it (--sys-prefix, as a JupyterHub image would), then the official
# kernel conformance suite (jupyter_kernel_test) and a notebook run with `jupyter execute`.
# Exits non-zero if anything fails.
#
#   scripts/jupyter-tests.sh            # builds target/debug/memsim first
#   MEMSIM=path/to/memsim scripts/jupyter-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${MEMSIM_JUPYTER_VENV:-.venv-jupyter}"
if [[ -z "${MEMSIM:-}" ]]; then
    cargo build --quiet
    MEMSIM=target/debug/memsim
fi
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/jupyter/requirements.txt

venv_abs="$(cd "$venv" && pwd)"
# Only the virtualenv's kernels: a `mem` kernel in the user's own folders must not be the one
# tested, and runtime files go to a scratch folder.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export JUPYTER_DATA_DIR="$scratch/data" JUPYTER_RUNTIME_DIR="$scratch/runtime"
export JUPYTER_CONFIG_DIR="$scratch/config" JUPYTER_PLATFORM_DIRS=1
unset JUPYTER_PATH
VIRTUAL_ENV="$venv_abs" "$MEMSIM" kernel install --sys-prefix

echo "== jupyter_kernel_test"
"$venv/bin/python" -m unittest -v tests/jupyter/test_kernel.py

echo "== jupyter execute (a notebook with kernelspec mem)"
cp tests/jupyter/smoke.ipynb "$scratch/smoke.ipynb"
"$venv/bin/jupyter" execute --inplace "$scratch/smoke.ipynb"
"$venv/bin/python" tests/jupyter/check_notebook.py "$scratch/smoke.ipynb"
echo "jupyter tests: all passed"
