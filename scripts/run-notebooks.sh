#!/usr/bin/env bash
# Runs every lesson in notebooks/ top to bottom through memsim's Jupyter kernel and saves each
# with its fresh outputs; fails if a cell fails (a failed `expect` included) or if a notebook
# breaks the lessons' rules (scripts/check-notebooks.py: kernel `mem`, every cell run, no cell
# output over 40 lines, solutions hidden).
#
#   scripts/run-notebooks.sh                 # rewrites notebooks/*.ipynb with their outputs
#   scripts/run-notebooks.sh --check         # runs copies; the notebooks stay as they are (CI)
#   scripts/run-notebooks.sh [--check] notebooks/03-page-faults.ipynb …   # only these
#   MEMSIM=path/to/memsim scripts/run-notebooks.sh
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
if [[ "${1:-}" == "--check" ]]; then
    check=1
    shift
fi
if [[ $# -eq 0 ]]; then
    # The lessons, numbered; rust-api.ipynb runs under evcxr (tests/evcxr/).
    set -- notebooks/[0-9]*.ipynb
fi
for nb in "$@"; do
    if [[ ! -f "$nb" || "$nb" != *.ipynb ]]; then
        echo "run-notebooks: not a notebook: $nb" >&2
        exit 2
    fi
done

source scripts/jupyter-env.sh

failed=0
for nb in "$@"; do
    if [[ $check -eq 1 ]]; then
        # A copy of the notebook's whole folder, so that files it reads beside itself (a
        # trace, a profile) resolve as they do in place.
        dir="$scratch/run/$(dirname "$nb")"
        mkdir -p "$dir"
        cp -r "$(dirname "$nb")/." "$dir/"
        target="$dir/$(basename "$nb")"
    else
        target="$nb"
    fi
    echo "== $nb"
    if "$venv/bin/jupyter" execute --inplace --timeout=120 "$target" \
        && "$venv/bin/python" scripts/check-notebooks.py --strip-timing "$target"; then
        :
    else
        echo "run-notebooks: $nb FAILED" >&2
        failed=1
    fi
done
if [[ $failed -ne 0 ]]; then
    exit 1
fi
echo "notebooks: all ran clean"
