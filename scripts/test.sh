#!/usr/bin/env bash
# Sets up and runs the whole test suite (real Dovecot, SMTP, DNS and headless Chromium on loopback),
# after the linter. `-m "not lab"` runs only the unit tier, which needs no server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
.venv/bin/ruff check --quiet .
exec .venv/bin/python -m pytest "$@"
