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
    assert answers and max(answers) < 2.0  # the web answers meanwhile (a busy 2-core machine included)
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


# --- a request a person waits on has one budget --------------------------------------------------

BUDGET = 2.0  # MAIL_REQUEST_BUDGET for these tests; each answer alone would get a minute


@pytest.fixture
def budget_app(hostile, app_config):
    from app import create_app

    app_config.update(MAIL_DEADLINE=60.0, MAIL_REQUEST_BUDGET=BUDGET, MAIL_REQUESTS_PER_USER=2)
    return create_app(app_config)


def _listed_message(app, lab, hostile, mailbox) -> tuple[int, Browser]:
    """The hostile account connected and listed (its list fetch is an honest one); the first message's
    id and a browser signed in as its user."""
    account_id, result = _connect(app, lab, hostile, mailbox)
    assert result.ok, result
    mail = app.extensions["mail"]
    assert mail.run_job(SyncJob(account_id)).state == SyncState.OK
    with mail.sessions() as db:
        message_id = db.scalars(select(Message.id).order_by(Message.uid)).first()
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    return message_id, browser


@pytest.mark.parametrize("hostile", ["trickle-body"], indirect=True)
def test_opening_a_message_ends_within_the_request_budget(budget_app, lab, hostile, mailbox):
    """However the server draws out or inflates its answer, the pane answers within the budget with what
    the list knows, in bounded memory, and the app keeps answering meanwhile."""
    app = budget_app
    message_id, browser = _listed_message(app, lab, hostile, mailbox)
    before = _peak_mb()
    seconds, answers, page = _while_web_answers(app, lambda: browser.get(f"/inbox/message/{message_id}", htmx=True))
    assert page.status_code == 200 and "Hello 1" in page.get_data(as_text=True)
    assert seconds < BUDGET + 1.5 and answers and max(answers) < 1.0
    assert _peak_mb() - before < 200


@pytest.mark.parametrize("hostile", ["trickle-body"], indirect=True)
def test_a_user_has_only_a_few_requests_at_their_server_at_once(budget_app, lab, hostile, mailbox):
    """Two openings hang on the user's slow server; a third is told to wait at once, in the user's
    language, while another user's server is not affected."""
    from localmail.waits import eventually

    from .helpers import Mailbox, connect_account

    app = budget_app
    message_id, browser = _listed_message(app, lab, hostile, mailbox)
    with app.extensions["mail"].sessions() as db:
        user_id = services.user_by_email(db, mailbox.address).id
    others = [Browser(app.test_client()) for _ in range(2)]
    for other in others:
        other.sign_in(mailbox.address, "crm-password-1")
    hanging = [threading.Thread(target=other.get, args=(f"/inbox/message/{message_id}",),
                                kwargs={"htmx": True}, daemon=True) for other in others]
    for thread in hanging:
        thread.start()
    gate = app.extensions["mail"].gate
    eventually(lambda: gate.held(user_id) == 2, seconds=BUDGET)
    asked = time.monotonic()
    refused = browser.get(f"/inbox/message/{message_id}", htmx=True)
    assert time.monotonic() - asked < 0.5
    assert refused.status_code == 200 and "Wait a moment and try again" in refused.get_data(as_text=True)
    # another user, on the lab's Dovecot, reads a message meanwhile
    neighbour = Mailbox(f"neighbour-{user_id}@inkorg.test", "neighbour-password-1")
    lab.add_user(neighbour.address, neighbour.password)
    lab.append(neighbour.address, b"From: a@b.test\r\nSubject: Next door\r\n\r\nHej\r\n")
    assert mail_sync(app, connect_account(app, lab, neighbour)) == SyncState.OK
    with app.extensions["mail"].sessions() as db:
        theirs = db.scalars(select(Message.id).where(Message.subject == "Next door")).one()
    next_door = Browser(app.test_client())
    next_door.sign_in(neighbour.address, "crm-password-1")
    asked = time.monotonic()
    assert "Hej" in next_door.get(f"/inbox/message/{theirs}", htmx=True).get_data(as_text=True)
    assert time.monotonic() - asked < 1.0
    for thread in hanging:
        thread.join(timeout=BUDGET + 2)
        assert not thread.is_alive()
    assert gate.held(user_id) == 0  # the places are given back when the requests end


@pytest.mark.parametrize("hostile", ["many-literals", "many-lines"], indirect=True)
def test_an_answer_past_its_bytes_or_lines_is_refused_long_before_the_budget(hostile, app_config, lab, mailbox,
                                                                             monkeypatch):
    """Any number of literals or untagged lines in one answer: the answer's limits end the opening long
    before a generous budget would, in bounded memory, and the pane shows what the list knows."""
    from app import create_app
    from mailcore import connect

    monkeypatch.setattr(connect, "MAX_IMAP_LINES", 20_000)  # 250,000 in use: the same refusal, sooner
    app_config.update(MAIL_DEADLINE=60.0, MAIL_REQUEST_BUDGET=30.0)
    app = create_app(app_config)
    message_id, browser = _listed_message(app, lab, hostile, mailbox)
    before = _peak_mb()
    seconds, answers, page = _while_web_answers(app, lambda: browser.get(f"/inbox/message/{message_id}", htmx=True))
    assert page.status_code == 200 and "Hello 1" in page.get_data(as_text=True)
    assert seconds < 8 and answers and max(answers) < 1.0
    assert _peak_mb() - before < 200


def mail_sync(app, account_id: int) -> str:
    return app.extensions["mail"].run_job(SyncJob(account_id)).state


# --- IDLE: one account's stream does not stop the others' ----------------------------------------

@pytest.mark.parametrize("hostile", ["idle-flood"], indirect=True)
def test_a_server_streaming_in_idle_is_read_in_turns_and_then_not_watched(hostile_app, lab, hostile, mailbox):
    """The watcher reads a streaming account a bounded turn at a time, so another account's new mail is
    still noticed; past what any real server says in one IDLE, the account is not watched for a while,
    by no watcher, and its Email account tab says so."""
    from localmail.waits import eventually
    from mailcore.sync.watch import Watcher

    from .helpers import Mailbox, connect_account

    app = hostile_app
    mail = app.extensions["mail"]
    hostile_id, result = _connect(app, lab, hostile, mailbox)
    assert result.ok, result
    assert mail.run_job(SyncJob(hostile_id)).state == SyncState.OK
    neighbour = Mailbox(f"watched-{hostile_id}@inkorg.test", "watched-password-1")
    lab.add_user(neighbour.address, neighbour.password)
    neighbour_id = connect_account(app, lab, neighbour)
    assert mail_sync(app, neighbour_id) == SyncState.OK
    changes: list[int] = []
    watcher = Watcher(mail, lease=3, on_change=changes.append, on_adopt=lambda account_id: None)
    stop = threading.Event()
    loop = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    before = _peak_mb()
    loop.start()
    try:
        eventually(lambda: neighbour_id in watcher.watched, 15)
        lab.append(neighbour.address, b"From: a@b.test\r\nSubject: Noticed\r\n\r\nHej\r\n")
        eventually(lambda: neighbour_id in changes, 5)

        def paused():
            with mail.sessions() as db:
                return db.get(Account, hostile_id).watch_paused_until is not None
        eventually(paused, 10)
        eventually(lambda: hostile_id not in watcher.watched and hostile_id not in watcher.leased, 5)
    finally:
        stop.set()
        loop.join(timeout=30)
    assert _peak_mb() - before < 200
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    tab = browser.get("/settings/email-options?tab=account").get_data(as_text=True)
    assert "new email is not watched for until" in tab
