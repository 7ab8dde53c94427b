"""Dates and times in the user's time zone: stored in UTC, shown where the user is, summer time
included; the zone is the user's choice, else their browser's (kept), else DEFAULT_TIMEZONE."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from flask import g
from flask_babel import force_locale

from blueprints import dates
from blueprints.compose.wording import forward_block, quote_intro
from mailcore.config import SettingError, Settings
from mailcore.models import User
from mailcore.zones import choices, is_zone
from tests.helpers import make_user, text

STOCKHOLM = "Europe/Stockholm"


@pytest.fixture
def in_zone(app):
    """A request of a user whose zone is `name`."""
    def enter(name: str | None):
        context = app.test_request_context()
        context.push()
        g.user = SimpleNamespace(timezone=name)
        return context

    contexts = []
    yield lambda name: contexts.append(enter(name))
    for context in reversed(contexts):
        context.pop()


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize("moment,shown", [
    # spring forward, 29 March 2026 at 01:00 UTC: 02:00 CET becomes 03:00 CEST
    (utc(2026, 3, 29, 0, 59), "29 Mar 2026, 01:59"),
    (utc(2026, 3, 29, 1, 0), "29 Mar 2026, 03:00"),
    # fall back, 25 October 2026 at 01:00 UTC: 03:00 CEST becomes 02:00 CET
    (utc(2026, 10, 25, 0, 59), "25 Oct 2026, 02:59"),
    (utc(2026, 10, 25, 1, 0), "25 Oct 2026, 02:00"),
    # the two: 23:23 UTC is 00:23 the next day; 01:52 UTC in winter is 02:52
    (utc(2026, 12, 6, 23, 23), "7 Dec 2026, 00:23"),
    (utc(2026, 12, 7, 1, 52), "7 Dec 2026, 02:52"),
])
def test_a_time_is_shown_in_stockholm_on_each_side_of_summer_time(in_zone, moment, shown):
    in_zone(STOCKHOLM)
    with force_locale("en"):
        assert dates.full(moment) == shown
        assert dates.full(moment.replace(tzinfo=None)) == shown  # stored naive means UTC


def test_swedish_dates_are_in_the_zone_too(in_zone):
    in_zone(STOCKHOLM)
    with force_locale("sv"):
        assert dates.full(utc(2026, 3, 29, 1, 0)) == "29 mars 2026 kl. 03:00"
        assert dates.full(utc(2026, 10, 25, 0, 59)) == "25 okt. 2026 kl. 02:59"


@pytest.mark.parametrize("zone,shown", [(STOCKHOLM, "00:23"), ("UTC", "6 Dec"), ("America/New_York", "6 Dec")])
def test_today_in_the_list_is_today_in_the_users_zone(in_zone, monkeypatch, zone, shown):
    """At 08:00 UTC on 7 December, a message of 23:23 UTC the day before is today's in Stockholm."""
    monkeypatch.setattr(dates, "clock_now", lambda: utc(2026, 12, 7, 8, 0))
    in_zone(zone)
    with force_locale("en"):
        assert dates.in_list(utc(2026, 12, 6, 23, 23)) == shown


def test_yesterday_late_at_night_in_new_york_is_still_today_there(in_zone, monkeypatch):
    monkeypatch.setattr(dates, "clock_now", lambda: utc(2026, 12, 7, 3, 0))  # 22:00 on the 6th in New York
    in_zone("America/New_York")
    with force_locale("en"):
        assert dates.in_list(utc(2026, 12, 6, 23, 23)) == "18:23"
        assert dates.in_list(utc(2026, 12, 6, 4, 0)) == "5 Dec"  # 23:00 on the 5th there


def test_the_quote_of_a_reply_and_a_forward_is_in_the_users_zone(in_zone):
    in_zone(STOCKHOLM)
    with force_locale("en"):
        assert quote_intro(utc(2026, 12, 5, 19, 13), "Alice") == "On 5 Dec 2026 at 20:13, Alice wrote:"
        block = forward_block({"from": "Alice", "date": utc(2026, 12, 6, 23, 23), "subject": "Hi", "to": "",
                               "cc": ""})
        assert "Date: 7 Dec 2026, 00:23" in block
    with force_locale("sv"):
        assert quote_intro(utc(2026, 7, 5, 19, 13), "Alice") == "Den 5 juli 2026 kl. 21:13 skrev Alice:"


def test_a_user_without_a_zone_sees_the_installations(app, in_zone, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", "Asia/Tokyo")
    in_zone("America/New_York")
    assert dates.zone_name() == "America/New_York"
    in_zone(None)
    assert dates.zone_name() == "Asia/Tokyo"
    in_zone("Not/A_Zone")  # an unknown name, however it got there, is passed over
    assert dates.zone_name() == "Asia/Tokyo"
    with force_locale("en"):
        assert dates.full(utc(2026, 12, 6, 23, 23)) == "7 Dec 2026, 08:23"


def test_the_zone_is_the_users_choice_then_the_browsers_kept_then_the_installations(signed_in, monkeypatch):
    """Through the pages: DEFAULT_TIMEZONE until the browser says its zone, which is kept; the user's
    choice replaces it, and a browser reporting later changes nothing."""
    app = signed_in.client.application
    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", "Asia/Tokyo")
    assert '<option selected value="Asia/Tokyo">' in signed_in.get("/settings/personal").get_data(as_text=True)
    assert signed_in.post("/settings/browser-zone", {"zone": STOCKHOLM}).status_code == 204
    assert f'<option selected value="{STOCKHOLM}">' in signed_in.get("/settings/personal").get_data(as_text=True)
    signed_in.post("/settings/personal", {"language": "en", "signature": "", "timezone": "America/New_York"})
    assert signed_in.post("/settings/browser-zone", {"zone": STOCKHOLM}).status_code == 204
    assert user_zone_of(app) == "America/New_York"


def test_default_timezone_is_utc_and_a_bad_one_stops_the_start_naming_it():
    assert Settings.from_env({}).default_timezone == "UTC"
    assert Settings.from_env({"DEFAULT_TIMEZONE": STOCKHOLM}).default_timezone == STOCKHOLM
    with pytest.raises(SettingError, match="DEFAULT_TIMEZONE must be an IANA time zone.*'Europe/Stockholmm'"):
        Settings.from_env({"DEFAULT_TIMEZONE": "Europe/Stockholmm"})


def test_the_system_knows_the_zones_and_the_list_offers_them():
    assert is_zone(STOCKHOLM) and is_zone("UTC") and not is_zone("Europe/Atlantis") and not is_zone(None)
    offered = choices()
    assert offered[0] == "UTC" and STOCKHOLM in offered and offered[1:] == sorted(offered[1:])


def user_zone_of(app, email="kim@crm.example"):
    with app.extensions["mail"].sessions() as db:
        return db.query(User).filter_by(email=email).one().timezone


def test_personal_settings_choose_a_time_zone(signed_in):
    page = text(signed_in.get("/settings/personal"))
    assert "Time zone" in page
    assert '<option selected value="UTC">' in signed_in.get("/settings/personal").get_data(as_text=True)
    response = signed_in.post("/settings/personal", {"language": "en", "signature": "", "timezone": STOCKHOLM})
    assert response.status_code == 204
    assert user_zone_of(signed_in.client.application) == STOCKHOLM
    html = signed_in.get("/settings/personal").get_data(as_text=True)
    assert f'<option selected value="{STOCKHOLM}">Europe/Stockholm</option>' in html
    assert "data-zone-report" not in html  # the user has a zone: the browser is not asked
    # a form without the field (an older page) keeps the zone
    assert signed_in.post("/settings/personal", {"language": "sv"}).status_code == 204
    assert user_zone_of(signed_in.client.application) == STOCKHOLM
    assert "Tidszon" in text(signed_in.get("/settings/personal"))


def test_a_bad_zone_is_refused_in_the_users_language_and_nothing_is_lost(signed_in):
    signed_in.post("/settings/personal", {"language": "sv", "signature": "", "timezone": STOCKHOLM})
    response = signed_in.post("/settings/personal", {"language": "en", "signature": "Hälsningar, Kim",
                                                     "timezone": "Europe/Atlantis"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Välj en tidszon i listan." in page  # still Swedish: nothing was saved
    assert "Hälsningar, Kim" in page  # what was typed is still there
    assert f'<option selected value="{STOCKHOLM}">' in page  # the zone in use, not the list's first
    app = signed_in.client.application
    assert user_zone_of(app) == STOCKHOLM
    with app.extensions["mail"].sessions() as db:
        user = db.query(User).filter_by(email="kim@crm.example").one()
        assert (user.language, user.signature) == ("sv", "")


def test_changing_the_zone_needs_the_csrf_token(signed_in):
    response = signed_in.post("/settings/personal", {"language": "en", "timezone": STOCKHOLM}, csrf=False)
    assert response.status_code == 400
    response = signed_in.post("/settings/browser-zone", {"zone": STOCKHOLM}, csrf=False)
    assert response.status_code == 400
    assert user_zone_of(signed_in.client.application) is None


def test_the_browsers_zone_is_kept_once_for_a_user_who_has_none(signed_in):
    app = signed_in.client.application
    assert 'data-zone-report="/settings/browser-zone"' in signed_in.get("/inbox/").get_data(as_text=True)
    assert signed_in.post("/settings/browser-zone", {"zone": "Europe/Atlantis"}).status_code == 400
    assert user_zone_of(app) is None
    assert signed_in.post("/settings/browser-zone", {"zone": STOCKHOLM}).status_code == 204
    assert user_zone_of(app) == STOCKHOLM
    assert "data-zone-report" not in signed_in.get("/inbox/").get_data(as_text=True)
    assert "data-zone-report" not in app.test_client().get("/signin").get_data(as_text=True)  # signed out: never
    # another browser later does not change it; the user's choice does
    assert signed_in.post("/settings/browser-zone", {"zone": "America/New_York"}).status_code == 204
    assert user_zone_of(app) == STOCKHOLM


def test_the_sign_in_form_carries_the_browsers_zone_for_a_user_who_has_none(fresh_app):
    make_user(fresh_app, "kim@crm.example", name="Kim Karlsson")

    def sign_in_with(zone: str) -> None:
        client = fresh_app.test_client()
        page = client.get("/signin").get_data(as_text=True)
        assert 'name="zone" value="" data-browser-zone' in page  # app.js fills it in
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/signin", data={"email": "kim@crm.example", "password": "crm-password-1",
                                                "csrf_token": token, "zone": zone})
        assert response.status_code == 302

    sign_in_with("Europe/Atlantis")  # unknown: nothing kept
    assert user_zone_of(fresh_app) is None
    sign_in_with(STOCKHOLM)
    assert user_zone_of(fresh_app) == STOCKHOLM
    sign_in_with("America/New_York")  # the user has one: it stays
    assert user_zone_of(fresh_app) == STOCKHOLM
