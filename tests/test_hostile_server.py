"""No mail server can take the process down: huge ranges, lying sizes, a 2 GB literal, a server that
trickles a byte at a time and one that answers with endless junk each end in an explained failure
within the deadline, in bounded memory, while the web app keeps answering."""

from __future__ import annotations

import resource
import threading
import time

import pytest
from sqlalchemy import select

from localmail.hostile_imap import HostileImap
from mailcore import services
from mailcore.models import Account, Message, SyncState
from mailcore.settings import AccountSettings, Credentials, ServerSettings
from mailcore.sync.jobs import SyncJob

from .helpers import Browser, make_user

DEADLINE = 3.0  # MAIL_DEADLINE for these tests: each answer must be complete within it


@pytest.fixture
def hostile(request, lab, app_config):
    server = HostileImap(lab.host, lab.tls_files.trusted, request.param)
    app_config["MAIL_ALLOWED_PORTS"] += f" {server.port}"
    app_config["MAIL_DEADLINE"] = DEADLINE
    yield server
    server.stop()


@pytest.fixture
def hostile_app(hostile, app_config):
    from app import create_app

    return create_app(app_config)


def _connect(app, lab, hostile, mailbox) -> tuple[int, services.CheckResult]:
    """The mailbox's account, its incoming side on the hostile server (which takes any login)."""
    mail = app.extensions["mail"]
    make_user(app, mailbox.address)
    with mail.sessions() as db:
        user = services.user_by_email(db, mailbox.address)
        incoming = ServerSettings(lab.hostname, hostile.port, True, mailbox.address)
        outgoing = ServerSettings(lab.hostname, lab.smtp_tls_port, True, mailbox.address)
        result = services.MailService(db, mail).connect(
            user, AccountSettings(mailbox.address, incoming, outgoing), Credentials(mailbox.password, mailbox.password))
        return (user.account.id if user.account else 0), result


def _while_web_answers(app, work) -> tuple[float, list[float], object]:
    """Runs `work` in a thread; meanwhile the web app must answer a page within a second, every time."""
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    started = time.monotonic()
    thread.start()
    client = app.test_client()
    answers = []
    while thread.is_alive() and time.monotonic() - started < DEADLINE * 6:
        asked = time.monotonic()
        assert client.get("/signin").status_code == 200
        answers.append(time.monotonic() - asked)
        time.sleep(0.2)
    thread.join(timeout=DEADLINE * 6)
    assert not thread.is_alive(), "the hostile server still holds the worker"
    return time.monotonic() - started, answers, outcome[0] if outcome else None


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("hostile", ["huge-range", "huge-literal", "trickle"], indirect=True)
def test_a_hostile_server_cannot_hold_or_exhaust_a_sync(hostile_app, lab, hostile, mailbox):
    app = hostile_app
    account_id, result = _connect(app, lab, hostile, mailbox)
    assert result.ok, result
    mail = app.extensions["mail"]
    if hostile.behaviour == "huge-range":
        assert mail.run_job(SyncJob(account_id)).state == SyncState.OK  # the first sync lists 3 messages
    before = _peak_mb()
    seconds, answers, summary = _while_web_answers(app, lambda: mail.run_job(SyncJob(account_id)))
    assert seconds < DEADLINE * 3
    assert answers and max(answers) < 1.0
    assert _peak_mb() - before < 200
    with mail.sessions() as db:
        account = db.get(Account, account_id)
        stored = db.scalars(select(Message.uid)).all()
    if hostile.behaviour == "huge-range":
        assert summary.state == SyncState.OK and stored == []  # the three it named are gone, nothing else
    else:
        assert summary.state == SyncState.UNREACHABLE and account.sync_state == SyncState.UNREACHABLE


@pytest.mark.parametrize("hostile", ["lying-size"], indirect=True)
def test_a_lying_size_cannot_make_a_body_fetch_unbounded(hostile_app, lab, hostile, mailbox):
    app = hostile_app
    account_id, result = _connect(app, lab, hostile, mailbox)
    assert result.ok, result
    mail = app.extensions["mail"]
    assert mail.run_job(SyncJob(account_id)).state == SyncState.OK
    with mail.sessions() as db:
        message_id = db.scalars(select(Message.id)).first()
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    before = _peak_mb()
    seconds, answers, page = _while_web_answers(app, lambda: browser.get(f"/inbox/message/{message_id}", htmx=True))
    assert page.status_code == 200 and "Hello 1" in page.get_data(as_text=True)  # what the list knows
    assert seconds < DEADLINE * 3 and answers and max(answers) < 1.0
    assert _peak_mb() - before < 200


@pytest.mark.parametrize("hostile", ["garbage"], indirect=True)
def test_junk_after_the_greeting_is_a_clear_failure(hostile_app, lab, hostile, mailbox):
    seconds, answers, outcome = _while_web_answers(hostile_app, lambda: _connect(hostile_app, lab, hostile, mailbox))
    _account_id, result = outcome
    assert seconds < DEADLINE * 3 and answers and max(answers) < 1.0
    assert result.incoming is not None and result.incoming.code == "protocol-failure"
