#!/usr/bin/env bash
# Sets up and runs the whole test suite (real Dovecot, SMTP, DNS and headless Chromium on loopback),
# after the linters (ruff, then the import contracts), on every core. `-m "not lab"` runs only the unit
# tier, which needs no server; so does `.venv/bin/python -m pytest tests/unit -q`, the fast command (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
.venv/bin/ruff check --quiet .
.venv/bin/lint-imports --no-logo --no-cache  # the import contracts in pyproject.toml
# A pytest-xdist worker per core and one more (at most 4), each with its own lab (see tests/conftest.py
# for the groups): much of a lab test's time is waiting on a server or a browser, not computing, but
# the tests that hold a server to a deadline need the cores not to be swamped.
workers=$(( $(nproc 2>/dev/null || echo 1) + 1 )); workers=$(( workers > 4 ? 4 : workers ))
# The longest tests are handed out first (tests/schedule.py, from tests/durations.json), not by count.
exec .venv/bin/python -m pytest -n "$workers" --dist loadgroup --no-loadscope-reorder "$@"
