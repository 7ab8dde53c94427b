"""One way of writing dates per language, everywhere: the list, the reading pane, quoted replies.

English is written the British way (1 Dec 2026, 10:57), never 12/1/26; Swedish as Swedish mail
programs do (1 dec. 2026 kl. 10:57). Times are shown in the app's time zone (Flask-Babel's).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from babel.dates import format_date, format_time
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _

from mailcore.clock import now as clock_now

REGIONS = {"en": "en_GB", "sv": "sv_SE"}


def _locale() -> str:
    return REGIONS.get(str(get_locale()), "en_GB")


def _local(value: datetime, zone=None) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(zone or get_timezone())


def day(value: datetime, with_year: bool = True) -> str:
    return _day(_local(value).date(), with_year, _locale())


@lru_cache(maxsize=4096)
def _day(on: date, with_year: bool, locale: str) -> str:
    """A list of 50 rows has a few days in it, each formatted once."""
    return format_date(on, "d MMM y" if with_year else "d MMM", locale=locale)


def clock(value: datetime) -> str:
    return _clock(_local(value), _locale())


def _clock(local: datetime, locale: str) -> str:
    return format_time(local, "HH:mm", locale=locale)


def full(value: datetime) -> str:
    """The date and time of one message: "1 Dec 2026, 10:57" / "1 dec. 2026 kl. 10:57"."""
    return _("%(date)s, %(time)s", date=day(value), time=clock(value))


def in_list(value: datetime) -> str:
    """Today's messages by time, this year's by day and month, older ones with the year."""
    zone, locale = get_timezone(), _locale()  # once per row, not once per part of it
    local, now = _local(value, zone), _local(clock_now(), zone)  # the app's clock: the guide's pictures fix "today"
    if local.date() == now.date():
        return _clock(local, locale)
    return _day(local.date(), local.year != now.year, locale)
