"""`pip install .` gives a working app: the wheel, built offline with this environment's setuptools,
installed into a new virtualenv that borrows the dependencies from this one, runs from any folder;
with it the administrator's OAuth help page and `inkorg docs screenshots`, which need nothing of the
checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# localmail's modules that only the tests, the benchmarks and the checkout's demo use: never shipped
LAB_ONLY = ("__main__", "corpus", "hostile", "hostile_imap", "hostile_smtp", "https", "oauth_server", "proxy",
            "services", "trickle", "world")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtualenv with only the inkorg wheel installed; its bin folder."""
    where = tmp_path_factory.mktemp("packaging")
    # built from a copy of the checkout's files: an in-tree build rewrites build/ and the egg-info
    # that the running tests' editable install reads, beside the other test processes
    source = where / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(where / "dist"), str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
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


def test_the_wheel_carries_the_app_and_of_the_lab_only_the_demo_mailbox(installed):
    names = zipfile.ZipFile(next(installed.parent.parent.glob("dist/inkorg-*.whl"))).namelist()
    assert {"app.py", "cli.py", "mailcore/discovery/providers.json", "blueprints/inbox/listing.py"} <= set(names)
    data = "inkorg-0.1.0.data/data/share/inkorg/"
    assert {data + "templates/base.html", data + "translations/sv/LC_MESSAGES/messages.mo",
            data + "migrations/env.py", data + "static/js/app.js"} <= set(names)
    assert data + "templates/setup/oauth_help.html" in names
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "scripts/"))]
    assert not [name for name in names if name.endswith(".po")]  # an installed app never compiles a catalog
    assert not [name for name in names if name.endswith("README.md")]  # nothing reads it at run time
    # localmail: what `inkorg docs screenshots` runs, and none of the test lab's own parts
    shipped = {name.removeprefix("localmail/") for name in names if name.startswith("localmail/")}
    assert {"screens.py", "lab.py", "dovecot.py", "smtp.py", "dns.py", "demo.py", "browser.py"} <= shipped
    assert not shipped & {f"{module}.py" for module in LAB_ONLY}, shipped


def test_every_shipped_module_of_localmail_imports_in_the_installed_venv(installed, tmp_path):
    probe = textwrap.dedent("""
        import importlib, pkgutil
        import localmail
        names = [module.name for module in pkgutil.iter_modules(localmail.__path__)]
        for name in names:
            importlib.import_module("localmail." + name)
        print(localmail.__file__)
        print(" ".join(sorted(names)))
    """)
    env = {**os.environ}
    env.pop("PYTHONPATH", None)
    shown = subprocess.run([str(installed / "python"), "-c", probe], cwd=tmp_path, env=env, capture_output=True,
                           text=True)
    assert shown.returncode == 0, shown.stderr  # a shipped module that needs one left out fails here
    where, names = shown.stdout.splitlines()
    assert where.startswith(str(installed.parent)) and "screens" in names.split()
    assert not set(names.split()) & set(LAB_ONLY)


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


def _installed_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'inkorg.db'}", "SYNC_MODE": "external"}
    env.pop("PYTHONPATH", None)
    return env


WORDS = {"en": ["Signing in with Microsoft and Google", "Register exactly this redirect URI at the provider:"],
         "sv": ["Inloggning med Microsoft och Google",
                "Registrera exakt den här omdirigerings-URI:n hos leverantören:"]}


def test_the_oauth_help_page_answers_from_the_installed_app(installed, tmp_path):
    probe = textwrap.dedent("""
        import json, re
        from pathlib import Path
        from app import create_app
        from mailcore import services
        app = create_app()
        pages = {}
        for lang in ("en", "sv"):
            with app.extensions["mail"].sessions() as db:
                services.create_user(db, f"hedda-{lang}@crm.example", "long-enough-1", "Hedda Lind", lang)
            client = app.test_client()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                              client.get("/signin").get_data(as_text=True)).group(1)
            client.post("/signin", data={"email": f"hedda-{lang}@crm.example", "password": "long-enough-1",
                                         "csrf_token": token})
            page = client.get("/inbox/oauth/help")
            pages[lang] = [page.status_code, page.get_data(as_text=True)]
        print(json.dumps({"readme": Path(app.root_path, "README.md").exists(), "pages": pages}))
    """)
    shown = subprocess.run([str(installed / "python"), "-c", probe], cwd=tmp_path, env=_installed_env(tmp_path),
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert found["readme"] is False  # no README beside the installed app, and the page is there all the same
    for lang, (status, page) in found["pages"].items():
        assert status == 200, (lang, page)
        for expected in [*WORDS[lang], "http://localhost/inbox/oauth/callback", "OAUTH_MICROSOFT_CLIENT_ID",
                         "OAUTH_GOOGLE_CLIENT_SECRET", "MAIL_PROVIDERS_FILE"]:
            assert expected in page, (lang, expected)


def test_docs_screenshots_run_from_the_installed_distribution(installed, tmp_path):
    """One small picture in one language: the demo mailbox, the app and Chromium, all from the
    installed venv, started from a folder that is not the checkout."""
    from PIL import Image

    out = tmp_path / "docs"
    picture = "getstarted-contact-mycontactcard.png"  # the flow's first picture
    ran = subprocess.run([str(installed / "inkorg"), "docs", "screenshots", "--lang", "en", "--only", picture,
                          "--out", str(out)], cwd=tmp_path, env=_installed_env(tmp_path), capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    path = out / "media" / "loc" / "en" / "email" / picture
    assert ran.stdout.split() == [str(path)]
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 300 and image.height > 200
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # a rendered screen, not a blank or single-colour one
