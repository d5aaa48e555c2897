#!/usr/bin/env bash
# The main job on the bundled data: verify the reference data, then answer the seed towns' questions.
set -euo pipefail
cd "$(dirname "$0")/.."
QPV=.venv/bin/qpv
$QPV data verify | tail -1
