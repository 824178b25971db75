#!/usr/bin/env bash
# The `rust` Jupyter kernel (evcxr_jupyter) for notebooks/rust-api.ipynb, set up inside the
# repository: the kernel is built in tests/evcxr/ (it shares the notebook runner's rust-analyzer
# crates), its kernelspec goes into the Jupyter virtualenv (MEMSIM_JUPYTER_VENV, default
# .venv-jupyter), and nothing is written to the user's home. Not part of `.ci/run`: it is the
# by-hand path (tests/evcxr/README.md).
#
#   scripts/evcxr-jupyter.sh             # build the kernel, install its kernelspec
#   scripts/evcxr-jupyter.sh execute DIR # and run the notebook top to bottom into DIR, as
#                                        # executed .ipynb and as .html
#   scripts/evcxr-jupyter.sh console     # and a `jupyter console` on the kernel, in notebooks/
#   EVCXR_JUPYTER=path/to/evcxr_jupyter scripts/evcxr-jupyter.sh   # that kernel, not built
# JupyterLab: `.venv-jupyter/bin/pip install jupyterlab`, then `.venv-jupyter/bin/jupyter lab`.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${MEMSIM_JUPYTER_VENV:-.venv-jupyter}"
# EVCXR_JUPYTER: a kernel binary already built (`cargo install evcxr_jupyter` puts one in
# ~/.cargo/bin) instead of building this workspace's.
kernel="${EVCXR_JUPYTER:-}"
if [[ -z "$kernel" ]]; then
    cargo build --manifest-path tests/evcxr/Cargo.toml --features jupyter --bin evcxr_jupyter
    target="$(cargo metadata --manifest-path tests/evcxr/Cargo.toml --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    kernel="$target/debug/evcxr_jupyter"
fi
kernel="$(cd "$(dirname "$kernel")" && pwd)/$(basename "$kernel")"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
venv="$(cd "$venv" && pwd)"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/evcxr/requirements-jupyter.txt
# Jupyter's runtime files (connection files) and user settings go to a scratch folder, not home.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export JUPYTER_DATA_DIR="$scratch/data" JUPYTER_RUNTIME_DIR="$scratch/runtime"
export JUPYTER_CONFIG_DIR="$scratch/config" JUPYTER_PLATFORM_DIRS=1
# evcxr_jupyter writes its kernelspec (kernel.json pointing at this binary, the logo, the
# editor's scripts) under $JUPYTER_PATH/kernels/rust: here, the virtualenv's own data folder.
JUPYTER_PATH="$venv/share/jupyter" "$kernel" --install >/dev/null
"$venv/bin/jupyter" kernelspec list

case "${1:-}" in
    execute)
        out="${2:?usage: scripts/evcxr-jupyter.sh execute DIR}"
        mkdir -p "$out"
        # The kernel runs in the notebook's own folder, where `:dep memsim = { path = ".." }`
        # points at this repository; the results are written to DIR.
        "$venv/bin/jupyter" nbconvert --to notebook --execute \
            --ExecutePreprocessor.timeout=3600 --output-dir "$out" notebooks/rust-api.ipynb
        "$venv/bin/jupyter" nbconvert --to html --output-dir "$out" "$out/rust-api.ipynb"
        ;;
    console)
        cd notebooks
        "$venv/bin/jupyter" console --kernel rust
        ;;
    "") ;;
    *)
        echo "usage: scripts/evcxr-jupyter.sh [execute DIR | console]" >&2
        exit 2
        ;;
esac
