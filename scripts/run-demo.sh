#!/usr/bin/env bash
# Set up (if needed) and open the dashboard on the bundled demo, on 127.0.0.1 only.
# serve.py wraps Streamlit's server so that every request must name an allowed host
# (server.allowedHosts in .streamlit/config.toml: 127.0.0.1 and localhost).
# Files on this machine are read only under ENSEMBLE_EXPLORER_ROOT: by default the folder
# you run this script from (ENSEMBLE_EXPLORER_ROOT=/data bash scripts/run-demo.sh for another).
set -euo pipefail
# Made absolute here, before the cd below (a relative one names a folder from where you are).
ENSEMBLE_EXPLORER_ROOT="$(cd "${ENSEMBLE_EXPLORER_ROOT:-.}" && pwd -P)"
export ENSEMBLE_EXPLORER_ROOT
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/streamlit run serve.py --server.address 127.0.0.1 --server.port "${PORT:-8501}" "$@"
