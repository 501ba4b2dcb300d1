#!/usr/bin/env bash
# Sets up the checkout, checks style and types, and runs the whole test suite (SQLite and
# PostgreSQL backends; browser tests in Debian's chromium). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
# pytest exits 5 when it collected no test: that is a failure here, as is any other non-zero.
exec .venv/bin/pytest -n "${HAZWATCH_TEST_WORKERS:-2}" -p no:cacheprovider "$@"
