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

source scripts/jupyter-env.sh

echo "== jupyter_kernel_test"
"$venv/bin/python" -m unittest -v tests/jupyter/test_kernel.py

echo "== jupyter execute (a notebook with kernelspec mem)"
cp tests/jupyter/smoke.ipynb "$scratch/smoke.ipynb"
"$venv/bin/jupyter" execute --inplace "$scratch/smoke.ipynb"
"$venv/bin/python" tests/jupyter/check_notebook.py "$scratch/smoke.ipynb"
echo "jupyter tests: all passed"
