"""The message list's rows are put together once per page (links and words) and per day (dates):
what they say must be what building each one alone says."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import url_for
from flask_babel import force_locale

from blueprints import dates
from mailcore import clock


@pytest.fixture
def request_context(app):
    with app.test_request_context():
        yield


def same_link(one: str, other: str) -> bool:
    """The same path and the same query, in whichever order."""
    return (urlsplit(one).path == urlsplit(other).path
            and sorted(parse_qsl(urlsplit(one).query)) == sorted(parse_qsl(urlsplit(other).query)))


@pytest.mark.parametrize("query", [{}, {"q": "faktura maj"}, {"q": "å&ä=ö/1?#", "sort": "sender-asc"},
                                   {"q": "918273645546372819"}])  # the last: the stand-in number itself
@pytest.mark.parametrize("message", [1, 42, 918273645546372818, 2**63 - 1])
def test_a_row_link_is_the_link_url_for_builds(app, request_context, query, message):
    built = app.jinja_env.globals["url_for_each"]("inbox.index", "message", folder=7, **query)
    assert same_link(built(message), url_for("inbox.index", folder=7, message=message, **query))
    assert app.jinja_env.globals["url_for_each"]("inbox.message", "message_id")(message) == \
        url_for("inbox.message", message_id=message)


def test_a_row_link_takes_only_whole_numbers(app, request_context):
    build = app.jinja_env.globals["url_for_each"]("inbox.message", "message_id")
    with pytest.raises(ValueError):
        build("1/../../settings")
    assert build("12") == url_for("inbox.message", message_id=12)


@pytest.mark.parametrize("lang,today,this_year,older", [("en", "09:05", "3 Nov", "3 Nov 2025"),
                                                        ("sv", "09:05", "3 nov.", "3 nov. 2025")])
def test_list_dates_by_language_one_after_the_other(app, request_context, monkeypatch, lang, today, this_year, older):
    """The day names are kept between rows: a page in one language never shows another's."""
    now = datetime(2026, 12, 1, 12, 0)
    monkeypatch.setattr(clock, "now", lambda: now)
    monkeypatch.setattr(dates, "clock_now", lambda: now)
    for other in ("sv", "en", lang):  # the other language first, so its days are remembered already
        with force_locale(other):
            shown = [dates.in_list(datetime(2026, 12, 1, 9, 5)), dates.in_list(datetime(2026, 11, 3, 9, 5)),
                     dates.in_list(datetime(2025, 11, 3, 9, 5))]
    assert shown == [today, this_year, older]
    with force_locale(lang):
        assert dates.day(now - timedelta(days=28), with_year=False) == this_year
