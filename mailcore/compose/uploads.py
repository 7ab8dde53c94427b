"""Attachments uploaded to a compose window, kept in the database until the message is sent.

A file is read and stored in chunks as it arrives, so neither a 20 MB attachment nor several of them
are ever held in memory at once by the upload; a validation error of the form loses none of them.
Every look-up goes through the user, so nobody reaches another user's uploads.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from mailcore.compose import message as compose
from mailcore.models import ComposeWindow, PendingUpload, UploadChunk, utcnow
from mailcore.reading.render import safe_filename

CHUNK = 256 * 1024
KEPT_FOR = timedelta(days=1)
USER_QUOTA = 100 * 1024 * 1024  # bytes of uploads one user may keep unsent, all windows (UPLOAD_QUOTA_MB)


class TooLarge(ValueError):
    """The window's attachments would pass compose.MAX_ATTACHMENTS_BYTES together."""


class OverQuota(ValueError):
    """The user's unsent uploads, all windows together, would pass their quota."""


def kept_by(db: Session, user_id: int) -> int:
    """Bytes of uploads the user keeps unsent (a forwarded attachment keeps none: it is copied at Send)."""
    return int(db.scalar(select(func.coalesce(func.sum(PendingUpload.size), 0))
                         .where(PendingUpload.user_id == user_id, PendingUpload.forward_of.is_(None))) or 0)


def total_size(db: Session, window: ComposeWindow) -> int:
    return int(db.scalar(select(func.coalesce(func.sum(PendingUpload.size), 0))
                         .where(PendingUpload.window_id == window.id)) or 0)


def store(db: Session, window: ComposeWindow, filename: str, content_type: str, stream: BinaryIO,
          limit: int | None = None, quota: int = USER_QUOTA) -> PendingUpload:
    """Copy a file into the window chunk by chunk; TooLarge past the window's limit, OverQuota past the
    user's quota (and nothing kept either way)."""
    room = (compose.MAX_ATTACHMENTS_BYTES if limit is None else limit) - total_size(db, window)
    quota_room = quota - kept_by(db, window.user_id)
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
        if upload.size > quota_room:
            db.rollback()
            raise OverQuota(filename)
        # a Core insert: the chunk goes to the database and is not kept in the session
        db.execute(insert(UploadChunk).values(upload_id=upload.id, position=position, data=data))
        position += 1
    db.commit()
    return upload


def store_bytes(db: Session, window: ComposeWindow, filename: str, content_type: str, data: bytes,
                quota: int = USER_QUOTA) -> PendingUpload:
    """Attachments a reopened draft brings along: counted against the window's limit at Send, not here;
    against the user's quota here."""
    return store(db, window, filename, content_type, io.BytesIO(data), limit=2**62, quota=quota)


def refer(db: Session, window: ComposeWindow, message_id: int, part_index: int, filename: str,
          content_type: str, size: int) -> PendingUpload:
    """A forwarded attachment: a reference to the original message's part, copied only at Send."""
    upload = PendingUpload(window_id=window.id, user_id=window.user_id, filename=safe_filename(filename)[:255],
                           content_type=(content_type or "application/octet-stream")[:255], size=size,
                           forward_of=message_id, part_index=part_index)
    db.add(upload)
    return upload


def listed(db: Session, window: ComposeWindow | None) -> list[PendingUpload]:
    if window is None:
        return []
    return list(db.scalars(select(PendingUpload).where(PendingUpload.window_id == window.id)
                           .order_by(PendingUpload.id)))


Originals = Callable[[int], bytes | None]  # a forwarded message's bytes by its id (the user's own), or None


def data_of(db: Session, upload: PendingUpload, originals: Originals | None = None) -> bytes | None:
    """The upload's bytes; a forwarded attachment's from its original (None when that is gone)."""
    if upload.forward_of is not None:
        from mailcore.reading.render import attachment_part

        raw = originals(upload.forward_of) if originals else None
        picked = attachment_part(raw, upload.part_index or 0) if raw else None
        return picked[1] if picked else None
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
