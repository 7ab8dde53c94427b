"""`flask docs screenshots`: the same pixels, byte for byte, on every run; --check finds a changed picture."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")
pytest.importorskip("PIL")
from PIL import Image, ImageDraw

# the two that differed between runs before: random ports, and the time of the last login
ONLY = ["so-inbox-advanced-settings.png", "email-options-account.png"]


def screenshots(app, *args: str):
    only = [arg for name in ONLY for arg in ("--only", name)]
    return app.test_cli_runner().invoke(args=["docs", "screenshots", "--lang", "sv", *only, *args])


def test_two_runs_write_identical_files_and_check_finds_a_change(app, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    runs = [screenshots(app, "--out", str(first)), screenshots(app, "--out", str(second))]
    for run in runs:
        assert run.exit_code == 0, run.output
    names = [f"media/loc/sv/email/{name}" for name in ONLY]
    assert runs[0].output.split() == [str(first / name) for name in names]  # each path printed
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} differs between runs"
    for name in names:
        with Image.open(first / name) as dialog:
            assert dialog.width < 1280 and dialog.height < 800  # the dialog, not the whole window

    # a documentation folder whose Email options picture is out of date
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
    assert names[0] not in check.output  # the unchanged picture is not reported
    assert diff.exists() and not (second / "screenshot-diff" / names[0]).exists()
    assert changed.read_bytes() == before  # --check writes nothing into the documentation's folder
