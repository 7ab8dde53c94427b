"""The synchronised inbox against the real Dovecot: after every change and every fault, the database
equals the server."""

from __future__ import annotations

import json
import random
import time

import pytest
from sqlalchemy import func, select

from mailcore.models import Account, Folder, Message, User
from mailcore.sync.engine import AccountSync
from mailcore.sync.jobs import SyncJob, ThreadRunner

from .helpers import Browser, connect_account, connected, eventually, make_user, message, on_server, stored, sync, text


def test_first_sync_equals_the_server(app, lab, mailbox):
    account_id = connect_account(app, lab, mailbox)
    summary = sync(app, account_id)
    assert summary.state == "ok" and summary.fetched == 3
    assert stored(app, account_id) == on_server(lab, mailbox.address)
    with app.extensions["mail"].sessions() as db:
        roles = {f.name: f.role for f in db.scalars(select(Folder).where(Folder.account_id == account_id))}
        inbox = db.scalar(select(Folder).where(Folder.account_id == account_id, Folder.role == "inbox"))
        assert (inbox.total, inbox.unread, inbox.complete) == (3, 2, True)
        assert inbox.uidvalidity and inbox.uidnext and inbox.highestmodseq
    assert roles["INBOX"] == "inbox" and roles["Sent"] == "sent" and roles["Drafts"] == "drafts"
    assert roles["Trash"] == "trash" and roles["Junk"] == "junk"


def test_later_syncs_cost_what_changed(app, lab, mailbox):
    account_id = connect_account(app, lab, mailbox)
    sync(app, account_id)
    with app.extensions["mail"].sessions() as db:
        version = db.scalar(select(Folder.version).where(Folder.account_id == account_id, Folder.role == "inbox"))
    unchanged = sync(app, account_id)
    assert unchanged.fetched == 0
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(Folder.version).where(Folder.account_id == account_id,
                                                      Folder.role == "inbox")) == version

    uids = sorted(on_server(lab, mailbox.address))
    lab.set_flags(mailbox.address, "INBOX", [uids[0]], [b"\\Seen", b"\\Flagged"])
    lab.set_flags(mailbox.address, "INBOX", [uids[1]], [b"\\Seen"], add=False)
    lab.expunge(mailbox.address, "INBOX", [uids[2]])
    lab.append(mailbox.address, message("Ny order 4711"))
    changed = sync(app, account_id)
    assert changed.fetched == 1  # only the new message's summary travels
    assert stored(app, account_id) == on_server(lab, mailbox.address)


def test_a_moved_message_leaves_one_folder_and_arrives_in_another(app, lab, mailbox):
    account_id = connect_account(app, lab, mailbox)
    sync(app, account_id)
    uid = sorted(on_server(lab, mailbox.address))[0]
    lab.move(mailbox.address, "INBOX", [uid], "Archive")
    sync(app, account_id)
    assert stored(app, account_id) == on_server(lab, mailbox.address)
    assert stored(app, account_id, "Archive") == on_server(lab, mailbox.address, "Archive")
    assert len(stored(app, account_id, "Archive")) == 1


def test_a_folder_deleted_and_recreated_is_rebuilt(app, lab, mailbox):
    account_id = connect_account(app, lab, mailbox)
    lab.create_folder(mailbox.address, "Projekt Våren")
    lab.append(mailbox.address, message("Gammal plan"), folder="Projekt Våren")
    sync(app, account_id)
    assert [s for _, _, s in stored(app, account_id, "Projekt Våren").values()] == ["Gammal plan"]
    lab.delete_folder(mailbox.address, "Projekt Våren")
    lab.create_folder(mailbox.address, "Projekt Våren")
    lab.append(mailbox.address, message("Ny plan"), folder="Projekt Våren")
    sync(app, account_id)
    assert stored(app, account_id, "Projekt Våren") == on_server(lab, mailbox.address, "Projekt Våren")
    assert [s for _, _, s in stored(app, account_id, "Projekt Våren").values()] == ["Ny plan"]
    lab.delete_folder(mailbox.address, "Projekt Våren")
    sync(app, account_id)
    assert stored(app, account_id, "Projekt Våren") == {}


def test_an_interrupted_first_sync_resumes_without_loss_or_duplicates(app_config, lab, mailbox):
    from app import create_app
    from localmail.proxy import FaultProxy

    lab.bulk_load(mailbox.address, 1500, seed=7)
    proxy = FaultProxy("127.0.0.1", lab.imap_tls_port)
    try:
        app = create_app(dict(app_config, MAIL_ALLOWED_PORTS=f"{app_config['MAIL_ALLOWED_PORTS']} {proxy.port}"))
        account_id = connect_account(app, lab, mailbox, port=proxy.port)
        rng = random.Random(1234)
        cuts = 0
        for _ in range(12):
            proxy.cut_after(rng.randint(2_000, 200_000))
            summary = sync(app, account_id, "INBOX")
            if summary.state == "ok":
                break
            cuts += 1
            assert summary.state == "unreachable"
            with app.extensions["mail"].sessions() as db:  # a new attempt need not wait for the back-off
                db.get(Account, account_id).next_sync_at = None
                db.commit()
        proxy.cut_after(None)
        assert sync(app, account_id, "INBOX").state == "ok"
        assert cuts >= 1
        server = on_server(lab, mailbox.address)
        assert len(server) == 1503
        assert stored(app, account_id) == server
        with app.extensions["mail"].sessions() as db:
            assert db.scalar(select(func.count(Message.id))) == 1503  # no duplicates anywhere
    finally:
        proxy.stop()


def test_changes_by_another_client_during_a_first_sync(app, lab, mailbox):
    lab.bulk_load(mailbox.address, 600, seed=5)
    account_id = connect_account(app, lab, mailbox)
    uids = sorted(on_server(lab, mailbox.address))
    done = []

    def meanwhile(folder):  # after the first batch has landed, another client changes old and new mail
        if folder.role == "inbox" and not done:
            done.append(True)
            lab.expunge(mailbox.address, "INBOX", uids[:5] + uids[-3:])
            lab.set_flags(mailbox.address, "INBOX", uids[10:20], [b"\\Flagged", b"\\Seen"])
            lab.set_flags(mailbox.address, "INBOX", uids[-10:-5], [b"\\Seen"], add=False)
            lab.append(mailbox.address, message("Medan synken pågick"))

    mail = app.extensions["mail"]
    AccountSync(mail, batch=100, first_batch=20,
                on_batch=meanwhile).run(account_id)
    assert done
    sync(app, account_id)
    assert stored(app, account_id) == on_server(lab, mailbox.address)


def test_the_server_stopped_and_started_again(app, lab, mailbox):
    account_id = connect_account(app, lab, mailbox)
    sync(app, account_id)
    lab.stop_imap()
    try:
        down = sync(app, account_id)
    finally:
        lab.start_imap()
    assert down.state == "unreachable"
    with app.extensions["mail"].sessions() as db:
        account = db.get(Account, account_id)
        assert account.sync_failures == 1 and account.next_sync_at > account.last_error_at
    lab.append(mailbox.address, message("Efter omstarten"))
    assert sync(app, account_id).state == "ok"
    assert stored(app, account_id) == on_server(lab, mailbox.address)
    with app.extensions["mail"].sessions() as db:
        assert db.get(Account, account_id).sync_failures == 0


def test_backoff_grows_and_never_hammers(app, lab, mailbox):
    account_id = connect_account(app, lab, mailbox)
    lab.set_password(mailbox.address, "changed-elsewhere-2")
    try:
        waits = []
        for _ in range(4):
            summary = sync(app, account_id)
            assert summary.state == "auth"
            with app.extensions["mail"].sessions() as db:
                account = db.get(Account, account_id)
                waits.append(round((account.next_sync_at - account.last_error_at).total_seconds() / 60))
    finally:
        lab.set_password(mailbox.address, mailbox.password)
    assert waits == [1, 2, 4, 8]


def test_awkward_messages_are_all_listed(app, lab, mailbox):
    corpus = lab.load_awkward(mailbox.address)
    account_id = connect_account(app, lab, mailbox)
    started = time.monotonic()
    summary = sync(app, account_id)
    assert summary.state == "ok"
    assert time.monotonic() - started < 20
    assert len(stored(app, account_id)) == 3 + len(corpus)
    assert stored(app, account_id).keys() == on_server(lab, mailbox.address).keys()
    with app.extensions["mail"].sessions() as db:
        subjects = set(db.scalars(select(Message.subject)))
        names = set(db.scalars(select(Message.sender_name)))
    assert any("Å" in s or "å" in s or "ö" in s for s in subjects)
    assert not any("\x00" in n for n in names)
    assert max(len(s) for s in subjects) <= 1000


def test_sync_now_prints_a_summary(app, lab, mailbox):
    account_id = connect_account(app, lab, mailbox)
    result = app.test_cli_runner().invoke(args=["sync", "now", "--user", mailbox.address])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["account_id"] == account_id and summary["state"] == "ok"
    assert summary["messages"] == 3 and summary["folders"] >= 6 and summary["seconds"] > 0


def test_one_sync_per_account_at_a_time(app, lab, mailbox):
    import threading

    lab.bulk_load(mailbox.address, 800, seed=3)
    account_id = connect_account(app, lab, mailbox)
    results = []
    threads = [threading.Thread(target=lambda: results.append(sync(app, account_id).state)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("ok") >= 1 and set(results) <= {"ok", "busy"} and "busy" in results
    assert len(stored(app, account_id)) == 803


def test_a_sync_longer_than_its_lease_keeps_it_to_the_end(app, lab, mailbox):
    """Each batch takes longer than the whole lease: the lease is renewed beside the sync, so a
    second sync started meanwhile finds the account busy, and the first one finishes the job."""
    from datetime import timedelta

    lab.bulk_load(mailbox.address, 300, seed=4)
    account_id = connect_account(app, lab, mailbox)
    mail = app.extensions["mail"]
    others = []

    def slow(folder):
        time.sleep(0.5)
        if folder.role == "inbox" and len(others) < 2:
            others.append(AccountSync(mail, lease=timedelta(seconds=0.4)).run(account_id).state)

    summary = AccountSync(mail, batch=100, first_batch=20, lease=timedelta(seconds=0.4), on_batch=slow).run(account_id)
    assert summary.state == "ok" and others == ["busy", "busy"]
    assert stored(app, account_id) == on_server(lab, mailbox.address)
    with mail.sessions() as db:
        assert db.get(Account, account_id).sync_owner is None  # released at the end


def test_new_mail_arrives_through_idle(app, lab, mailbox):
    account_id = connect_account(app, lab, mailbox)
    mail = app.extensions["mail"]
    mail.run_job(SyncJob(account_id))
    runner = ThreadRunner(mail, workers=1, tick=0.5).start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not runner.watcher.watched:
            time.sleep(0.1)
        assert eventually(lambda: lab.in_idle(mailbox.address), 10)  # the watcher is in IDLE now
        lab.append(mailbox.address, message("Kom via IDLE"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(s == "Kom via IDLE" for _, _, s in stored(app, account_id).values()):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the new message did not arrive within 10 s")
    finally:
        runner.stop()


# --- the list --------------------------------------------------------------------------------------


@pytest.fixture
def listed(app, lab, mailbox):
    lab.bulk_load(mailbox.address, 120, seed=11)
    return connected(app, mailbox)


def test_the_list_pages_by_infinite_scroll(listed, app):
    import re

    rows = re.compile(r'<li class="message[ "]')
    first = listed.get("/inbox/").get_data(as_text=True)
    assert len(rows.findall(first)) == 50
    cursor = re.search(r'hx-get="(/inbox/list\?[^"]+)"', first).group(1).replace("&amp;", "&")
    second = listed.get(cursor, htmx=True).get_data(as_text=True)
    assert len(rows.findall(second)) == 50
    ids = lambda html: set(re.findall(r"/inbox/message/(\d+)", html))  # noqa: E731
    assert not ids(first) & ids(second)


def test_search_and_sort_in_the_open_folder(listed, app, lab, mailbox):
    lab.append(mailbox.address, message("Unikt ämne zebra", "Östen Ärlig <osten@example.test>"))
    listed.post("/inbox/refresh")
    response = listed.get("/inbox/?q=zebra", headers={"HX-Request": "true", "HX-Target": "listing"})
    found = text(response)
    assert "Unikt ämne zebra" in found and "Östen Ärlig" in found
    assert len(re.findall(r'<li class="message[ "]', response.get_data(as_text=True))) == 1
    html = listed.get("/inbox/?sort=subject-asc").get_data(as_text=True)
    subjects = re.findall(r'<span class="subject">(?:<svg.*?</svg>)?([^<]*)</span>', html)
    assert subjects == sorted(subjects)


import re  # noqa: E402


def test_changes_cost_nothing_until_something_changed(listed, app, lab, mailbox):
    page = listed.get("/inbox/").get_data(as_text=True)
    poll = re.search(r'hx-get="(/inbox/changes\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert listed.get(poll, htmx=True).status_code == 204
    lab.append(mailbox.address, message("Helt ny"))
    listed.post("/inbox/refresh")
    changed = listed.get(poll, htmx=True)
    assert changed.status_code == 200 and "Helt ny" in text(changed)


def test_the_reading_pane_shows_the_text(listed, app):
    html = listed.get("/inbox/").get_data(as_text=True)
    message_id = re.search(r"/inbox/message/(\d+)", html).group(1)
    pane = listed.get(f"/inbox/message/{message_id}", htmx=True)
    assert pane.status_code == 200 and 'class="body text"' in pane.get_data(as_text=True)
    with app.extensions["mail"].sessions() as db:
        assert db.get(Message, int(message_id)).body_text  # kept for the next time


def test_another_users_folders_and_messages_answer_404(listed, app, lab):
    html = listed.get("/inbox/").get_data(as_text=True)
    message_id = re.search(r"/inbox/message/(\d+)", html).group(1)
    with app.extensions["mail"].sessions() as db:
        folder_id = db.scalar(select(Folder.id).where(Folder.role == "inbox"))
    other_box = "stranger@inkorg.test"
    lab.add_user(other_box, "stranger-pw-1")
    make_user(app, other_box, name="Stranger")
    other = Browser(app.test_client())
    other.sign_in(other_box, "crm-password-1")
    other.post("/inbox/setup/login", {"address": other_box, "password": "stranger-pw-1"})
    assert other.get(f"/inbox/message/{message_id}", htmx=True).status_code == 404
    refused = other.get(f"/inbox/?folder={folder_id}")  # not theirs: their own inbox, as for a folder that is gone
    assert refused.status_code == 303 and refused.headers["Location"] == "/inbox/"
    assert other.get(f"/inbox/list?folder={folder_id}", htmx=True).status_code == 404
    assert other.get(f"/inbox/?message={message_id}").status_code == 404


def test_removing_the_account_removes_everything_synced(listed, app):
    assert listed.post("/settings/email-account/remove").status_code == 204
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(func.count(Message.id))) == 0
        assert db.scalar(select(func.count(Folder.id))) == 0
        assert db.scalar(select(func.count(User.id))) == 1


def test_a_separate_sync_worker_process_picks_up_requests(app, app_config, lab, mailbox):
    """SYNC_MODE=external: the web app only asks, through the database; `flask sync worker` syncs."""
    import os
    import subprocess
    import sys

    account_id = connect_account(app, lab, mailbox)
    env = dict(os.environ, INSTANCE_PATH=app_config["INSTANCE_PATH"], DATABASE_URL=app_config["DATABASE_URL"],
               SECRET_KEY=app_config["SECRET_KEY"], MAIL_CA_BUNDLE=app_config["MAIL_CA_BUNDLE"],
               MAIL_ALLOWED_NETWORKS=app_config["MAIL_ALLOWED_NETWORKS"],
               MAIL_ALLOWED_PORTS=app_config["MAIL_ALLOWED_PORTS"], SYNC_MODE="external")
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "sync", "worker", "--workers", "1"],
                              cwd=os.path.dirname(os.path.dirname(__file__)), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        app.extensions["mail"].runner = None  # as in SYNC_MODE=external: only the database carries the request
        app.extensions["mail"].request_sync(account_id)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(stored(app, account_id)) < 3:
            time.sleep(0.2)
        assert stored(app, account_id) == on_server(lab, mailbox.address)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=10)[0].decode()
    assert "sync worker running" in output
