#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite, browser tests included
# (they skip with a reason where Chromium is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m pytest -n 2 --dist loadgroup -q "$@"
