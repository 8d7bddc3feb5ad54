#!/usr/bin/env bash
# Create .venv and install Parcours with its pinned dependencies (CPU-only torch from the local wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first, pinned: an unpinned torch pulled in by sentence-transformers brings gigabytes of CUDA.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
.venv/bin/python -c "import nlp; nlp.load_pipeline()" >/dev/null
echo "Parcours installed in .venv; the shipped model loads."
