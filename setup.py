"""Packaging beyond pyproject.toml: the catalogs are compiled, and the templates, static files,
compiled catalogs and migrations go under <prefix>/share/inkorg, where mailcore/resources.py finds
them when the app runs from an installed distribution rather than a checkout."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup

ROOT = Path(__file__).resolve().parent


def compile_catalogs() -> None:
    for po in sorted(ROOT.glob("translations/*/LC_MESSAGES/messages.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        mo = po.with_suffix(".mo")
        partial = mo.with_suffix(".mo.partial")  # then renamed: an app reading the catalog meanwhile
        with partial.open("wb") as target:       # (a test running beside a wheel build) never sees half
            write_mo(target, catalog)
        partial.replace(mo)


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


compile_catalogs()
setup(data_files=data_files())
