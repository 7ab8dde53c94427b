"""What time it is, for every timestamp the app stores or shows.

The system clock, except while `fixed()` holds a moment: the documentation's pictures are taken
at one fixed moment, so that "today", the list's dates and "Last successful login" come out the
same on every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_fixed: datetime | None = None


def now() -> datetime:
    """Now, in UTC."""
    return _fixed if _fixed is not None else datetime.now(UTC)


@contextmanager
def fixed(moment: datetime) -> Iterator[None]:
    """Stop the clock at `moment` (timezone-aware) for the whole process, until the block ends."""
    global _fixed
    if moment.tzinfo is None:
        raise ValueError("a fixed moment needs a time zone")
    previous, _fixed = _fixed, moment.astimezone(UTC)
    try:
        yield
    finally:
        _fixed = previous
