"""The production deployment's parts, run for real: PostgreSQL, Redis and Dramatiq, gunicorn, `flask sync
worker` and `flask sync watch` as separate processes (localmail/services.py starts PostgreSQL and
Redis when they are not running)."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage

import pytest
import requests
from sqlalchemy import select

from localmail import services
from mailcore.models import Account, Folder, Message

from .helpers import MAIL_DOMAIN, connected, eventually, make_user

# PostgreSQL, Redis and the app's own processes, with leases timed in seconds: one test at a time, on
# one pytest-xdist worker.
pytestmark = pytest.mark.xdist_group("deployment")


@pytest.fixture
def deployment(app_config, tmp_path):
    """The app's settings on a fresh PostgreSQL database and a Redis database of its own, in queue mode."""
    with services.fresh_database() as url:
        yield dict(app_config, DATABASE_URL=url, SYNC_MODE="queue", QUEUE_URL=services.fresh_queue_url())


def process_env(config: dict, **extra) -> dict[str, str]:
    """What the app's other processes need to see the same installation (instance folder, keys)."""
    names = ("INSTANCE_PATH", "DATABASE_URL", "MAIL_CA_BUNDLE", "MAIL_PROVIDERS_FILE", "MAIL_ALLOWED_NETWORKS",
             "MAIL_ALLOWED_PORTS", "MAIL_DNS_SERVER", "SYNC_MODE", "QUEUE_URL", "MAIL_TESTS_PER_5_MINUTES")
    env = {name: str(config[name]) for name in names if name in config}
    env.update({key: str(value) for key, value in extra.items()})
    return env


def message(subject: str) -> EmailMessage:
    new = EmailMessage()
    new["From"], new["To"], new["Subject"] = "Kund <kund@example.se>", "someone@inkorg.test", subject
    new.set_content("Hej!")
    return new


def subjects(app, account_id: int) -> set[str]:
    with app.extensions["mail"].sessions() as db:
        return set(db.scalars(select(Message.subject).join(Folder).where(Folder.account_id == account_id)))


def account_of(app, address: str) -> int:
    with app.extensions["mail"].sessions() as db:
        return db.scalar(select(Account.id).where(Account.address == address))


def last_synced(app, account_id: int):
    from mailcore.models import Folder

    with app.extensions["mail"].sessions() as db:
        return db.scalar(select(Folder.last_synced_at).where(Folder.account_id == account_id, Folder.role == "inbox"))


def test_a_refresh_reaches_a_separate_sync_worker_through_the_queue(deployment, lab, mailbox, tmp_path):
    from app import create_app

    app = create_app(deployment)
    browser = connected(app, mailbox)  # the new account's first sync is sent through the queue
    account_id = account_of(app, mailbox.address)
    assert last_synced(app, account_id) is None  # Save stored the first page; nothing here synced it
    worker = services.AppProcess.flask(["sync", "worker", "--workers", "2"], process_env(deployment),
                                       tmp_path / "worker.log")
    try:
        assert eventually(lambda: last_synced(app, account_id) is not None, 30), worker.output()
        assert len(subjects(app, account_id)) == 3
        lab.append(mailbox.address, message("Kom fram genom kön"))
        assert browser.post("/inbox/refresh").status_code == 200
        assert eventually(lambda: "Kom fram genom kön" in subjects(app, account_id), 15), worker.output()
        with app.extensions["mail"].sessions() as db:  # the queue carried it: the database was not asked
            assert db.get(Account, account_id).next_sync_at.timestamp() > time.time() + 60
    finally:
        worker.stop()
    assert "sync worker running with 2 threads (queue)" in worker.output()
    app.extensions["mail"].engine.dispose()


def test_a_watcher_killed_hands_its_accounts_over(deployment, lab, tmp_path):
    from app import create_app

    from .helpers import Mailbox

    app = create_app(dict(deployment, SYNC_MODE="inline"))  # first syncs here, so every account is OK
    boxes = []
    for number in range(3):
        box = Mailbox(f"watched{number}-{time.monotonic_ns()}@{MAIL_DOMAIN}", f"watched-pw-{number}-Zq7!")
        lab.add_user(box.address, box.password)
        connected(app, box, name=f"Watched {number}")
        boxes.append(box)
    ids = [account_of(app, box.address) for box in boxes]
    env = process_env(deployment, WATCH_LEASE=6)
    worker = services.AppProcess.flask(["sync", "worker", "--workers", "2"], env, tmp_path / "worker.log")
    first = services.AppProcess.flask(["sync", "watch"], env, tmp_path / "watch-1.log")

    def owners() -> dict[int, str | None]:
        with app.extensions["mail"].sessions() as db:
            return dict(db.execute(select(Account.id, Account.watch_owner).where(Account.id.in_(ids))).all())

    second = None
    try:
        assert eventually(lambda: len(set(owners().values()) - {None}) == 1 and None not in owners().values(), 20), \
            first.output()
        held_by_first = next(iter(owners().values()))
        second = services.AppProcess.flask(["sync", "watch"], env, tmp_path / "watch-2.log")
        assert second.wait_for_output("sync watcher", 20), second.output()
        time.sleep(3)
        assert set(owners().values()) == {held_by_first}  # one watcher per account, never two
        first.kill()
        killed_at = time.monotonic()
        assert eventually(lambda: None not in owners().values() and held_by_first not in owners().values(), 60), \
            second.output()
        assert time.monotonic() - killed_at < 15  # the lease (6 s here, 45 s by default) and one renewal
        assert eventually(lambda: all(lab.in_idle(box.address) for box in boxes), 20)  # the new watcher's, in IDLE
        lab.append(boxes[1].address, message("Efter överlämningen"))
        assert eventually(lambda: "Efter överlämningen" in subjects(app, ids[1]), 20), worker.output()
    finally:
        for process in (first, second, worker):
            if process is not None and process.process.poll() is None:
                process.stop()
    app.extensions["mail"].engine.dispose()


def _signed_in(base: str, email: str) -> tuple[requests.Session, str]:
    web = requests.Session()
    page = web.get(f"{base}/signin", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert web.post(f"{base}/signin", data={"email": email, "password": "crm-password-1", "csrf_token": token},
                    allow_redirects=False, timeout=10).status_code == 302
    inbox = web.get(f"{base}/inbox/", timeout=10).text
    return web, re.search(r'"X-CSRFToken": "([^"]+)"', inbox).group(1)


def test_two_web_processes_share_sessions_keys_and_rate_limits(deployment, mailbox, tmp_path):
    """Two gunicorn masters on one fresh instance folder: both make or read the same secret key at
    start, a session signed in on one is valid on the other, and the discovery limit counts both."""
    from app import create_app

    config = dict(deployment, SECRET_KEY=None, MAIL_DISCOVERIES_PER_MINUTE=2)
    env = process_env(config, MAIL_DISCOVERIES_PER_MINUTE=2, SYNC_MODE="external")
    ports = [services.free_port(), services.free_port()]
    webs = [services.AppProcess.gunicorn(port, 1, env, tmp_path / f"web-{port}.log") for port in ports]
    try:
        assert all(services.wait_http(port) for port in ports), [web.output() for web in webs]
        app = create_app(dict(config, SYNC_MODE="external"))
        make_user(app, mailbox.address)
        one, two = (f"http://127.0.0.1:{port}" for port in ports)
        session, token = _signed_in(one, mailbox.address)
        assert "Set up email account" in session.get(f"{two}/inbox/", timeout=10).text  # signed in there too

        def discover(base: str) -> requests.Response:
            return session.post(f"{base}/inbox/setup/next", data={"address": mailbox.address},
                                headers={"X-CSRFToken": token, "HX-Request": "true"}, timeout=20)

        assert discover(one).status_code == 200
        assert discover(two).status_code == 200  # the CSRF token of one process is good on the other
        refused = discover(one)
        assert refused.status_code == 429 and "Too many attempts" in refused.text
        session.cookies.clear()
        assert "/signin" in session.get(f"{two}/inbox/", allow_redirects=False, timeout=10).headers["Location"]
        app.extensions["mail"].engine.dispose()
    finally:
        for web in webs:
            web.stop()


def test_embedded_sync_refuses_gunicorn_with_several_workers(deployment, tmp_path):
    env = process_env(deployment, SYNC_MODE="embedded", SECRET_KEY="same-everywhere")
    web = services.AppProcess.gunicorn(services.free_port(), 2, env, tmp_path / "web.log")
    try:
        web.process.wait(timeout=60)
    finally:
        web.stop()
    assert web.process.returncode != 0
    assert "SYNC_MODE=embedded runs sync threads inside the web process" in web.output()
    assert "runs 2 worker processes" in web.output()


def test_check_tells_the_operator_what_is_misconfigured(deployment, lab, mailbox):
    from app import create_app

    app = create_app(dict(deployment, SECRET_KEY="a-long-secret-shared-by-every-process-0123456789"))
    worker = app.extensions["mail"].runner.worker(1)
    worker.start()  # a sync worker's heartbeat in the queue
    try:
        healthy = app.test_cli_runner().invoke(args=["check"])
        assert healthy.exit_code == 0, healthy.output
        output = healthy.output
        assert "ok       database" in output and "1 sync worker processes seen" in output, output
        assert "warning  url       EXTERNAL_URL is not set" in healthy.output
    finally:
        worker.stop()
    connected(app, mailbox)
    closed = services.free_port()
    wrong = create_app(dict(deployment, QUEUE_URL=f"redis://127.0.0.1:{closed}/0",
                            MAIL_ENCRYPTION_KEY="A" * 43 + "=", EXTERNAL_URL=f"http://127.0.0.1:{closed}",
                            SECRET_KEY="short"))
    found = wrong.test_cli_runner().invoke(args=["check"])
    assert found.exit_code == 1
    for problem in ("problem  queue     cannot reach the queue", "problem  keys      SECRET_KEY is shorter",
                    "problem  keys      the mail encryption key cannot open 1 of the 1",
                    f"problem  url       http://127.0.0.1:{closed}/signin cannot be reached"):
        assert problem in found.output, found.output
    for made in (app, wrong):
        made.extensions["mail"].engine.dispose()


def test_a_watcher_lets_go_of_an_account_another_process_holds(app, lab, mailbox):
    """Never two watchers: when an account's lease is found in another process's name (its own ran
    out while it was stalled), the watcher closes its connection at the next renewal."""
    import threading
    from datetime import timedelta

    from sqlalchemy import update

    from mailcore.models import utcnow
    from mailcore.sync.watch import Watcher

    connected(app, mailbox)
    account_id = account_of(app, mailbox.address)
    changes: list[int] = []
    watcher = Watcher(app.extensions["mail"], lease=3, on_change=changes.append, on_adopt=changes.append)
    stop = threading.Event()
    loop = threading.Thread(target=watcher.run, args=(stop,))
    loop.start()
    try:
        assert eventually(lambda: account_id in watcher.watched, 15)
        client = watcher.watched[account_id].client
        with app.extensions["mail"].sessions() as db:
            db.execute(update(Account).where(Account.id == account_id).values(  # and it keeps renewing
                watch_owner="another:1:process", watch_lease_until=utcnow() + timedelta(minutes=5)))
            db.commit()
        assert eventually(lambda: account_id not in watcher.watched, 5)
        assert eventually(lambda: client._imap.sock.fileno() == -1 or client._imap.state == "LOGOUT", 5)
        lab.append(mailbox.address, message("Seen by the other watcher only"))
        time.sleep(2)
        assert changes == [account_id]  # the adoption only: this process no longer hears the account
    finally:
        stop.set()
        loop.join(timeout=30)
    with app.extensions["mail"].sessions() as db:
        assert db.get(Account, account_id).watch_owner == "another:1:process"  # not given back: not its own


def test_the_units_are_sandboxed_and_the_defaults_need_no_trusted_loopback():
    """deploy/: every unit runs sandboxed (checked with systemd-analyze where it exists); the database is
    reached through the unix socket, and `flask check` warns of a queue off loopback without a password."""
    import shutil
    import subprocess
    from pathlib import Path

    from mailcore import health

    deploy = Path(__file__).resolve().parent.parent / "deploy"
    for unit in ("inkorg-web.service", "inkorg-sync@.service", "inkorg-watch@.service"):
        lines = (deploy / unit).read_text().splitlines()
        for directive in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/inkorg",
                          "PrivateTmp=yes", "ProtectHome=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                          "CapabilityBoundingSet=", "UMask=0077"):
            assert directive in lines, (unit, directive)
        if shutil.which("systemd-analyze"):
            rated = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(deploy / unit)],
                                   capture_output=True, text=True, timeout=60).stdout
            exposure = float(rated.rsplit("Overall exposure level for", 1)[1].split(":")[1].split()[0])
            assert exposure <= 2.0, (unit, exposure)
    env = (deploy / "inkorg.env").read_text()
    assert "DATABASE_URL=postgresql://inkorg@/inkorg?host=/var/run/postgresql" in env.splitlines()
    assert not [f for f in health.queue_url_findings("redis://127.0.0.1:6379/0")]
    assert not [f for f in health.queue_url_findings("rediss://:secret@queue.example.com:6380/0")]
    said = " ".join(f.text for f in health.queue_url_findings("redis://queue.example.com:6379/0"))
    assert "without a password" in said and "without TLS" in said
