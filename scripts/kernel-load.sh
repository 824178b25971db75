#!/usr/bin/env bash
# The kernel under load (scripts/kernel-load.py): wrong keys and replays never run, replies
# match their requests, 1,000 cells leave memory flat, restart frees everything, 50 kernels
# side by side each start in under 200 ms and stay under 20 MiB. Uses the Jupyter virtualenv
# of scripts/jupyter-env.sh. Figures are for the memsim given: measure a release build.
#
#   scripts/kernel-load.sh                                   # builds target/debug/memsim
#   MEMSIM=target/release/memsim scripts/kernel-load.sh      # after cargo build --release
#   scripts/kernel-load.sh --cells 200 many                  # some parts, smaller
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/jupyter-env.sh

MEMSIM="$MEMSIM" "$venv/bin/python" scripts/kernel-load.py "$@"
