#!/usr/bin/env bash
# Sets up and starts Inkorg on SQLite. DEMO=1 also starts a local demo mailbox.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh app
exec .venv/bin/python scripts/serve.py
