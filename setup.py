"""Packaging beyond pyproject.toml: the catalogs are compiled, and the templates, static files,
compiled catalogs and migrations go under <prefix>/share/inkorg, where mailcore/resources.py finds
them when the app runs from an installed distribution rather than a checkout."""

import sys
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the build runs from elsewhere; mailcore.catalogs needs only Babel

from mailcore.catalogs import compile_catalogs  # noqa: E402


def data_files() -> list[tuple[str, list[str]]]:
    """(installed folder, files) for every folder of resources; only the compiled catalogs, so that an
    installed app never tries to compile one."""
    wanted = {"templates": ("*.html",), "static": ("*",), "translations": ("*.mo",),
              "migrations": ("*.py", "*.mako")}
    found: dict[str, list[str]] = {}
    for top, patterns in wanted.items():
        for pattern in patterns:
            for path in sorted((ROOT / top).rglob(pattern)):
                if path.is_file() and "__pycache__" not in path.parts:
                    relative = path.relative_to(ROOT)
                    found.setdefault(str(Path("share/inkorg") / relative.parent), []).append(str(relative))
    return sorted(found.items())


compile_catalogs(ROOT / "translations")
setup(data_files=data_files())
