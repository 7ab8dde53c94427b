"""`flask docs screenshots`: the same pixels on every run; --check finds a changed picture and only it."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("playwright.sync_api")
pytest.importorskip("PIL")
from PIL import Image, ImageDraw

# the two that differed between runs before: random ports, and the time of the last login
ONLY = ["so-inbox-advanced-settings.png", "email-options-account.png"]


def screenshots(app, *args: str):
    only = [arg for name in ONLY for arg in ("--only", name)]
    return app.test_cli_runner().invoke(args=["docs", "screenshots", "--lang", "sv", *only, *args])


def test_a_second_run_draws_the_same_pixels_and_check_finds_only_the_changed_picture(app, tmp_path, own_playwright):
    """Two runs, not three: the second is the --check of a copy of the first with one picture edited,
    so the unedited one passing the check is the proof that a rerun draws it pixel for pixel the same."""
    first, second = tmp_path / "first", tmp_path / "second"
    run = screenshots(app, "--out", str(first))
    assert run.exit_code == 0, run.output
    names = [f"media/loc/sv/email/{name}" for name in ONLY]
    assert run.output.split() == [str(first / name) for name in names]  # each path printed
    for name in names:
        with Image.open(first / name) as dialog:
            assert dialog.width < 1280 and dialog.height < 800  # the dialog, not the whole window

    # a documentation folder whose Email options picture is out of date
    shutil.copytree(first, second)
    changed = second / names[1]
    with Image.open(changed) as image:
        edited = image.convert("RGB")
    ImageDraw.Draw(edited).rectangle((10, 10, 60, 40), fill=(255, 0, 255))
    edited.save(changed)
    before = changed.read_bytes()
    check = screenshots(app, "--out", str(second), "--check")
    assert check.exit_code == 1, check.output
    diff = second / "screenshot-diff" / names[1]
    assert f"changed: {changed}  (diff: {diff})" in check.output
    assert names[0] not in check.output  # the same pixels on the second run: not reported
    assert diff.exists() and not (second / "screenshot-diff" / names[0]).exists()
    assert changed.read_bytes() == before  # --check writes nothing into the documentation's folder
