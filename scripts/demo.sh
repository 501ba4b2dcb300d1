#!/usr/bin/env bash
# Sets up the checkout and runs the demo; arguments go to 'hazwatch demo'.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/hazwatch demo "$@"
