"""What a sync fetches of each message for the list, and the rows it makes of it.

Every message gets its row from FLAGS, its size and five header lines (`LIST_ITEMS`); the few
without a readable Date also get their INTERNALDATE. Previews follow once a folder's list is whole,
newest first: PREVIEW where the server has it (RFC 8970), else the first bytes of the text. A
preview is NULL until fetched, so a sync cut off in between finds the ones still missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from mailcore.envelope import as_utc
from mailcore.imapsets import uid_set
from mailcore.models import Folder, Message
from mailcore.sync.conversations import keys_of
from mailcore.sync.listfields import (
    FIRST_TEXT_ITEM,
    LIST_FIELDS_ITEM,
    first_text,
    header_block,
    header_lines,
    list_fields,
    preview_text,
)

LIST_ITEMS = ["FLAGS", "RFC822.SIZE", LIST_FIELDS_ITEM]
# what is listed of a message the server cannot describe
DESCRIBED_ANYWAY = ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]
_TEXT_HEADERS_ITEM = "BODY.PEEK[HEADER.FIELDS (CONTENT-TYPE CONTENT-TRANSFER-ENCODING)]"
NO_DATE = datetime(1970, 1, 1)


def list_items(with_preview: bool) -> list[str]:
    return LIST_ITEMS + (["PREVIEW"] if with_preview else [])


def row(folder_id: int, uid: int, data: dict) -> dict:
    """One message's row. Its date is the Date header's; `add_arrival_dates` fills in the rest."""
    block = header_block(data)
    fields = list_fields(block)
    key, references = keys_of(header_lines(block or b""))
    flags = {f.lower() for f in data.get(b"FLAGS", ())}
    preview = data.get(b"PREVIEW", False)  # absent: not asked for yet; NIL: the server has none
    internal = as_utc(data[b"INTERNALDATE"]) if isinstance(data.get(b"INTERNALDATE"), datetime) else None
    return {
        "folder_id": folder_id, "uid": uid, "modseq": (data.get(b"MODSEQ") or (None,))[0],
        "seen": b"\\seen" in flags, "flagged": b"\\flagged" in flags, "answered": b"\\answered" in flags,
        "date": fields.date or internal, "size": int(data.get(b"RFC822.SIZE") or 0),
        "sender_name": fields.sender_name, "sender_address": fields.sender_address,
        "subject": fields.subject, "has_attachments": fields.has_attachments, "recipients": fields.recipients,
        "preview": None if preview is False else preview_text(preview),
        "message_key": key, "reference_keys": references,
    }


def rows_of(folder_id: int, fetched: Iterable[tuple[int, dict]], wanted: set[int]) -> list[dict]:
    return [row(folder_id, uid, data) for uid, data in fetched if uid in wanted]


def add_arrival_dates(client, rows: list[dict]) -> None:
    """Messages without a readable Date are dated by their arrival (INTERNALDATE), asked for only
    for them: parsing an INTERNALDATE for every message would cost more than the header lines."""
    undated = {r["uid"]: r for r in rows if r["date"] is None}
    if undated:
        for uid, data in client.fetch_set(uid_set(undated), ["INTERNALDATE"]).items():
            if uid in undated and isinstance(data.get(b"INTERNALDATE"), datetime):
                undated[uid]["date"] = as_utc(data[b"INTERNALDATE"])
    for item in undated.values():
        item["date"] = item["date"] or NO_DATE


def insert_new(db: Session, rows: list[dict]) -> None:
    """One statement for the batch; a message stored already (a resumed sync) is left as it is."""
    if not rows:
        return
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.execute(insert(Message).on_conflict_do_nothing(index_elements=["folder_id", "uid"]), rows)


# --- previews ------------------------------------------------------------------------------------


def pending_previews(db: Session, folder: Folder) -> list[int]:
    """UIDs still without a preview, newest first (a partial index holds just these)."""
    return list(db.scalars(select(Message.uid).where(Message.folder_id == folder.id, Message.preview.is_(None))
                           .order_by(Message.uid.desc())))


def preview_items(server_previews: bool) -> list[str]:
    return ["PREVIEW"] if server_previews else [_TEXT_HEADERS_ITEM, FIRST_TEXT_ITEM]


def previews_of(fetched: Iterable[tuple[int, dict]]) -> dict[int, str]:
    found = {}
    for uid, data in fetched:
        if b"PREVIEW" in data:
            found[uid] = preview_text(data[b"PREVIEW"])
            continue
        text, content_type, encoding = None, None, None
        for key, value in data.items():
            if isinstance(key, bytes) and key.startswith(b"BODY[TEXT]"):
                text = value
            elif isinstance(key, bytes) and key.startswith(b"BODY[HEADER") and isinstance(value, bytes):
                content_type, encoding = _content_headers(value)
        if text is not None or content_type is not None:
            found[uid] = first_text(content_type, encoding, text if isinstance(text, bytes) else None)
    return found


def _content_headers(block: bytes) -> tuple[bytes | None, bytes | None]:
    lines = header_lines(block)
    return lines.get(b"content-type"), lines.get(b"content-transfer-encoding")


def store_previews(db: Session, folder_id: int, previews: dict[int, str]) -> None:
    if not previews:
        return
    table = Message.__table__
    db.execute(table.update().where(table.c.folder_id == bindparam("f"), table.c.uid == bindparam("u"))
               .values(preview=bindparam("p")),
               [{"f": folder_id, "u": uid, "p": text} for uid, text in previews.items()])


# --- the paperclip, checked --------------------------------------------------------------------


def correct_paperclip(db: Session, message: Message, raw: bytes) -> None:
    """The list guessed the paperclip from the Content-Type header; once the message is opened its
    parts decide, as the reading pane lists them. A change redraws the open list (folder version)."""
    from mailcore.reading.render import attachments_of, parse

    try:
        attached = any(not item.inline for item, _part in attachments_of(parse(raw)))
    except Exception:  # a message the pane cannot take apart keeps the list's guess
        return
    if attached != message.has_attachments:
        message.has_attachments = attached
        db.execute(update(Folder).where(Folder.id == message.folder_id).values(version=Folder.version + 1))
