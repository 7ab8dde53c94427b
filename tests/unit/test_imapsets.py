"""UID sets written compactly, a server's ranges read without expanding them, and which untagged
responses from IDLE or NOOP mean the mailbox changed."""

from __future__ import annotations

import time

import pytest

from mailcore.connect import mailbox_changed
from mailcore.imapsets import MAX_UID, copied_uids, merged, parse_ranges, uid_set, vanished_uids


@pytest.mark.parametrize("uids,expected", [
    ([], ""),
    ([7], "7"),
    ([1, 2, 3], "1:3"),
    ([5, 1, 2, 3, 7, 8, 10, 2], "1:3,5,7:8,10"),
    (range(1, 501), "1:500"),
    ([*range(1, 501), 502], "1:500,502"),
    ([MAX_UID, MAX_UID - 1], f"{MAX_UID - 1}:{MAX_UID}"),
    ({9, 3}, "3,9"),
])
def test_uid_sets_are_short_ranges(uids, expected):
    assert uid_set(uids) == expected


@pytest.mark.parametrize("text,expected", [
    ("", []),
    ("7", [(7, 7)]),
    ("1:5,7", [(1, 5), (7, 7)]),
    ("7,1:3", [(1, 3), (7, 7)]),
    ("5:1", [(1, 5)]),  # RFC 3501: either order
    ("3 , 4", [(3, 3), (4, 4)]),
    ("*", [(MAX_UID, MAX_UID)]),
    ("1:*", [(1, MAX_UID)]),
    ("0,1", [(1, 1)]),  # 0 is no UID
    (f"{MAX_UID + 1},2", [(2, 2)]),  # beyond 32 bits
    ("abc,3,4:x,:,", [(3, 3)]),
])
def test_a_servers_ranges_are_read_as_bounds(text, expected):
    assert parse_ranges(text) == expected


@pytest.mark.parametrize("uids", [[1], [1, 2, 3, 9, 10, 4000, 4001, 4002, MAX_UID], list(range(2, 200, 3))])
def test_a_written_set_reads_back_as_the_same_uids(uids):
    assert {u for low, high in parse_ranges(uid_set(uids)) for u in range(low, high + 1)} == set(uids)


@pytest.mark.parametrize("lines,stored,gone", [
    ([b"(EARLIER) 2:4,9"], range(1, 11), {2, 3, 4, 9}),
    (["(EARLIER) 2:4,9"], range(1, 11), {2, 3, 4, 9}),
    ([b"VANISHED 5"], [4, 5, 6], {5}),
    ([b"VANISHED (EARLIER) 300:500"], [4, 5, 6], set()),
    ([b"3", b"5:6"], [3, 4, 5, 6, 7], {3, 5, 6}),
    ([b"(earlier) *"], [1, MAX_UID], {MAX_UID}),
    ([b"(EARLIER) nonsense"], [1, 2], set()),
    ([], [1, 2], set()),
])
def test_vanished_names_only_stored_uids(lines, stored, gone):
    assert vanished_uids(lines, stored) == gone


def test_a_hostile_vanished_range_costs_nothing():
    """A server may answer `VANISHED (EARLIER) 1:4294967295`; only the stored UIDs are looked at."""
    stored = [3, 70, 9000, 120_000]
    started = time.perf_counter()
    gone = vanished_uids([b"VANISHED (EARLIER) 1:4294967295"] * 50, stored)
    elapsed = time.perf_counter() - started
    assert gone == set(stored)
    assert elapsed < 0.05, f"{elapsed * 1000:.1f} ms"


@pytest.mark.parametrize("responses,changed", [
    ([(1, b"EXISTS")], True),
    ([(2, b"EXPUNGE")], True),
    ([(3, b"FETCH", (b"FLAGS", (b"\\Seen",)))], True),
    ([(b"VANISHED", 5)], True),
    ([(b"VANISHED", (b"EARLIER",), b"1:3")], True),
    ([(b"OK", b"Still here")], False),
    ([(4, b"RECENT")], False),
    ([(b"OK", b"Still here"), (7, b"EXISTS")], True),
    ([(), b"* BYE", "noise", None], False),
    ([], False),
])
def test_idle_and_noop_answers_that_mean_the_mailbox_changed(responses, changed):
    assert mailbox_changed(responses) is changed


@pytest.mark.parametrize("answers,most,copied", [
    ([b"[COPYUID 38505 304,319:320 3956:3958] Done"], 3, {304: 3956, 319: 3957, 320: 3958}),
    ([None, "[COPYUID 1 5:3 10:12] Moved"], 3, {5: 10, 4: 11, 3: 12}),  # MOVE's untagged OK; a set may run down
    ([b"Done", b"[copyuid 9 7 70] ok"], 1, {7: 70}),
    ([b"Done"], 5, {}),  # no UIDPLUS: no Undo
    ([b"[COPYUID 1 1:3 10:11] x"], 3, {}),  # the sets do not pair up
    ([b"[COPYUID 1 1:4294967295 1:4294967295] x"], 2, {}),  # more than were moved: not expanded
    ([b"[COPYUID 1 1,2,3 4,5,6] x"], 2, {}),
])
def test_where_moved_messages_went_is_read_from_copyuid_only_for_what_was_moved(answers, most, copied):
    started = time.perf_counter()
    assert copied_uids(answers, most) == copied
    assert time.perf_counter() - started < 0.1


def test_many_overlapping_vanished_ranges_are_merged_before_they_are_looked_up():
    """A 1 MB VANISHED line of overlapping ranges against 20,000 stored messages: one pass, not one
    per range (it took more than a minute of CPU when each range was looked up on its own)."""
    stored = range(1, 20_001)
    line = b"VANISHED (EARLIER) " + b",".join([b"1:20000"] * 130_000)
    assert len(line) > 1_000_000
    started = time.process_time()
    gone = vanished_uids([line], stored)
    assert time.process_time() - started < 2.0
    assert gone == set(stored)


def test_vanished_ranges_past_the_cap_are_left_for_a_later_full_check():
    lines = [b"VANISHED " + b",".join(b"%d" % uid for uid in range(1, 11))]
    assert vanished_uids(lines, range(1, 100), most=4) == {1, 2, 3, 4}
    assert merged([(5, 9), (1, 3), (4, 4), (12, 20), (13, 14)]) == [(1, 9), (12, 20)]
