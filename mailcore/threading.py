"""Conversations: messages joined by Message-ID, In-Reply-To and References, in the manner of JWZ's
threading algorithm and RFC 5256's REFERENCES.

Every Message-ID a message has or names is a container. A message's References chain links its
containers parent to child, in order; its own container hangs under the last one (In-Reply-To's
first Message-ID where there are no References, or appended where References leave it out). A
parent that was never received stays an empty container that still joins its children, so a chain
broken in the middle (an id missing, or a client that shortened References) still joins. A link
that would make a loop is not made; a second message with a Message-ID already taken is a copy of
the same message (INBOX and Archive, Sent and the list's echo) and joins the same conversation.
Subjects are never compared: "Re: Offert" from two customers are two conversations.

`thread` builds the trees (the reading pane's order, the unit tests' reference). `Grouper` is the
same joining done incrementally, as the sync stores batches of messages: a conversation is every
message whose containers are linked, so a new message joins the conversations its keys are already
in, and merges them when it names more than one. No Flask, no database here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

KEY_LIMIT = 250  # characters of a Message-ID kept (indexed); longer ones are cut, still unique enough
REFERENCES_LIMIT = 60  # a References chain is kept to its first id and its last ones
_ID = re.compile(r"<([^<>]+)>")
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")  # spaces and controls (PostgreSQL takes no NUL)


def _clean(found: str) -> str:
    return _SPACE.sub("", found)[:KEY_LIMIT]


def message_key(raw: bytes | str | None) -> str:
    """The Message-ID header's id, without its angle brackets ("" when there is none). A Message-ID
    without brackets (some old software) is taken whole."""
    text = _text(raw)
    found = _ID.search(text)
    if found:
        return _clean(found.group(1))
    bare = _clean(text.strip())
    return bare if "@" in bare and " " not in text.strip() else ""


def reference_keys(references: bytes | str | None, in_reply_to: bytes | str | None) -> list[str]:
    """The ids a message names as its ancestors, oldest first, its parent last: References, with
    In-Reply-To's first id added when References leave it out (or has none)."""
    chain: list[str] = []
    for found in _ID.findall(_text(references)):
        key = _clean(found)
        if key and key not in chain:
            chain.append(key)
    replied = _ID.search(_text(in_reply_to))
    if replied:
        parent = _clean(replied.group(1))
        if parent and parent not in chain:
            chain.append(parent)
    if len(chain) > REFERENCES_LIMIT:
        chain = chain[:1] + chain[-(REFERENCES_LIMIT - 1):]
    return chain


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


@dataclass
class Item:
    """One message as threading sees it: `id` is anything that names it (a row id)."""
    id: object
    key: str
    references: list[str]
    date: datetime | None = None


@dataclass(eq=False)
class Container:
    key: str
    message: Item | None = None
    parent: Container | None = None
    children: list[Container] = field(default_factory=list)

    def ancestor_or_self(self, other: Container) -> bool:
        """Whether `other` is this container or one above it (a link to it would make a loop)."""
        node: Container | None = self
        while node is not None:
            if node is other:
                return True
            node = node.parent
        return False

    def walk(self):
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def messages(self) -> list[Item]:
        return [node.message for node in self.walk() if node.message is not None]


def _link(parent: Container, child: Container) -> None:
    if child.parent is not None:
        child.parent.children.remove(child)
    child.parent = parent
    parent.children.append(child)


def thread(items: Iterable[Item]) -> list[Container]:
    """JWZ's trees of these messages: the root containers (empty ones where the first message of a
    conversation was never received), each conversation once, oldest conversation first."""
    table: dict[str, Container] = {}
    copies = 0

    def container(key: str) -> Container:
        found = table.get(key)
        if found is None:
            found = table[key] = Container(key)
        return found

    for item in items:
        own: Container | None = table.get(item.key) if item.key else None
        if own is not None and own.message is not None:
            # a Message-ID already taken: a copy of the same message, hung under the first one
            copies += 1
            copy = Container(f"\x00copy{copies}", item)
            _link(own, copy)
            continue
        own = container(item.key) if item.key else Container(f"\x00none{id(item)}")
        own.message = item
        previous: Container | None = None
        for key in item.references:
            current = container(key)
            # a link already there stays (an earlier message knew better); none that makes a loop
            if previous is not None and current.parent is None and not previous.ancestor_or_self(current):
                _link(previous, current)
            previous = current
        # its own parent is the last one it names, unless that makes a loop
        if previous is not None and not previous.ancestor_or_self(own):
            if own.parent is not previous:
                _link(previous, own)
        if own.key.startswith("\x00none"):
            table[own.key] = own
    roots = [c for c in table.values() if c.parent is None]
    for root in roots:
        for node in root.walk():
            node.children.sort(key=lambda c: _earliest(c))
    roots.sort(key=_earliest)
    return [r for r in roots if any(True for _ in r.messages())]


def _earliest(container: Container) -> tuple[int, datetime]:
    dates = [m.date for m in container.messages() if m.date is not None]
    return (0, min(dates)) if dates else (1, datetime.min)


def conversations_of(items: Iterable[Item]) -> list[list[Item]]:
    """The messages of each conversation, oldest first."""
    return [sorted(root.messages(), key=lambda m: (m.date or datetime.min)) for root in thread(items)]


class Grouper:
    """Joins messages into conversations as they come, given what is stored already.

    `known` maps each key (a Message-ID stored or named) to its stored conversation (a positive
    id). `add` takes new messages (their own key, the keys they name) and decides each one's
    conversation with no further look-up: an existing one its keys are in (the smallest stored one,
    when it links several, which then merge into it), else a new one, numbered -1, -2 ... until the
    caller gives it an id of its own. Afterwards `assigned` (message -> conversation), `merged`
    (stored conversation -> the one it went into) and `new_key_conversations` (key -> conversation,
    for keys not known before) say what to store.
    """

    def __init__(self, known: Mapping[str, int]):
        self._parent: dict[int, int] = {}
        self._key_of: dict[str, int] = dict(known)
        self._next_new = 0
        self.new_keys: dict[str, int] = {}
        self._messages: dict[object, int] = {}

    def _fresh(self) -> int:
        self._next_new -= 1
        return self._next_new

    def _find(self, conversation: int) -> int:
        root = conversation
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while self._parent.get(conversation, conversation) != root:  # path compression
            self._parent[conversation], conversation = root, self._parent[conversation]
        return root

    def _union(self, one: int, other: int) -> int:
        a, b = self._find(one), self._find(other)
        if a == b:
            return a
        # a stored conversation outlives a new one; of two stored ones, the older (smaller) stays
        keep, gone = (a, b) if (a < 0, abs(a)) < (b < 0, abs(b)) else (b, a)
        self._parent[gone] = keep
        return keep

    def add(self, message_id: object, own_key: str, references: Iterable[str]) -> None:
        keys = ([own_key] if own_key else []) + [k for k in references if k and k != own_key]
        conversation: int | None = None
        for found in {self._key_of[key] for key in keys if key in self._key_of}:
            conversation = found if conversation is None else self._union(conversation, found)
        if conversation is None:
            conversation = self._fresh()
        for key in keys:
            if key not in self._key_of:
                self._key_of[key] = conversation
                self.new_keys[key] = conversation
        self._messages[message_id] = conversation

    @property
    def assigned(self) -> dict[object, int]:
        return {message: self._find(c) for message, c in self._messages.items()}

    @property
    def new_key_conversations(self) -> dict[str, int]:
        return {key: self._find(c) for key, c in self.new_keys.items()}

    @property
    def merged(self) -> dict[int, int]:
        """Conversations (stored ones included) that a message linked into another: old -> kept."""
        return {c: self._find(c) for c in list(self._parent) if c > 0 and self._find(c) != c}

    @property
    def new_conversations(self) -> set[int]:
        """The new conversations still standing (negative numbers), each to get an id."""
        return {c for c in self.assigned.values() if c < 0}
