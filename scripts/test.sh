#!/usr/bin/env bash
# Install (if needed) and run the whole test suite: lint, types, then pytest (real models, SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check nlp app scripts tests
.venv/bin/ruff format --check nlp app scripts tests
.venv/bin/mypy nlp app
.venv/bin/python -m pytest "$@"
