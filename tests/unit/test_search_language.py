"""The search language and the words of the index (mailcore/search): no server, no database."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from mailcore.search.index import MAX_WORD, pair_keys, plain, words
from mailcore.search.query import Term, _utc, fts_match, parse, ts_query


def test_words_fold_case_and_diacritics_but_keep_a_ring_a_umlaut_and_o_umlaut():
    assert words("Offért ÅSA Öl café naïve ﬁnal") == ["offert", "åsa", "öl", "cafe", "naive", "final"]
    assert words("A\u030angstro\u0308m") == ["ångström"]  # written decomposed
    assert plain("anna.berg@kund.example, 100%") == "anna berg kund example 100"
    assert words("ost " + "QUJD" * 60 + " öl") == ["ost", "öl"]  # a run of encoded data is no word
    assert len(words("x" * MAX_WORD)) == 1


def test_pairs_of_adjacent_words_within_a_field():
    keys = pair_keys("nya avtalet gäller", "bob smith")
    assert keys == sorted(set(keys)) and all(0 <= k < 1024 for k in keys) and len(keys) <= 3
    assert set(pair_keys("nya avtalet")) <= set(keys) and set(pair_keys("avtalet gäller")) <= set(keys)
    assert pair_keys("nya avtalet gäller nya avtalet") == sorted({*pair_keys("nya avtalet gäller"),
                                                                  *pair_keys("gäller nya")})  # each once
    assert pair_keys("ost") == pair_keys("") == []  # a pair is two words of one field, never across two
    assert pair_keys("gäller", "bob") == []
    assert pair_keys("avtalet nya") != pair_keys("nya avtalet")  # in that order


def test_keywords_phrases_and_exclusions():
    query = parse('from:anna to:"Bo Ek" subject:Offert "nya avtalet" -nyhetsbrev -"gratis frakt" zebra '
                  'has:attachment is:unread kl:15')
    assert query.terms == [Term(("anna",), "sender", text="anna"), Term(("bo", "ek"), "recipients", True, "Bo Ek"),
                           Term(("offert",), "subject", text="Offert"), Term(("nya", "avtalet"), None, True,
                                                                             "nya avtalet"),
                           Term(("zebra",), text="zebra"), Term(("kl", "15"), text="kl:15")]
    assert query.excluded == [Term(("nyhetsbrev",), text="nyhetsbrev"), Term(("gratis", "frakt"), None, True,
                                                                             "gratis frakt")]
    assert query.flags == {"attachment", "unread"}
    assert query.free_text == ["nya avtalet", "zebra", "kl:15"]
    assert fts_match(query.terms[:1] + query.terms[3:5]) == 'sender : ("anna"*) AND ("nya avtalet") AND ("zebra"*)'
    # PostgreSQL's index is asked for the words (a phrase's whole); fields and phrases are checked in the text
    assert ts_query(query.terms[:2]) == "'anna':* & 'bo' & 'ek'"
    assert ts_query(parse("anna_berg x").terms) == "'anna':* & 'berg':* & 'x'"  # its words are cut at _


def test_swedish_keywords_and_dates_in_each_language():
    swedish = parse("från:anna ämne:offert har:bilaga är:oläst efter:2026-03-01 före:2026-12-07", "sv_SE")
    assert [(t.column, t.words) for t in swedish.terms] == [("sender", ("anna",)), ("subject", ("offert",))]
    assert swedish.flags == {"attachment", "unread"}
    assert (swedish.after, swedish.before) == (date(2026, 3, 1), date(2026, 12, 7))
    assert parse("after:07/12/2026", "en_GB").after == date(2026, 12, 7)  # as English dates are shown
    assert parse("before:someday").terms[0].text == "before:someday"  # not a date: searched as words


STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_a_day_starts_where_the_user_is():
    assert _utc(date(2026, 7, 1), STOCKHOLM) == datetime(2026, 6, 30, 22)
    assert _utc(date(2026, 1, 1), STOCKHOLM) == datetime(2025, 12, 31, 23)
