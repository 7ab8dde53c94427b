#!/usr/bin/env bash
# Sets up and runs the whole test suite (real Dovecot, SMTP, DNS and headless Chromium on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
