"""Attachments uploaded to a compose window, kept in the database until the message is sent.

A file is read and stored in chunks as it arrives, so neither a 20 MB attachment nor several of them
are ever held in memory at once by the upload; a validation error of the form loses none of them.
Every look-up goes through the user, so nobody reaches another user's uploads.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from mailcore.compose import message as compose
from mailcore.models import ComposeWindow, PendingUpload, UploadChunk, utcnow
from mailcore.reading.render import safe_filename

CHUNK = 256 * 1024
KEPT_FOR = timedelta(days=1)


class TooLarge(ValueError):
    """The window's attachments would pass compose.MAX_ATTACHMENTS_BYTES together."""


def total_size(db: Session, window: ComposeWindow) -> int:
    return int(db.scalar(select(func.coalesce(func.sum(PendingUpload.size), 0))
                         .where(PendingUpload.window_id == window.id)) or 0)


def store(db: Session, window: ComposeWindow, filename: str, content_type: str, stream: BinaryIO,
          limit: int | None = None) -> PendingUpload:
    """Copy a file into the window chunk by chunk; TooLarge (and nothing kept) past the limit."""
    room = (compose.MAX_ATTACHMENTS_BYTES if limit is None else limit) - total_size(db, window)
    upload = PendingUpload(window_id=window.id, user_id=window.user_id,
                           filename=safe_filename(filename or "attachment")[:255],
                           content_type=(content_type or "application/octet-stream")[:255], size=0)
    db.add(upload)
    db.flush()
    position = 0
    while True:
        data = stream.read(CHUNK)
        if not data:
            break
        upload.size += len(data)
        if upload.size > room:
            db.rollback()
            raise TooLarge(filename)
        # a Core insert: the chunk goes to the database and is not kept in the session
        db.execute(insert(UploadChunk).values(upload_id=upload.id, position=position, data=data))
        position += 1
    db.commit()
    return upload


def store_bytes(db: Session, window: ComposeWindow, filename: str, content_type: str, data: bytes) -> PendingUpload:
    """Attachments the window brings along (a forward's, a reopened draft's): counted at Send, not here."""
    return store(db, window, filename, content_type, io.BytesIO(data), limit=2**62)


def listed(db: Session, window: ComposeWindow) -> list[PendingUpload]:
    return list(db.scalars(select(PendingUpload).where(PendingUpload.window_id == window.id)
                           .order_by(PendingUpload.id)))


def data_of(db: Session, upload: PendingUpload) -> bytes:
    return b"".join(db.scalars(select(UploadChunk.data).where(UploadChunk.upload_id == upload.id)
                               .order_by(UploadChunk.position)))


def remove(db: Session, window: ComposeWindow, upload_id: int) -> bool:
    """Remove one of the window's uploads; False when it is not this window's."""
    upload = db.scalar(select(PendingUpload).where(PendingUpload.id == upload_id,
                                                   PendingUpload.window_id == window.id,
                                                   PendingUpload.user_id == window.user_id))
    if upload is None:
        return False
    db.delete(upload)
    db.commit()
    return True


def expire(db: Session) -> int:
    """Forget compose windows (with their uploads) older than a day; what a closed tab left behind."""
    cutoff = utcnow() - KEPT_FOR
    gone = db.execute(delete(ComposeWindow).where(ComposeWindow.created_at < cutoff)).rowcount
    db.execute(delete(PendingUpload).where(PendingUpload.created_at < cutoff))
    db.commit()
    return gone or 0
