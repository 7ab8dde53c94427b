"""How long an account waits before its server is tried again, by what failed, and the status line's
words for that wait (blueprints/failures.py); no servers."""

from __future__ import annotations

from datetime import UTC, datetime

from mailcore import clock, errors
from mailcore.models import Account, SyncState
from mailcore.sync.engine import record_failure

MOMENT = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def waits(exc: errors.MailError, times: int) -> list[float]:
    account = Account(sync_state=SyncState.OK, sync_failures=0)
    found = []
    with clock.fixed(MOMENT):
        for _ in range(times):
            record_failure(account, exc)
            found.append((account.next_sync_at - MOMENT).total_seconds())
    return found


def test_a_server_that_does_not_answer_is_tried_again_sooner_than_a_refused_login():
    assert waits(errors.ConnectionRefused(side=errors.INCOMING), 5) == [30, 60, 120, 240, 480]
    assert waits(errors.ConnectionTimedOut(side=errors.INCOMING), 1) == [30]
    assert waits(errors.AuthenticationFailed(side=errors.INCOMING), 4) == [60, 120, 240, 480]
    assert waits(errors.ConnectionRefused(), 40)[-1] == 3600  # at most an hour, however long it lasts


def test_the_state_says_what_happened():
    account = Account(sync_state=SyncState.OK, sync_failures=0)
    for exc, state in ((errors.ConnectionRefused(), SyncState.UNREACHABLE), (errors.TlsFailed(), SyncState.ERROR),
                       (errors.AuthenticationFailed(), SyncState.AUTH), (errors.SignInAgain(), SyncState.SIGN_IN),
                       (errors.HostNotFound(), SyncState.UNREACHABLE)):
        assert record_failure(account, exc) == state and account.last_error_kind == exc.code
