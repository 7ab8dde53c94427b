"""Reading the synchronised mailbox for the list: folders, pages of messages, search, changes.
Every query starts from the user's own account."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import and_, case, exists, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from mailcore.models import Account, Folder, Message, Role
from mailcore.search import query as language
from mailcore.search.index import NOT_INDEXED, WHOLE

SORTS = {"date": Message.date, "sender": Message.sender_name, "subject": Message.subject}
PAGE = 50
MAX_ROWS = 1000


@dataclass(frozen=True)
class ListQuery:
    folder_id: int | None = None
    search: str = ""
    sort: str = "date"
    descending: bool = True
    after: str | None = None  # cursor: the last row of the previous page
    limit: int = PAGE
    through: str | None = None  # cursor: a refresh brings every row up to this one (what the list shows)
    # per folder, the UIDs the server's own search found (for messages whose body is not indexed here)
    server_matches: Mapping[int, frozenset[int]] = field(default_factory=dict)
    everywhere: bool = False  # search every folder of the account (but Junk and Trash), not only the open one
    locale: str = "en"  # how the user writes dates (before:, after:)
    zone: str = "UTC"  # where the user's days begin and end
    # a row per conversation: its newest message in the folder stands for it; in a search, its newest
    # message that matches (a conversation matches when any of its messages does)
    conversations: bool = False


@dataclass(frozen=True)
class Thread:
    """What a conversation's row says beside its newest message: of its messages in the folder."""
    count: int
    unread: bool
    participants: list[str]


@dataclass
class Page:
    folder: Folder | None
    messages: list[Message]
    next_cursor: str | None
    threads: dict[int, Thread] = field(default_factory=dict)  # by the row's message id, conversations only


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
    return db.scalar(select(Folder).where(Folder.account_id == account.id, Folder.role == Role.INBOX))


def folder_named(db: Session, account: Account, name: str) -> Folder | None:
    """The user's folder with that path, as the server names it ("INBOX/Sub"): what a link names, so
    that it still finds the folder after the account was set up again (new rows, new ids)."""
    return db.scalar(select(Folder).where(Folder.account_id == account.id, Folder.name == name))


def folder_and_inbox(db: Session, account: Account, path: str | None) -> tuple[Folder | None, Folder | None]:
    """The user's folder of that path (else INBOX) and their INBOX, in one query."""
    wanted = Folder.role == Role.INBOX if not path else or_(Folder.name == path, Folder.role == Role.INBOX)
    found = list(db.scalars(select(Folder).where(Folder.account_id == account.id, wanted)))
    inbox = next((f for f in found if f.role == Role.INBOX), None)
    if not path:
        return inbox, inbox
    return next((f for f in found if f.name == path), None), inbox


def special_folder(db: Session, account: Account, role: Role) -> Folder | None:
    return db.scalar(select(Folder).where(Folder.account_id == account.id, Folder.role == role))


def searched_folders(folder: Folder):
    """The folders All folders searches: every folder of the account but Junk and Trash, which hold
    what the user has put away (as in the conversations), and the open folder, whichever it is."""
    return select(Folder.id).where(Folder.account_id == folder.account_id,
                                   Folder.role.is_(None) | Folder.role.not_in((Role.JUNK, Role.TRASH))
                                   | (Folder.id == folder.id))


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
    if query.search and query.everywhere:
        # SQLite: unary + leaves the folder index alone, so the list is read by date across folders
        own = literal_column("+messages.folder_id") if db.get_bind().dialect.name == "sqlite" else Message.folder_id
        statement = select(Message).where(own.in_(searched_folders(folder)))
    else:
        statement = select(Message).where(Message.folder_id == folder.id)
    matches = None  # a search's matches, read newest first, a conversation's first standing for it
    if query.search:
        search = Search(db, query, folder)
        statement = statement.where(*search.conditions())
        if query.conversations and sort == "date" and query.descending:
            matches = statement
        elif query.conversations:
            statement = statement.where(_newest_match_of_its_conversation(search, folder))
    elif query.conversations:
        statement = statement.where(_newest_of_its_conversation())
    after = _after(query.after, sort) if query.after else None
    if after:
        statement = statement.where(_beyond(after, column, query.descending))
    order = (column.desc(), Message.id.desc()) if query.descending else (column.asc(), Message.id.asc())
    through = _after(query.through, sort) if query.through else None
    if through:  # a refresh: every row up to the last one the list shows, however many came in
        beyond = _beyond(through, column, query.descending)
        rows = _rows(db, statement.where(~beyond), order, MAX_ROWS, matches, after)
        more = db.scalar(select(statement.where(beyond).exists()))
        return _with_threads(db, query, Page(folder, rows, _cursor(rows[-1], sort) if more and rows else None))
    limit = max(1, min(query.limit, MAX_ROWS))
    rows = _rows(db, statement, order, limit + 1, matches, after)
    more = len(rows) > limit
    rows = rows[:limit]
    return _with_threads(db, query, Page(folder, rows, _cursor(rows[-1], sort) if more and rows else None))


def _rows(db: Session, statement, order, count: int, matches=None, after=None) -> list[Message]:
    """Up to `count` rows of the statement in its order. With `matches` (a search's, read newest
    first): a row per conversation, its first, which is its newest match; past a cursor (`after`),
    none of a conversation that has a match before it (its row was on an earlier page). Read in
    batches, so a page costs about what it shows, whatever the search matches in all."""
    if matches is None:
        return list(db.scalars(statement.order_by(*order).limit(count)))
    rows: list[Message] = []
    seen: set[int] = set()
    last = None
    while len(rows) < count:
        batch = list(db.scalars((statement if last is None else statement.where(_beyond(last, Message.date, True)))
                                .order_by(*order).limit(count * 2)))
        new = {m.conversation_id for m in batch if m.conversation_id is not None} - seen
        if after is not None and new:
            seen.update(db.scalars(matches.with_only_columns(Message.conversation_id).distinct().where(
                Message.conversation_id.in_(new), ~_beyond(after, Message.date, True))))
        for message in batch:
            if message.conversation_id is not None:
                if message.conversation_id in seen:
                    continue
                seen.add(message.conversation_id)
            rows.append(message)
            if len(rows) == count:
                break
        if len(batch) < count * 2:
            break
        last = (batch[-1].id, batch[-1].date)
    return rows


def _newest_of_its_conversation():
    """No message of the same conversation in the folder is newer (by date, then id); a message
    without a conversation (not threaded yet) stands alone. Found per row through the
    (folder, conversation) index, so a page costs what it shows."""
    other = aliased(Message)
    return ~exists().where(other.folder_id == Message.folder_id, other.conversation_id == Message.conversation_id,
                           or_(other.date > Message.date, and_(other.date == Message.date, other.id > Message.id)))


def _newest_match_of_its_conversation(search: Search, folder: Folder):
    """No other message of the same conversation that the search finds is newer: the conversation's
    row is its newest match (a conversation matches when any of its messages does). Checked per row
    through the conversation index, and only for rows with a conversation, so a page still costs
    about what it shows."""
    other = aliased(Message, name="other")
    scope = (other.folder_id.in_(searched_folders(folder)) if search.query.everywhere
             else other.folder_id == folder.id)
    return Message.conversation_id.is_(None) | ~exists().where(
        other.conversation_id == Message.conversation_id, other.id != Message.id,
        or_(other.date > Message.date, and_(other.date == Message.date, other.id > Message.id)),
        scope, *search.conditions(other, looked_up=False))


def _with_threads(db: Session, query: ListQuery, listing: Page) -> Page:
    """Each conversation row's count, unread and participants, of its conversation's messages in the
    row's folder (what marking or moving the row acts on): one query for the page, and one for the names."""
    if not query.conversations or listing.folder is None:
        return listing
    rows = {(m.folder_id, m.conversation_id): m.id for m in listing.messages if m.conversation_id is not None}
    if not rows:
        return listing
    in_rows = tuple_(Message.folder_id, Message.conversation_id).in_(list(rows))
    counts = db.execute(select(Message.folder_id, Message.conversation_id, func.count(),
                               func.sum(case((Message.seen.is_(False), 1), else_=0)))
                        .where(Message.conversation_id.in_({c for _, c in rows}), in_rows)
                        .group_by(Message.folder_id, Message.conversation_id)).all()
    several = {(f, c): (n, unread) for f, c, n, unread in counts if n > 1}
    names: dict[tuple[int, int], list[str]] = {key: [] for key in several}
    if several:
        for folder_id, conversation, name, address in db.execute(
                select(Message.folder_id, Message.conversation_id, Message.sender_name, Message.sender_address)
                .where(Message.conversation_id.in_({c for _, c in several}),
                       tuple_(Message.folder_id, Message.conversation_id).in_(list(several)))
                .order_by(Message.date, Message.id)):
            shown = (name or address or "").split(" ")[0] if name else address
            key = (folder_id, conversation)
            if shown and shown not in names[key]:
                names[key].append(shown)
    listing.threads = {rows[key]: Thread(n, bool(unread), names[key][:4]) for key, (n, unread) in several.items()}
    return listing


def conversation_of(db: Session, account: Account, message: Message) -> list[Message]:
    """The whole conversation of a message, oldest first: every folder of the account but Junk and
    Trash (the user's replies in Sent in their place); copies of one message in two folders once,
    the one in the message's own folder preferred. Just the message when it has no conversation."""
    if message.conversation_id is None:
        return [message]
    rows = list(db.scalars(select(Message).join(Folder).where(
        Message.conversation_id == message.conversation_id, Folder.account_id == account.id,
        Folder.role.is_(None) | Folder.role.not_in((Role.JUNK, Role.TRASH)))
        .order_by(Message.date, Message.id)))
    seen: dict[str, Message] = {}
    shown = []
    for row in rows:
        if row.message_key and row.message_key in seen:
            if row.id == message.id:  # the copy the user opened stands in the other's place
                shown[shown.index(seen[row.message_key])] = row
                seen[row.message_key] = row
            continue
        if row.message_key:
            seen[row.message_key] = row
        shown.append(row)
    return shown


def conversation_in_folder(db: Session, message: Message) -> list[Message]:
    """The messages of a message's conversation in its folder (what the list's row stands for)."""
    if message.conversation_id is None:
        return [message]
    return list(db.scalars(select(Message).where(Message.folder_id == message.folder_id,
                                                 Message.conversation_id == message.conversation_id)))


def _like(text: str, messages=Message):
    # % and _ are searched for as themselves ("kund_offert", "100%"), not as wildcards
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*[column.ilike(like, escape="\\") for column in (messages.subject, messages.sender_name,
                 messages.sender_address, messages.recipients, messages.body_text)])


def _not_indexed(parsed: language.Query, messages=Message) -> list:
    """A message not in the index yet: its list fields hold the words as typed (one run of text, as
    before there was an index), and each field's term."""
    free = " ".join(parsed.free_text)
    return ([_like(free, messages)] if free else []) + [_like(t.text, messages) for t in parsed.terms if t.column]


class Search:
    """The search language's conditions (mailcore/search/query.py), prepared once: its words are looked
    up in the index once, and its conditions can then be asked of the messages table or of an alias of
    it. A message not indexed yet is searched in the list's fields as text, and one whose body is not
    indexed yet is also found where the server's own search found it."""

    def __init__(self, db: Session, query: ListQuery, folder: Folder):
        self.dialect = db.get_bind().dialect.name
        self.query = query
        self.parsed = language.parse(query.search, query.locale)
        self.words = self.fielded = None
        self.unindexed = False
        if self.parsed.empty or not self.parsed.terms:
            return
        self.words = language.words_found(db, self.parsed)
        fielded = [t for t in self.parsed.terms if t.column]
        if fielded and any(query.server_matches.values()):
            self.fielded = language.words_found(db, language.Query(terms=fielded))
        scope = searched_folders(folder) if query.everywhere else [folder.id]
        # (< WHOLE as well: what lets SQLite read the partial index of the messages still to index)
        self.unindexed = bool(db.scalar(select(select(Message.id).where(
            Message.folder_id.in_(scope), Message.search_state < WHOLE, Message.search_state == NOT_INDEXED).exists())))

    def conditions(self, messages=Message, looked_up: bool = True) -> list:
        """Of `messages`; `looked_up`: whether a word's few matches may start the plan (not for an alias
        checked per row, where they are looked up in the list instead)."""
        if self.parsed.empty:  # no word in it ("%", "--"): the list's fields hold it as typed
            return [_like(self.query.search, messages)]
        found = language.conditions(self.dialect, self.parsed, self.query.zone, messages)
        if self.parsed.terms:
            ways = [language.words_condition(self.words, self.dialect, messages, looked_up)]
            if self.unindexed:
                ways.append(and_(messages.search_state == NOT_INDEXED, *_not_indexed(self.parsed, messages)))
            by_server = [and_(messages.folder_id == folder_id, messages.uid.in_(sorted(uids)))
                         for folder_id, uids in self.query.server_matches.items() if uids]
            if by_server:
                server = [messages.search_state < WHOLE, or_(*by_server)]
                if self.fielded is not None:
                    server.append(language.words_condition(self.fielded, self.dialect, messages, looked_up))
                ways.append(and_(*server))
            found.append(or_(*ways))
        return found


@dataclass(frozen=True)
class Place:
    """Where a message stands in its folder's list, in each order the list can have: what finds its
    neighbours once it has left the list (moved away, its row gone)."""
    folder_id: int
    cursors: dict[str, str]


def place_of(message: Message) -> Place:
    return Place(message.folder_id, {sort: _cursor(message, sort) for sort in SORTS})


def successor(db: Session, folder: Folder, query: ListQuery, place: Place, shown: Collection[int]) -> Message | None:
    """The message to read next when the one at `place` has left the list: the one now after that
    place in the list's order (its search and sort), else the one before it; only one of the rows the
    list shows (`shown`, their ids), so never one the user has not scrolled to."""
    if place.folder_id != folder.id:
        return None
    cursor = place.cursors[query.sort if query.sort in SORTS else "date"]
    for descending in (query.descending, not query.descending):  # after it, then before it
        nearest = page(db, folder, replace(query, descending=descending, after=cursor, through=None, limit=1))
        if nearest.messages and nearest.messages[0].id in shown:
            return nearest.messages[0]
    return None


def _beyond(position: tuple[int, datetime | str], column, descending: bool):
    """The rows that come after the cursor's row (id, sort value) in the list's order: a SQL condition."""
    last_id, value = position
    if descending:
        return or_(column < value, and_(column == value, Message.id < last_id))
    return or_(column > value, and_(column == value, Message.id > last_id))


def message_of(db: Session, account: Account, message_id: int) -> Message | None:
    return db.scalar(select(Message).join(Folder).where(Message.id == message_id, Folder.account_id == account.id))
