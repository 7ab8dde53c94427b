"""What the inbox shows when a contact with the mail server failed: the account's state is recorded
at once (so the list's poll shows it wherever the user is), a server that does not answer is one calm
status line with the time of the next try, and an action that needed the server says it changed nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from mailcore import errors
from mailcore.envelope import as_utc
from mailcore.models import Account, SyncState, utcnow
from mailcore.sync.engine import record_failure

from .explain import Explanation, explain

# failures of the contact itself (not of one command): they say how the server is, for every action
CONTACT_FAILURES = (errors.ConnectionRefused, errors.ConnectionTimedOut, errors.HostNotFound,
                    errors.AuthenticationFailed, errors.ProviderAlert, errors.SignInAgain, errors.SignInServiceFailed)
NOT_ANSWERING = (errors.ConnectionRefused, errors.ConnectionTimedOut, errors.HostNotFound, errors.SignInServiceFailed)


def note_failure(account: Account, exc: errors.MailError) -> None:
    """A contact with the incoming server failed during an action: the account's state says so now,
    as a failed sync would (the caller commits). An account already in a failed state keeps its back-off."""
    if (isinstance(exc, CONTACT_FAILURES) and exc.side != errors.OUTGOING
            and not SyncState(account.sync_state).failed):
        record_failure(account, exc)


def state_key(account: Account) -> str:
    """What the list's poll compares: it answers with the page's state when this changed (a failure,
    another try that failed, the server back, a sign-in refused)."""
    return f"{account.sync_state}.{account.sync_failures or 0}"


@dataclass
class Away:
    """The status line of an account whose server does not answer."""

    host: str
    seconds: int | None  # till the next try, when it is within two minutes
    minutes: int = 0
    sign_in_service: bool = False


def away_of(account: Account) -> Away | None:
    if account.sync_state != SyncState.UNREACHABLE:
        return None
    wait = (as_utc(account.next_sync_at) - as_utc(utcnow())).total_seconds() if account.next_sync_at else 0
    wait = max(0, math.ceil(wait))
    return Away(account.imap_host, wait if wait < 120 else None, max(1, round(wait / 60)),
                sign_in_service=account.last_error_kind == errors.SignInServiceFailed.code)


def not_answering(exc: errors.MailError) -> bool:
    return isinstance(exc, NOT_ANSWERING) and exc.side != errors.OUTGOING


def said(exc: errors.MailError) -> Explanation:
    """A failure of a server that worked before, by what happened: one that does not answer is not a
    question of names and ports (those are for setting up)."""
    if isinstance(exc, NOT_ANSWERING):
        return Explanation(_("Cannot reach %(host)s. Try again when it answers.", host=exc.host), unreachable=True)
    return explain(exc)


def unhandled(session: Session, account: Account | None, exc: errors.MailError) -> Explanation:
    """A failure a view did not handle itself (opening a reply to a message not stored yet): recorded
    like any other, and said by what happened."""
    session.rollback()
    if account is not None and exc.side == errors.INCOMING:
        note_failure(account, exc)
        session.commit()
    return said(exc)


def action_problem(exc: errors.MailError) -> Explanation:
    """Why an action changed nothing: the server did not answer, or it refused."""
    if not_answering(exc):
        return Explanation(_("%(host)s cannot be reached, so nothing was changed. Try again when it answers.",
                             host=exc.host), unreachable=True)
    return explain(exc)


def action_failed(session: Session, account: Account, exc: errors.MailError) -> Explanation:
    """An action that needed the server failed: nothing it began is kept, the account's state is
    recorded, and the list says why nothing was changed."""
    session.rollback()
    note_failure(account, exc)
    session.commit()
    return action_problem(exc)
