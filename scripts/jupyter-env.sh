#!/usr/bin/env bash
# Sourced by the scripts that run notebooks: a virtualenv with pinned Jupyter packages and
# memsim's kernel installed into it, with Jupyter's folders pointed at a scratch directory.
#
# After `source scripts/jupyter-env.sh` (from the repository's root):
#   $venv        the virtualenv (MEMSIM_JUPYTER_VENV, default .venv-jupyter)
#   $MEMSIM      the memsim whose kernel is installed (target/debug/memsim, built, unless set)
#   $scratch     a temporary folder, removed when the calling script exits
# and `jupyter` in "$venv/bin" sees only the virtualenv's kernels.

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
# run, and runtime files go to a scratch folder.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export JUPYTER_DATA_DIR="$scratch/data" JUPYTER_RUNTIME_DIR="$scratch/runtime"
export JUPYTER_CONFIG_DIR="$scratch/config" JUPYTER_PLATFORM_DIRS=1
unset JUPYTER_PATH
VIRTUAL_ENV="$venv_abs" "$MEMSIM" kernel install --sys-prefix
