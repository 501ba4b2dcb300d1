#!/usr/bin/env bash
# Prepares a checkout: a virtualenv with hazwatch (and, with --dev, its test tools) and the
# built web UI. Idempotent; safe to run before every demo or test run.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"

if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv .venv
    else
      echo "python3 cannot create a virtualenv: install it with 'sudo apt-get install python3-venv'" >&2
      exit 1
    fi
  fi
fi
stamp=".venv/.installed$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".$extras"
  touch "$stamp"
fi

if ! command -v npm >/dev/null; then
  echo "npm (Node 20) is needed to build the web UI" >&2
  exit 1
fi
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -f src/hazwatch/webui/index.html ] || [ -n "$(find web/src web/index.html web/package.json web/vite.config.ts -newer src/hazwatch/webui/index.html 2>/dev/null | head -1)" ]; then
  (cd web && npm run --silent build)
fi
