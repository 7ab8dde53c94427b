"""One way of writing dates per language, everywhere: the list, the reading pane, quoted replies.

English is written the British way (1 Dec 2026, 10:57), never 12/1/26; Swedish as Swedish mail
programs do (1 dec. 2026 kl. 10:57). Times are stored in UTC and shown in the user's time zone
(`user_zone`: their choice in Personal settings or their browser's, kept; else DEFAULT_TIMEZONE), and
"today" is today there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache

from babel.dates import format_date, format_time
from flask import current_app, g, has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _

from mailcore.clock import now as clock_now
from mailcore.zones import is_zone, zone

REGIONS = {"en": "en_GB", "sv": "sv_SE"}


def date_locale() -> str:
    """The locale dates are written in for the user (also how they may type one in a search)."""
    return _locale()


def _locale() -> str:
    return REGIONS.get(str(get_locale()), "en_GB")


def zone_name() -> str:
    """The name of the zone the signed-in user sees times in: their own (chosen in Personal settings,
    or their browser's, kept on its first visit), else the installation's DEFAULT_TIMEZONE."""
    if not has_app_context():
        return "UTC"
    user = g.get("user")
    if user is not None and is_zone(user.timezone):
        return user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def zone_unknown() -> bool:
    """Whether the page should report the browser's zone: a signed-in user who has none yet."""
    user = g.get("user")
    return user is not None and not is_zone(user.timezone)


def user_zone() -> tzinfo:
    """The user's zone, worked out once per request (every date of a page asks)."""
    if not has_app_context():
        return UTC
    if "user_zone" not in g:
        g.user_zone = zone(zone_name())
    return g.user_zone


def forget_zone() -> None:
    """The zone changed during this request: the next date asks again."""
    if has_app_context():
        g.pop("user_zone", None)


def _local(value: datetime, in_zone: tzinfo | None = None) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # stored naive means UTC
    return aware.astimezone(in_zone or user_zone())


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
    zone_, locale = user_zone(), _locale()  # once per row, not once per part of it
    local, now = _local(value, zone_), _local(clock_now(), zone_)  # the app's clock: the guide's pictures fix "today"
    if local.date() == now.date():
        return _clock(local, locale)
    return _day(local.date(), local.year != now.year, locale)
