"""`pip install .` gives a working app: the wheel, built offline with this environment's setuptools,
installed into a new virtualenv that borrows the dependencies from this one, runs from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtualenv with only the inkorg wheel installed; its bin folder."""
    where = tmp_path_factory.mktemp("packaging")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(where / "dist"), str(ROOT)], check=True, capture_output=True)
    wheel = next((where / "dist").glob("inkorg-*.whl"))
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", purelib], check=True, capture_output=True,
                               text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")  # flask, sqlalchemy, ...
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--ignore-installed", str(wheel)], check=True, capture_output=True)
    return venv / "bin"


def test_the_wheel_carries_the_app_and_nothing_of_the_lab(installed):
    names = zipfile.ZipFile(next(installed.parent.parent.glob("dist/inkorg-*.whl"))).namelist()
    assert {"app.py", "cli.py", "mailcore/discovery/providers.json", "blueprints/inbox/listing.py"} <= set(names)
    data = "inkorg-0.1.0.data/data/share/inkorg/"
    assert {data + "templates/base.html", data + "translations/sv/LC_MESSAGES/messages.mo",
            data + "migrations/env.py", data + "static/js/app.js"} <= set(names)
    assert not [name for name in names if name.startswith(("tests/", "localmail/", "benchmarks/", "scripts/"))]
    assert not [name for name in names if name.endswith(".po")]  # an installed app never compiles a catalog


def test_the_inkorg_command_runs_the_installed_app(installed, tmp_path):
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'inkorg.db'}", "SYNC_MODE": "external"}
    env.pop("PYTHONPATH", None)
    help_text = subprocess.run([str(installed / "inkorg"), "--help"], cwd=tmp_path, env=env, check=True,
                               capture_output=True, text=True).stdout
    assert "Usage: inkorg" in help_text and "sync" in help_text and "user" in help_text and "check" in help_text
    added = subprocess.run([str(installed / "inkorg"), "user", "add", "eva@crm.example", "--password",
                            "long-enough-1", "--name", "Eva Lind"], cwd=tmp_path, env=env, capture_output=True,
                           text=True)
    assert added.returncode == 0 and "Created eva@crm.example" in added.stdout, added.stderr
    probe = textwrap.dedent("""
        import app
        from app import create_app
        client = create_app().test_client()
        page = client.get("/signin", headers={"Accept-Language": "sv"}).get_data(as_text=True)
        script = client.get("/static/js/app.js")
        print(app.__file__)
        print("Logga in" in page, script.status_code)
    """)
    shown = subprocess.run([str(installed / "python"), "-c", probe], cwd=tmp_path, env=env, check=True,
                           capture_output=True, text=True).stdout.split("\n")
    assert shown[0].startswith(str(installed.parent)) and shown[1] == "True 200"  # not the checkout's files
