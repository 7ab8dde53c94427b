"""One draft per compose window.

Each compose form is a ComposeWindow with a key the form carries. Saving replaces the window's one
draft in Drafts (APPEND the new, then remove the old); Send marks the window sent before it removes
the draft, so a save still on its way finds the window sent and takes its own draft back out.
Opening a draft from Drafts makes a window that owns that draft, with its attachments as uploads.
"""

from __future__ import annotations

import hashlib
import secrets
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mailcore.account import MailAccount
from mailcore.compose import message as compose
from mailcore.compose import rich
from mailcore.compose import uploads as pending_uploads
from mailcore.compose.message import Draft, Inline, Upload
from mailcore.models import ComposeWindow, Folder, PendingUpload, User
from mailcore.reading.render import attachments_of, parse
from mailcore.sync import appended

WINDOWS_PER_USER = 20  # open compose windows one user may have (COMPOSE_WINDOWS_PER_USER)


class TooManyWindows(Exception):
    """The user has as many compose windows open as they may."""


def reused_window(db: Session, user: User, mode: str, of: int) -> ComposeWindow | None:
    """The user's unsent window opened for the same reply, forward or draft, if it is still kept."""
    pending_uploads.expire(db)
    return db.scalar(select(ComposeWindow).where(
        ComposeWindow.user_id == user.id, ComposeWindow.answer_mode == mode, ComposeWindow.answer_of == of,
        ComposeWindow.sent.is_(False)).order_by(ComposeWindow.id.desc()).limit(1))


def open_window(db: Session, user: User, draft_uid: int | None = None, answer: tuple[str, int] | None = None,
                most: int = WINDOWS_PER_USER) -> ComposeWindow:
    """A new compose window; TooManyWindows when the user has `most` unsent ones (kept a day)."""
    pending_uploads.expire(db)
    held = db.scalar(select(func.count()).where(ComposeWindow.user_id == user.id, ComposeWindow.sent.is_(False)))
    if held >= most:
        raise TooManyWindows()
    mode, of = answer if answer else (None, None)
    window = ComposeWindow(user_id=user.id, key=secrets.token_urlsafe(24), draft_uid=draft_uid,
                           sent=False, uploads_changed=False, answer_mode=mode, answer_of=of)
    db.add(window)
    db.commit()
    return window


def window_of(db: Session, user: User, key: str) -> ComposeWindow | None:
    if not key:
        return None
    return db.scalar(select(ComposeWindow).where(ComposeWindow.key == key, ComposeWindow.user_id == user.id))


def fingerprint(draft: Draft) -> str:
    """What the form held when it opened, to tell a window the user changed from one only looked at."""
    text = rich.plain_text(rich.clean(draft.html)) if draft.html else draft.body.replace("\r\n", "\n")
    fields = (draft.to, draft.cc, draft.bcc, draft.subject, text)  # the editor writes the same text its own way
    return hashlib.sha256("\x00".join(" ".join(f.split()) for f in fields).encode()).hexdigest()[:32]


def with_uploads(db: Session, window: ComposeWindow, draft: Draft,
                 originals: pending_uploads.Originals | None = None) -> Draft:
    """The draft with the window's attachments; forwarded ones are copied from their original now."""
    draft.attachments = []
    for upload in pending_uploads.listed(db, window):
        data = pending_uploads.data_of(db, upload, originals)
        if data is not None:
            draft.attachments.append(Upload(upload.filename, upload.content_type, data))
    return draft


def save(mail: MailAccount, window: ComposeWindow, message: EmailMessage, drafts: Folder) -> int | None:
    """Replace the window's draft with `message`; its UID, or None when the window was sent meanwhile."""
    db = mail.db
    if window.sent:
        return None
    previous = window.draft_uid
    raw = message.as_bytes(policy=SMTP)
    with mail.imap() as client:
        uid = compose.append(client, drafts.name, message, (b"\\Draft", b"\\Seen"), raw)
        # Compare-and-set: of two saves of one window the later one to land wins, and none after Send.
        same = ComposeWindow.draft_uid.is_(None) if previous is None else ComposeWindow.draft_uid == previous
        taken = db.execute(update(ComposeWindow).where(ComposeWindow.id == window.id, ComposeWindow.sent.is_(False),
                                                       same).values(draft_uid=uid)).rowcount == 1
        db.commit()
        stale = previous if taken else uid
        if stale:
            compose.delete_in(client, drafts.name, stale)
    db.refresh(window)
    if not taken:
        return None
    appended.unlist_message(db, drafts, previous)
    appended.list_message(db, drafts, uid, message, raw=raw)
    return uid


def discard(mail: MailAccount, window: ComposeWindow, drafts: Folder | None) -> None:
    """Discard: the window's draft leaves Drafts and its uploads are deleted."""
    db = mail.db
    window.sent = True  # no save may bring it back
    db.commit()
    db.refresh(window)  # the draft a save may have put there meanwhile
    if window.draft_uid and drafts is not None:
        mail.delete_draft(drafts.name, window.draft_uid)
        appended.unlist_message(db, drafts, window.draft_uid)
    db.delete(window)
    db.commit()


def sent(mail: MailAccount, window: ComposeWindow, drafts: Folder | None) -> None:
    """After Send: no more saves, the draft leaves Drafts, the uploads are deleted."""
    db = mail.db
    window.sent = True
    db.commit()
    db.refresh(window)  # the draft a save may have put there meanwhile
    db.execute(delete(PendingUpload).where(PendingUpload.window_id == window.id))
    db.commit()
    if window.draft_uid and drafts is not None:
        mail.delete_draft(drafts.name, window.draft_uid)
        appended.unlist_message(db, drafts, window.draft_uid)


def closed(db: Session, window: ComposeWindow) -> None:
    """The form was closed with its draft saved (or nothing to save): the window and its uploads are no
    longer needed (the draft in Drafts opens in a window of its own), and no longer count as open."""
    db.execute(delete(PendingUpload).where(PendingUpload.window_id == window.id))
    db.delete(window)
    db.commit()


def from_message(db: Session, window: ComposeWindow, raw: bytes, keep_attachments: bool = True,
                 quota: int = pending_uploads.USER_QUOTA) -> Draft:
    """A saved draft as the compose form shows it; its attachments become the window's uploads (unless
    the window has them already), within the user's quota (OverQuota)."""
    message = parse(raw)

    def header(name: str) -> str:
        return " ".join(str(message.get(name, "")).split())

    def addresses(name: str) -> str:
        pairs = getaddresses([" ".join(str(v).split()) for v in message.get_all(name, [])])
        return ", ".join(compose.written_address(p) for p in pairs if p[1])

    body = message.get_body(preferencelist=("plain",))
    text = _content(body) if body is not None else ""
    inline = []
    for item, part in attachments_of(message):
        if not item.inline:
            if keep_attachments:
                pending_uploads.store_bytes(db, window, item.filename, item.content_type,
                                            part.get_payload(decode=True) or b"", quota=quota)
        elif item.content_id and item.content_type.startswith("image/"):
            inline.append(Inline(item.content_id, item.content_type, part.get_payload(decode=True) or b""))
    formatted = message.get_body(preferencelist=("html",)) if message.is_multipart() else None
    html = rich.clean(rich.document_body(_content(formatted)), frozenset(i.cid for i in inline)) if formatted else ""
    return Draft(to=addresses("To"), cc=addresses("Cc"), bcc=addresses("Bcc"), subject=header("Subject"),
                 body=text.replace("\r\n", "\n").rstrip("\n"), in_reply_to=header("In-Reply-To"),
                 references=header("References"), html=html, inline=inline)


def _content(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
