"""Compiling the translation catalogs (`translations/<lang>/LC_MESSAGES/messages.po` to `.mo`), the
one way: at the app's start for what is missing or stale, by `flask translate compile`, by
scripts/setup.sh (`python -m mailcore.catalogs`) and by setup.py for the distribution.

Only Babel is imported, so setup.py can use this module before anything is installed. As with
`pybabel compile`, fuzzy entries are left out of the compiled catalog.
"""

from __future__ import annotations

import sys
from pathlib import Path


def compile_catalogs(directory: Path, only_stale: bool = False) -> list[Path]:
    """Write the .mo of every catalog under `directory` (with `only_stale`, only of those whose .mo
    is missing or older than the .po); the .mo files written. OSError when one cannot be written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if only_stale and mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        partial = mo.with_suffix(".mo.partial")  # then renamed: an app loading the catalog meanwhile (a test
        with partial.open("wb") as target:       # beside a wheel build, a second process starting) never
            write_mo(target, catalog)            # reads half of it
        partial.replace(mo)
        written.append(mo)
    return written


if __name__ == "__main__":  # python -m mailcore.catalogs [DIRECTORY]: the checkout's catalogs by default
    compile_catalogs(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "translations")
