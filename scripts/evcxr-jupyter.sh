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
# Then: .venv-jupyter/bin/jupyter console --kernel rust, or JupyterLab from the virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${MEMSIM_JUPYTER_VENV:-.venv-jupyter}"
cargo build --manifest-path tests/evcxr/Cargo.toml --features jupyter --bin evcxr_jupyter
target="$(cargo metadata --manifest-path tests/evcxr/Cargo.toml --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
kernel="$target/debug/evcxr_jupyter"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/evcxr/requirements-jupyter.txt
# evcxr_jupyter writes its kernelspec (kernel.json pointing at this binary, the logo, the
# editor's scripts) under $JUPYTER_PATH/kernels/rust: here, the virtualenv's own data folder.
JUPYTER_PATH="$(cd "$venv" && pwd)/share/jupyter" "$kernel" --install >/dev/null
"$venv/bin/jupyter" kernelspec list

if [[ "${1:-}" == "execute" ]]; then
    out="${2:?usage: scripts/evcxr-jupyter.sh execute DIR}"
    mkdir -p "$out"
    # The kernel runs in the notebook's own folder, where `:dep memsim = { path = ".." }`
    # points at this repository; the results are written to DIR.
    "$venv/bin/jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=3600 \
        --output-dir "$out" notebooks/rust-api.ipynb
    "$venv/bin/jupyter" nbconvert --to html --output-dir "$out" "$out/rust-api.ipynb"
fi
