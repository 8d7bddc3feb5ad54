#!/usr/bin/env bash
# Install (if needed) and run the whole test suite: lint, types, then pytest (real models, SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The page's end-to-end tests drive Debian's Chromium with Playwright (no browser is downloaded at run time).
if ! command -v chromium >/dev/null; then
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
.venv/bin/ruff check nlp app scripts tests
.venv/bin/ruff format --check nlp app scripts tests
.venv/bin/mypy nlp app
.venv/bin/python -m pytest "$@"
