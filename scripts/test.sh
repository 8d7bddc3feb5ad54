#!/usr/bin/env bash
# Install (if needed) and run the whole test suite: lint, types, then pytest (real models included).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check nlp scripts tests
.venv/bin/mypy nlp
.venv/bin/python -m pytest "$@"
