#!/usr/bin/env bash
# Quick start: install runx into a venv, run the example sweep here, and print the sumx table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${RUNX_QUICKSTART_VENV:-$repo/.venv}"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q "$repo/packages/runx-core" "$repo/packages/runx-logx" "$repo/packages/runx-sumx" "$repo/packages/runx"
cd "$here"
export PATH="$venv/bin:$PATH"  # so the jobs' `python` is the one with runx-logx
"$venv/bin/python" -m runx.runx quickstart.yml -i
"$venv/bin/python" -m runx.sumx quickstart
