"""A checkout run without the setup script still speaks the user's language."""

import shutil
from pathlib import Path

import pytest

from app import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bare_checkout_catalogs(tmp_path) -> Path:
    """The catalogs as a fresh clone has them: .po files, nothing compiled."""
    copy = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", copy, ignore=shutil.ignore_patterns("*.mo", "*.pot"))
    return copy


def test_missing_catalogs_are_compiled_at_start(tmp_path, bare_checkout_catalogs):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'inkorg.db'}", "SECRET_KEY": "x",
                      "SYNC_MODE": "inline", "BABEL_TRANSLATION_DIRECTORIES": str(bare_checkout_catalogs)})
    assert (bare_checkout_catalogs / "sv" / "LC_MESSAGES" / "messages.mo").exists()
    page = app.test_client().get("/signin", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "Logga in" in page


def test_a_catalog_that_cannot_be_compiled_stops_the_start_with_the_fix(tmp_path, bare_checkout_catalogs):
    (bare_checkout_catalogs / "sv" / "LC_MESSAGES" / "messages.mo").mkdir()  # in the way, cannot be written
    with pytest.raises(RuntimeError, match="translate compile"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'inkorg.db'}", "SECRET_KEY": "x",
                    "BABEL_TRANSLATION_DIRECTORIES": str(bare_checkout_catalogs)})
