"""FETCH answers of the few shapes a sync asks for, read fast; anything else is read by imapclient.

imapclient's parser lexes every byte of an answer in Python: for a first sync's 20,000 summaries
that was a quarter of the whole sync. A sync's answers are made of numbers, a list of flags, and
literal or quoted strings; a regular expression reads those a response at a time. The moment any
response has another shape (an INTERNALDATE, an ENVELOPE, a nested list, a name imapclient converts)
the whole answer goes to imapclient's parse_fetch_response, so the result is always what imapclient
would have made of it: a dict by sequence number of dicts by upper-case item name, with b"SEQ".
"""

from __future__ import annotations

import re
from collections import defaultdict

from imapclient.response_parser import parse_fetch_response

_START = re.compile(rb"(\d+) \(")
# One item: its name, then a number, a list of atoms, a quoted string, NIL, or a literal's size
# (which always ends imaplib's line: the literal itself is the next element).
_ITEM = re.compile(rb"""
    [ ]?(?P<name>[A-Za-z0-9.]+(?:\[[^\]\r\n]*\](?:<\d+>)?)?)[ ]
    (?:(?P<number>\d+)(?=[ )])
      |\((?P<list>[^()"{}\r\n\\]*(?:\\[^()"{}\s\\]+[^()"{}\r\n\\]*)*)\)
      |"(?P<quoted>(?:[^"\\\r\n]|\\["\\])*)"
      |(?P<nil>NIL)(?=[ )])
      |\{(?P<literal>\d+)\}$)
    """, re.VERBOSE | re.IGNORECASE)
_QUOTED_PAIR = re.compile(rb'\\(["\\])')
# items imapclient turns into objects (datetime, Envelope, BodyData): left to it
_CONVERTED = {b"INTERNALDATE", b"ENVELOPE", b"BODY", b"BODYSTRUCTURE"}


class _OtherShape(Exception):
    pass


def parse_fetch(data: list) -> dict[int, dict]:
    """imaplib's untagged FETCH data -> {sequence number: {item: value}}, as
    parse_fetch_response(data, normalise_times=False, uid_is_key=False) returns it."""
    try:
        return _parse(data)
    except _OtherShape:
        return parse_fetch_response(data, False, False)


def _parse(data: list) -> dict[int, dict]:
    parsed: dict[int, dict] = defaultdict(dict)
    elements = iter(data)
    for element in elements:
        line, literal = element if isinstance(element, tuple) else (element, None)
        if not isinstance(line, bytes):
            raise _OtherShape
        start = _START.match(line)
        if start is None:
            raise _OtherShape
        seq = int(start.group(1))
        message: dict = {b"SEQ": seq}
        position = start.end()
        while True:
            if literal is None and line[position:] == b")":
                break
            item = _ITEM.match(line, position)
            if item is None:
                raise _OtherShape
            name = item.group("name").upper()
            if name in _CONVERTED or (name == b"UID" and item.group("number") is None):
                raise _OtherShape
            if item.group("literal") is not None:
                if not isinstance(literal, bytes) or len(literal) != int(item.group("literal")):
                    raise _OtherShape
                message[name] = literal
                following = next(elements, None)  # the rest of the response: ")" or more items
                line, literal = following if isinstance(following, tuple) else (following, None)
                if not isinstance(line, bytes):
                    raise _OtherShape
                position = 0
                continue
            message[name] = _value(item)
            position = item.end()
        parsed[seq].update(message)
    return parsed


def _value(item: re.Match) -> object:
    if item.group("number") is not None:
        return int(item.group("number"))
    if item.group("list") is not None:
        return tuple(int(word) if word.isdigit() else None if word.upper() == b"NIL" else word
                     for word in item.group("list").split())
    if item.group("quoted") is not None:
        return _QUOTED_PAIR.sub(rb"\1", item.group("quoted"))
    return None  # NIL
