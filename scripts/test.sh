#!/usr/bin/env bash
# Sets up and runs the whole test suite (real Dovecot, SMTP, DNS and headless Chromium on loopback),
# after the linters (ruff, then the import contracts). `-m "not lab"` runs only the unit tier, which needs no server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
.venv/bin/ruff check --quiet .
.venv/bin/lint-imports --no-logo --no-cache  # the import contracts in pyproject.toml
exec .venv/bin/python -m pytest "$@"
