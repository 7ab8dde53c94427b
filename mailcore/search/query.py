"""The search language, as people know it from Gmail and Outlook, and the SQL it becomes.

    offert                 a word (and every word it begins: what is typed so far)
    "nya avtalet"          a phrase: these words, in this order
    -nyhetsbrev            not this word (or -"a phrase")
    from:anna  to:bo  subject:offert   the word in that field (from:"Anna Berg" for a phrase)
    has:attachment  is:unread  is:read  is:flagged
    after:2026-03-01  before:2026-04-01   the user's language's date format or ISO, in their time zone;
                                          after: takes the day itself, before: stops at its start

Swedish users may write the keywords in Swedish (från:, till:, ämne:, har:bilaga, är:oläst,
före:, efter:). What is not understood is searched as words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import parse_date
from sqlalchemy import Select, and_, bindparam, literal_column, not_, or_, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mailcore.models import Message
from mailcore.search.index import FTS_COLUMNS, SEARCH_VECTOR, words

FIELDS = {"from": "sender", "från": "sender", "to": "recipients", "till": "recipients", "subject": "subject",
          "ämne": "subject", "amne": "subject"}
FLAGS = {("has", "attachment"): "attachment", ("har", "bilaga"): "attachment", ("is", "unread"): "unread",
         ("är", "oläst"): "unread", ("is", "read"): "read", ("är", "läst"): "read", ("is", "flagged"): "flagged",
         ("är", "flaggat"): "flagged", ("is", "starred"): "flagged"}
DATES = {"before": "before", "före": "before", "fore": "before", "after": "after", "efter": "after"}
_TOKEN = re.compile(r'(-?)(?:([^\s:"]+):)?(?:"([^"]*)"?|(\S+))')


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    column: str | None = None  # None: any field
    phrase: bool = False  # the words in this order (else each word, and what it begins)
    text: str = ""  # as typed: what a server's SEARCH, or the list's fields where nothing is indexed, look for


@dataclass
class Query:
    terms: list[Term] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    after: date | None = None
    before: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.terms or self.excluded or self.flags or self.after or self.before)

    @property
    def free_text(self) -> list[str]:
        """What any field may hold, for a server's SEARCH (one criterion each)."""
        return [t.text for t in self.terms if t.column is None]


def _date(value: str, locale: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return parse_date(value, locale=locale)
    except Exception:  # babel raises ParseError, ValueError or IndexError for what it cannot read
        return None


def parse(text: str, locale: str = "en") -> Query:
    query = Query()
    for negated, key, quoted, bare in _TOKEN.findall(text):
        key_folded = key.lower()
        value = quoted if quoted else bare
        if key and key_folded in DATES and not negated:
            day = _date(value, locale)
            if day is not None:
                setattr(query, DATES[key_folded], day)
                continue
        if key and (key_folded, value.lower()) in FLAGS and not negated:
            query.flags.add(FLAGS[key_folded, value.lower()])
            continue
        column = FIELDS.get(key_folded) if key else None
        typed = value
        if key and column is None:  # not a keyword: "kl:15", "re:offert" are words
            value, typed = f"{key} {value}", f"{key}:{value}"
        found = tuple(words(value))
        if not found:
            continue
        term = Term(found, column, phrase=bool(quoted) or (column is not None and len(found) > 1),
                    text=" ".join(typed.split()))
        (query.excluded if negated else query.terms).append(term)
    return query


# --- SQLite FTS5 ------------------------------------------------------------------------------------


def _fts(term: Term) -> str:
    if term.phrase:
        inner = '"' + " ".join(term.words) + '"'
    else:
        inner = " AND ".join(f'"{w}"*' if len(w) > 1 else f'"{w}"' for w in term.words)
    return f"{term.column} : ({inner})" if term.column else f"({inner})"


def fts_match(terms: list[Term]) -> str:
    return " AND ".join(_fts(t) for t in terms)


# --- PostgreSQL --------------------------------------------------------------------------------------
# The GIN index is over each message's words without positions or fields (a stripped vector: the
# smallest that finds them); which field a word is in, and phrases, are checked against the words'
# stored copy, where a phrase is a plain substring (the words are folded and one space apart). These
# checks read as rare to the planner, as phrases are, so a phrase starts from the index and checks
# its candidates, instead of reading every message newest first for a match that may never come.


def ts_query(terms: list[Term]) -> str:
    """What the index is asked: every word of every term (what a word begins, outside phrases)."""
    return " & ".join(f"'{part}':*" if len(part) > 1 and not term.phrase else f"'{part}'"
                      for term in terms for w in term.words for part in w.split("_") if part)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def _in_text(term: Term) -> ColumnElement | None:
    """Where the term's words must be in the stored words: a phrase's words in order, a field's words
    in that field (as a word's start, or the whole of a one-letter word). None: the index says it all."""
    # PostgreSQL's parser splits a word at "_" (Python's \w does not): the index finds its parts, the
    # stored words say whether they stand together
    joined = any("_" in w for w in term.words)
    columns = [term.column] if term.column else list(FTS_COLUMNS) if term.phrase or joined else []
    if not columns:
        return None
    wanted = [" ".join(term.words)] if term.phrase else list(term.words)
    found = [and_(*(_has_words(column, words, whole=term.phrase or len(words) == 1) for words in wanted))
             for column in columns]
    return or_(*found) if len(found) > 1 else found[0]


def _has_words(column: str, words: str, whole: bool) -> ColumnElement:
    """The column holds these words (the first begins a word; with `whole` the last ends one). The
    plain substring is looked for first, which rules out most rows at the cost of one scan of the text."""
    padded = literal_column(f"(' ' || message_texts.{column} || ' ')")
    return and_(literal_column(f"message_texts.{column}").like(bindparam("p", f"%{_like(words)}%", unique=True)),
                padded.like(bindparam("p", f"% {_like(words)}{' ' if whole else ''}%", unique=True)))


def matching(dialect: str, terms: list[Term]):
    """A subquery of the ids of messages whose indexed words match every term."""
    if dialect == "postgresql":
        checks = [check for term in terms if (check := _in_text(term)) is not None]
        return select(text("message_id")).select_from(text("message_texts")).where(
            text(f"{SEARCH_VECTOR} @@ to_tsquery('simple', :q)").bindparams(
                bindparam("q", ts_query(terms), unique=True)), *checks)
    return select(text("rowid")).select_from(text("message_search")).where(
        text("message_search MATCH :m").bindparams(bindparam("m", fts_match(terms), unique=True)))


def conditions(dialect: str, query: Query, zone: str, messages=Message) -> list[ColumnElement]:
    """What the query asks of a message besides its words: flags and dates (of `messages`, the
    messages table or an alias of it)."""
    found: list[ColumnElement] = []
    if "attachment" in query.flags:
        found.append(messages.has_attachments.is_(True))
    if "unread" in query.flags:
        found.append(messages.seen.is_(False))
    if "read" in query.flags:
        found.append(messages.seen.is_(True))
    if "flagged" in query.flags:
        found.append(messages.flagged.is_(True))
    tz = ZoneInfo(zone)
    if query.after:
        found.append(messages.date >= _utc(query.after, tz))
    if query.before:
        found.append(messages.date < _utc(query.before, tz))
    for term in query.excluded:
        found.append(not_(messages.id.in_(matching(dialect, [term]))))
    return found


def _utc(day: date, tz: ZoneInfo) -> datetime:
    """The start of that day where the user is, as the naive UTC the messages' dates are stored in."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


FEW = 1000  # matches few enough to be looked up one by one; more, and the list is read newest first


def words_found(db: Session, query: Query) -> list[int] | Select | None:
    """The messages whose words match: SQLite lists a rare word's few matches (so the plan can start
    from them, by id); otherwise a subquery of their ids. None when the query has no words."""
    if not query.terms:
        return None
    dialect = db.get_bind().dialect.name
    if dialect == "sqlite":
        few = [row[0] for row in db.connection().exec_driver_sql(
            "SELECT rowid FROM message_search WHERE message_search MATCH ? LIMIT ?", (fts_match(query.terms), FEW + 1))]
        if len(few) <= FEW:
            return few
    return matching(dialect, query.terms)


def words_condition(found: list[int] | Select, dialect: str, messages=Message, looked_up: bool = True) -> ColumnElement:
    """Of `messages` (the table or an alias), those `words_found` found. SQLite: a listed few are looked
    up by id where `looked_up`; a common word's subquery never starts the plan (unary +): the list is
    read newest first and stops at its first page, which comes soon."""
    name = sa_inspect(messages).selectable.name
    plain = dialect != "sqlite" or (looked_up and isinstance(found, list))
    return (messages.id if plain else literal_column(f"+{name}.id")).in_(found)
