"""Packaging beyond pyproject.toml: the catalogs are compiled, and the templates, static files,
compiled catalogs and migrations go under <prefix>/share/inkorg, where mailcore/resources.py finds
them when the app runs from an installed distribution rather than a checkout. Of localmail, only the
demo mailbox that `inkorg docs screenshots` takes its pictures in is shipped (see DEMO_MAILBOX)."""

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the build runs from elsewhere; mailcore.catalogs needs only Babel
from mailcore.catalogs import compile_catalogs  # noqa: E402

# The modules of localmail that `inkorg docs screenshots` needs (localmail/screens.py): the lab's
# Dovecot and SMTP servers with their certificates, users and maildirs, the DNS server, the demo
# messages and the browser. The rest (hostile and awkward corpora, the fault and trickle proxies,
# the OAuth issuer, the HTTPS autoconfig server and its world, the deployment's services, the
# command line) serves only the tests, the benchmarks and the checkout's demo, and stays out.
DEMO_MAILBOX = ("__init__", "lab", "bulk", "certs", "demo", "dovecot", "imap", "maildir", "ports", "relay",
                "smtp", "tarpit", "users", "dns", "browser", "screens")


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


class BuildPy(build_py):
    """Builds every listed package whole, except localmail: its DEMO_MAILBOX modules only."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        if package != "localmail":
            return modules
        return [(pkg, module, path) for pkg, module, path in modules if module in DEMO_MAILBOX]


compile_catalogs(ROOT / "translations")
setup(data_files=data_files(), cmdclass={"build_py": BuildPy})
