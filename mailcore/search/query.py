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
from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    literal_column,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mailcore.models import Message, MessageText
from mailcore.search.index import FTS_COLUMNS, PAIR_KEYS, WORDS, pair_keys, words

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
# One GIN index is over each message's words (no positions or fields: the smallest that finds them), the
# other over its pairs of adjacent words (as numbers, mailcore/search/index.py); which field a word is
# in, and phrases, are checked against the words' stored copy, where a phrase is a plain substring (the
# words are folded and one space apart). A phrase's pairs narrow its messages down before that check
# reads them: "att vänliga hälsningar" has a quarter of a mailbox holding its three words, and few
# holding both its pairs. As on SQLite, a query's matches are listed when they are few; when they are
# more, the list is read newest first and each row is checked against its stored words (`each_row`),
# never by computing the row's vector of words again (tens of µs a row, where a check of its stored
# words costs a few).


def ts_query(terms: list[Term]) -> str:
    """What the index is asked, as a tsquery as it is written: every word of every term (what a word
    begins, outside phrases), cut at "_" as the index's words are."""
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
    """The column holds these words (the first begins a word; with `whole` the last ends one)."""
    return _begins_word([column], f"(' ' || message_texts.{column} || ' ')", words, whole)


# every field's words in one text, cut at "_" as the index cuts them, a space before and after each word
_ALL_WORDS = ("(' ' || translate(" + " || ' ' || ".join(f"message_texts.{c}" for c in FTS_COLUMNS)
              + ", '_', ' ') || ' ')")


def _begins_word(columns: list[str], padded: str, words: str, whole: bool) -> ColumnElement:
    """`padded` (the columns' words with a space before and after each) holds these words, the first
    beginning a word and, with `whole`, the last ending one. The columns are first looked through for
    the plain substring, which rules out most rows for a fifth of the cost of the whole check."""
    plain = bindparam("p", f"%{_like(words)}%", unique=True)
    return and_(or_(*(literal_column(f"message_texts.{c}").like(plain) for c in columns)),
                literal_column(padded).like(bindparam("p", f"% {_like(words)}{' ' if whole else ''}%", unique=True)))


def _anywhere(term: Term) -> list[ColumnElement]:
    """PostgreSQL, checked per row: each word of a term in no field begins a word of the message (the
    whole word, for one letter), as the index's words are cut: at spaces and at "_"."""
    return [_begins_word(list(FTS_COLUMNS), _ALL_WORDS, part, whole=len(part) == 1)
            for w in term.words for part in w.split("_") if part]


def each_row(terms: list[Term], messages=Message) -> ColumnElement:
    """PostgreSQL: of `messages` (the table or an alias), those whose stored words match every term,
    checked row by row (the subquery is kept from being joined: it runs for each row the list reads,
    which stops at its first page)."""
    checks = []
    for term in terms:
        in_text = _in_text(term)
        checks.extend([in_text] if in_text is not None else _anywhere(term))
    return select(literal_column("1")).select_from(MessageText.__table__).where(
        MessageText.message_id == messages.id, *checks).offset(0).exists()


def matching(dialect: str, terms: list[Term]):
    """A subquery of the ids of messages whose indexed words match every term."""
    if dialect == "postgresql":
        checks = [check for term in terms if (check := _in_text(term)) is not None]
        pairs = sorted({key for term in terms if term.phrase for key in pair_keys(" ".join(term.words))})
        if pairs:
            checks.insert(0, text(f"message_texts.{PAIR_KEYS} @> CAST(:k AS smallint[])").bindparams(
                bindparam("k", "{" + ",".join(map(str, pairs)) + "}", unique=True)))
        return select(text("message_id")).select_from(text("message_texts")).where(
            text(f"{WORDS} @@ CAST(:q AS tsquery)").bindparams(bindparam("q", ts_query(terms), unique=True)),
            *checks)
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
        found.append(not_(each_row([term], messages) if dialect == "postgresql"
                          else messages.id.in_(matching(dialect, [term]))))
    return found


def _utc(day: date, tz: ZoneInfo) -> datetime:
    """The start of that day where the user is, as the naive UTC the messages' dates are stored in."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


FEW = 1000  # matches few enough to be looked up one by one; more, and the list is read newest first
COMMON = 5  # PostgreSQL: a query its statistics expect this many times FEW matches of is not counted first


@dataclass(frozen=True)
class Many:
    """PostgreSQL: the query matches more messages than are worth listing; each row is checked."""
    terms: tuple[Term, ...]


def words_found(db: Session, query: Query) -> list[int] | Select | Many | None:
    """The messages whose words match: a rare word's few matches are listed (so the plan can start
    from them, by id); otherwise, on SQLite a subquery of their ids, on PostgreSQL `Many`. None when the
    query has no words."""
    if not query.terms:
        return None
    dialect = db.get_bind().dialect.name
    if dialect == "sqlite":
        few = [row[0] for row in db.connection().exec_driver_sql(
            "SELECT rowid FROM message_search WHERE message_search MATCH ? LIMIT ?", (fts_match(query.terms), FEW + 1))]
        return few if len(few) <= FEW else matching(dialect, query.terms)
    connection = db.connection()
    asked = matching(dialect, query.terms)
    compiled = asked.compile(dialect=connection.dialect)
    plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
    if plan[0]["Plan"]["Plan Rows"] > COMMON * FEW:  # by the index's statistics, too many to count
        return Many(tuple(query.terms))
    # only the indexes may answer: a plan that reads rows in order until enough match would compute
    # each row's words again, which for a word in a few per cent of messages is most of a second (and
    # should this fail, the transaction's end undoes the settings)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
    few = list(connection.execute(asked.limit(FEW + 1)).scalars())
    connection.exec_driver_sql("RESET enable_seqscan; RESET enable_indexscan")
    return few if len(few) <= FEW else Many(tuple(query.terms))


def words_condition(found: list[int] | Select | Many, dialect: str, messages=Message,
                    looked_up: bool = True) -> ColumnElement:
    """Of `messages` (the table or an alias), those `words_found` found. A listed few are looked up by id
    (on SQLite where `looked_up`); a common word never starts the plan: SQLite's subquery is kept from
    it (unary +), PostgreSQL checks each row, so the list is read newest first and stops at its first
    page, which comes soon."""
    if isinstance(found, Many):
        return each_row(list(found.terms), messages)
    if dialect == "postgresql" and isinstance(found, list):  # one array, not a parameter per id
        return messages.id == any_(bindparam("ids", found, type_=ARRAY(Integer), unique=True))
    name = sa_inspect(messages).selectable.name
    plain = dialect != "sqlite" or (looked_up and isinstance(found, list))
    return (messages.id if plain else literal_column(f"+{name}.id")).in_(found)
