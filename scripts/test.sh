#!/usr/bin/env bash
# The test command of the README: set up (scripts/setup.sh), then run the whole suite on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"
