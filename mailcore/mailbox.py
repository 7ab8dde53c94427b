"""Reading the synchronised mailbox for the list: folders, pages of messages, search, changes.
Every query starts from the user's own account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from .models import Account, Folder, Message

SORTS = {"date": Message.date, "sender": Message.sender_name, "subject": Message.subject}
PAGE = 50


@dataclass(frozen=True)
class ListQuery:
    folder_id: int | None = None
    search: str = ""
    sort: str = "date"
    descending: bool = True
    after: str | None = None  # cursor: the last row of the previous page


@dataclass
class Page:
    folder: Folder | None
    messages: list[Message]
    next_cursor: str | None


def folders(db: Session, account: Account) -> list[Folder]:
    items = list(db.scalars(select(Folder).where(Folder.account_id == account.id)))
    return sorted(items, key=lambda f: f.sort_key)


def folder_of(db: Session, account: Account, folder_id: int | None) -> Folder | None:
    """The user's folder with that id, else their INBOX; None before the first sync."""
    if folder_id is not None:
        found = db.scalar(select(Folder).where(Folder.id == folder_id, Folder.account_id == account.id))
        if found is not None:
            return found
        return None
    return db.scalar(select(Folder).where(Folder.account_id == account.id, Folder.role == "inbox"))


def special_folder(db: Session, account: Account, role: str) -> Folder | None:
    return db.scalar(select(Folder).where(Folder.account_id == account.id, Folder.role == role))


def _cursor(message: Message, sort: str) -> str:
    value = getattr(message, SORTS[sort].key)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"{message.id}|{text}"


def _after(cursor: str, sort: str) -> tuple[int, datetime | str] | None:
    """The cursor's (id, sort value); None for one that does not parse (an edited address), which
    starts the list from its first page instead of failing."""
    last_id, _, raw = cursor.partition("|")
    try:
        number, value = int(last_id), datetime.fromisoformat(raw) if sort == "date" else raw
    except ValueError:
        return None
    return (number, value) if 0 <= number < 2**63 else None  # a database integer


def page(db: Session, folder: Folder, query: ListQuery) -> Page:
    """One page by keyset (sort value, id): as fast at the 100,000th message as at the first."""
    column = SORTS.get(query.sort, Message.date)
    sort = query.sort if query.sort in SORTS else "date"
    statement = select(Message).where(Message.folder_id == folder.id)
    if query.search:
        # % and _ are searched for as themselves ("kund_offert", "100%"), not as wildcards
        like = "%" + query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(*(field.ilike(like, escape="\\") for field in
                                          (Message.subject, Message.sender_name, Message.sender_address))))
    after = _after(query.after, sort) if query.after else None
    if after:
        last_id, value = after
        if query.descending:
            statement = statement.where(or_(column < value, and_(column == value, Message.id < last_id)))
        else:
            statement = statement.where(or_(column > value, and_(column == value, Message.id > last_id)))
    order = (column.desc(), Message.id.desc()) if query.descending else (column.asc(), Message.id.asc())
    rows = list(db.scalars(statement.order_by(*order).limit(PAGE + 1)))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return Page(folder, rows, _cursor(rows[-1], sort) if more and rows else None)


def message_of(db: Session, account: Account, message_id: int) -> Message | None:
    return db.scalar(select(Message).join(Folder).where(Message.id == message_id, Folder.account_id == account.id))
