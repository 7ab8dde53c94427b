"""Time zones by their IANA names ("Europe/Stockholm"), as the system's zone database has them.

Times are stored in UTC; a zone only says how they are shown. A name is usable only if the system
knows it: one that is not is refused where it is given (a setting, a form, a browser's report).
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


@lru_cache(maxsize=1)
def names() -> frozenset[str]:
    """Every zone the system knows (read from disk once); UTC even on a system without a zone database."""
    return frozenset(available_timezones()) | {"UTC"}


def is_zone(name: object) -> bool:
    return isinstance(name, str) and name in names()


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    """The zone of a name `is_zone` accepts."""
    if not is_zone(name):
        raise ValueError(f"unknown time zone {name!r}")
    return UTC if name == "UTC" else ZoneInfo(name)


def choices() -> list[str]:
    """The zones a person picks from: UTC first, then the places ("Europe/Stockholm") in order."""
    places = sorted(name for name in names() if "/" in name and not name.startswith(("Etc/", "SystemV/")))
    return ["UTC", *places]
