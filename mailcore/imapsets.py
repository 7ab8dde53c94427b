"""IMAP sequence sets: writing UID lists compactly, and reading the ranges a server sends without
ever expanding them (a hostile `1:4294967295` must cost nothing)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

MAX_UID = 4_294_967_295  # UIDs are 32-bit (RFC 3501)


def uid_set(uids: Iterable[int]) -> str:
    """UIDs as an IMAP sequence set with ranges ("1:500,502"): short commands for long lists."""
    parts: list[str] = []
    start = previous = None
    for uid in sorted(set(uids)):
        if start is not None and uid == previous + 1:
            previous = uid
            continue
        if start is not None:
            parts.append(f"{start}:{previous}" if previous != start else str(start))
        start = previous = uid
    if start is not None:
        parts.append(f"{start}:{previous}" if previous != start else str(start))
    return ",".join(parts)


def parse_ranges(text: str) -> list[tuple[int, int]]:
    """A sequence set as sorted (low, high) pairs; anything that is not a number or range is skipped,
    `*` counts as the highest UID."""
    ranges = []
    for part in text.replace(" ", "").split(","):
        low, _, high = part.partition(":")
        try:
            bounds = [MAX_UID if x == "*" else int(x) for x in ((low, high) if high else (low,))]
        except ValueError:
            continue
        if all(0 < x <= MAX_UID for x in bounds):
            ranges.append((min(bounds), max(bounds)))
    return sorted(ranges)


MAX_VANISHED_RANGES = 100_000  # ranges read from one sync's VANISHED lines; past them a later full check finds the rest


def merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges joined where they overlap or touch: disjoint, in order."""
    joined: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if joined and low <= joined[-1][1] + 1:
            if high > joined[-1][1]:
                joined[-1] = (joined[-1][0], high)
        else:
            joined.append((low, high))
    return joined


def vanished_uids(lines: Iterable[bytes | str], stored: Iterable[int], most: int = MAX_VANISHED_RANGES) -> set[int]:
    """The stored UIDs that untagged `VANISHED [(EARLIER)] <set>` lines name. At most `most` ranges are
    read; they are merged first and each is clamped to what is stored, so neither their size nor their
    number nor their overlaps cost more than one pass over the stored UIDs."""
    known = sorted(set(stored))
    ranges: list[tuple[int, int]] = []
    for line in lines:
        text = line.decode("ascii", "replace") if isinstance(line, bytes) else str(line)
        text = text.strip()
        if text.upper().startswith("VANISHED"):
            text = text[len("VANISHED"):].strip()
        if text.upper().startswith("(EARLIER)"):
            text = text[len("(EARLIER)"):]
        ranges.extend(parse_ranges(text)[:most - len(ranges)])
        if len(ranges) >= most:
            break
    gone: set[int] = set()
    for low, high in merged(ranges):
        gone.update(known[bisect_left(known, low):bisect_right(known, high)])
    return gone


def copied_uids(texts: Iterable[bytes | str | None], most: int) -> dict[int, int]:
    """Old UID -> new UID from the `[COPYUID validity old-set new-set]` response code (UIDPLUS) among
    a command's answers; empty when none says, or when its sets do not pair up or name more than the
    `most` messages the command was about (a hostile `1:4294967295` is not expanded)."""
    for text in texts:
        text = text.decode("ascii", "replace") if isinstance(text, bytes) else str(text or "")
        found = re.search(r"\[COPYUID \d+ ([\d:,]+) ([\d:,]+)\]", text, re.IGNORECASE)
        if found:
            old, new = _listed(found[1], most), _listed(found[2], most)
            if old is not None and new is not None and len(old) == len(new):
                return dict(zip(old, new, strict=True))
    return {}


def _listed(text: str, most: int) -> list[int] | None:
    """A set's UIDs in the server's order (ranges may run downwards); None past `most` of them."""
    found: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        if not low.isdigit() or (high and not high.isdigit()):
            return None
        start, end = int(low), int(high or low)
        if abs(end - start) + 1 + len(found) > most:
            return None
        found.extend(range(start, end + 1) if start <= end else range(start, end - 1, -1))
    return found
