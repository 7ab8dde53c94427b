"""Attachments from an upload, read in chunks and refused as soon as they pass the limit, so a
large upload never sits in memory whole before its size is known."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from mailcore.compose.message import AttachmentsTooLarge, Upload

CHUNK = 256 * 1024


class UploadedFile(Protocol):
    filename: str | None
    mimetype: str | None

    def read(self, size: int = -1) -> bytes: ...


def read_attachments(files: Iterable[UploadedFile], budget: int) -> list[Upload]:
    """The chosen files as attachments, at most `budget` bytes in all (a form's empty file field,
    which has no name, is skipped)."""
    if budget < 0:
        raise AttachmentsTooLarge()
    uploads = []
    for file in files:
        if not getattr(file, "filename", ""):
            continue
        parts = []
        while chunk := file.read(CHUNK):
            budget -= len(chunk)
            if budget < 0:
                raise AttachmentsTooLarge()
            parts.append(chunk)
        uploads.append(Upload(file.filename, file.mimetype or "application/octet-stream", b"".join(parts)))
    return uploads
