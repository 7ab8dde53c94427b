"""Where the templates, static files, catalogs and migrations are: beside app.py in a checkout, or
under `<prefix>/share/inkorg` when the distribution is installed (`pip install .`)."""

from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
INSTALLED = Path(sys.prefix) / "share" / "inkorg"


def resource_root() -> Path:
    return CHECKOUT if (CHECKOUT / "templates").is_dir() else INSTALLED
