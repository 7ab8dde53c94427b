"""How fast the IMAP sync and the list it feeds are, against the real Dovecot of localmail/lab.py.

    .venv/bin/python benchmarks/sync.py [--messages 20000] [--small 1000] [--large-list 100000]
                                        [--large-list-mode sync|insert] [--renders 20] [--runs 5]
                                        [--outside-runs 3] [--only all|outside]

Prints one line per figure and exits 1 if any target is missed. From outside, as a new user meets
it (whole processes and a real browser, on one --messages INBOX):
  A. `flask sync now`, the whole process, against the floor: a bare imapclient program in a process
     of its own that logs in, SELECTs INBOX and runs `UID FETCH 1:* (UID FLAGS ENVELOPE INTERNALDATE
     RFC822.SIZE)`, parsed by imapclient as IMAPClient.fetch parses it (target: at most 1.2x). One
     untimed run of each first, then --outside-runs of each taking turns, each sync into a fresh
     database; medians. Also the peak resident memory of the `flask sync now` processes (< 150 MB);
  B. from pressing Save in Advanced settings to the newest message visible in the list, in headless
     Chromium against the app served by a process of its own (SYNC_MODE=embedded, as deployed),
     timed in the page (the click, and the frame after the row was laid out): one untimed run, then
     --outside-runs, each a new CRM user saving the same mailbox once the previous user's first
     sync has finished (target: median < 1 s).
From inside (--only all, the default):
  1. the first sync of a --messages INBOX into a fresh SQLite database, against the floor: a bare
     imapclient session over the same TLS port that logs in, SELECTs INBOX, UID SEARCH ALL and UID
     FETCHes the same items as the sync (its list items, then PREVIEW) in batches of 2,000 newest
     first, storing nothing (target: at most 1.5x). The floor runs once untimed to warm Dovecot's
     caches, then timed, then the sync, all on the same mailbox;
  2. when that sync's first batch was committed, i.e. the list's first page existed (target < 1 s);
  3. a sync with nothing changed, at --small and at --messages messages: median of --runs runs each,
     small and large interleaved (target: large within 1.2x of small);
  4. the list's first page, GET /inbox/ through the Flask test client as a signed-in user (page()
     and the whole template), at --small and at --large-list stored messages, the two folders
     taking turns: median of --renders (target within 1.5x). The large folder is first-synced from
     Dovecot (--large-list-mode sync, the default) or its rows are inserted straight into the
     messages table (--large-list-mode insert);
  5. the peak resident memory of a process that creates the app and runs the --messages first sync:
     getrusage(RUSAGE_CHILDREN).ru_maxrss of a small go-between process whose one child that is
     (Linux carries ru_maxrss over exec, so a child of the big benchmark process would report the
     benchmark's own size) (target < 150 MB). A and B measure their processes the same way.
Every measurement uses a fresh mailbox. MailLab runs in a process of its own, so that its relay
thread (asyncio, in front of Dovecot) does not compete for this process's GIL, as a real server
would not. Needs root (Dovecot drops to its own user).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 2000  # the same-fields floor (1) fetches in AccountSync's batches
FLOOR_ITEMS = "UID FLAGS ENVELOPE INTERNALDATE RFC822.SIZE"  # what a bare ENVELOPE fetch asks (A)
CRM_PASSWORD = "crm-password-1"
ROW = re.compile(r'<li class="message[ "]')
FETCH_START = re.compile(rb"\d+ \(")


# --- the lab, in a process of its own -------------------------------------------------------------


def _lab_server(conn, workdir: str, options: dict | None = None) -> None:
    from localmail import MailLab

    lab = MailLab.start(Path(workdir), **(options or {}))
    try:
        ports = " ".join(str(p) for p in (
            lab.imap_tls_port, lab.imap_starttls_port, lab.imap_plain_only_port, lab.pop3_port,
            lab.imap_untrusted_tls_port, lab.smtp_tls_port, lab.smtp_starttls_port,
            lab.smtp_no_starttls_port, lab.tarpit_port, lab.closed_port))
        conn.send({"host": lab.host, "hostname": lab.hostname, "tls_name": lab.tls_name,
                   "ca_bundle": str(lab.ca_bundle), "imap_tls_port": lab.imap_tls_port,
                   "smtp_tls_port": lab.smtp_tls_port, "ports": ports,
                   "mail_root": str(lab._mail_tmp)})
        while True:
            try:
                name, args, kwargs = conn.recv()
            except EOFError:
                return
            if name == "stop":
                conn.send(("ok", None))
                return
            try:
                conn.send(("ok", getattr(lab, name)(*args, **kwargs)))
            except Exception as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        lab.stop()


class LabProcess:
    """MailLab in a child process; add_user and bulk_load are forwarded to it."""

    def __init__(self, workdir: Path, **options):
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_lab_server, args=(child, str(workdir), options), name="maillab")
        self._process.start()
        child.close()
        if not self._conn.poll(60):
            raise RuntimeError("MailLab did not start within 60 s")
        self.info: dict = self._conn.recv()
        self.host, self.hostname = self.info["host"], self.info["hostname"]
        self.imap_tls_port, self.smtp_tls_port = self.info["imap_tls_port"], self.info["smtp_tls_port"]
        self._users: dict[str, str] = {}
        self._count = 0

    @property
    def pid(self) -> int:
        """The lab's process: Dovecot and the SMTP server run under it."""
        return self._process.pid

    def _call(self, name: str, *args, **kwargs):
        self._conn.send((name, args, kwargs))
        status, result = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"MailLab.{name} failed: {result}")
        return result

    def new_user(self, messages: int, seed: int) -> tuple[str, str]:
        """A fresh mailbox with `messages` bulk-loaded messages in INBOX; (address, password)."""
        self._count += 1
        address, password = f"bench{self._count}@inkorg.test", f"bench-pw-{self._count}-Zq7!"
        self._call("add_user", address, password)
        if messages:
            written = self._call("bulk_load", address, messages, seed=seed)
            assert written == messages, (written, messages)
        self._users[address] = password
        return address, password

    def tls_context(self):
        from localmail.imap import named_context

        return named_context(self.info["ca_bundle"], self.info["tls_name"])

    def stop(self) -> None:
        try:
            self._call("stop")
        except (EOFError, OSError, RuntimeError):
            pass
        self._process.join(timeout=600)  # stopping Dovecot and deleting 140k maildir files takes a while
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=10)
        mail_root = Path(self.info["mail_root"])
        if mail_root.name.startswith("localmail-mail-") and mail_root.exists():
            shutil.rmtree(mail_root, ignore_errors=True)


# --- the app --------------------------------------------------------------------------------------


def app_config(lab: LabProcess, directory: Path) -> dict:
    """As tests/conftest.py configures the app against the lab, on a fresh SQLite database."""
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(directory / "instance"),
        "DATABASE_URL": f"sqlite:///{directory / 'inkorg.db'}",
        "SECRET_KEY": "benchmark-secret-key",
        "MAIL_CA_BUNDLE": lab.info["ca_bundle"],
        "MAIL_ALLOWED_NETWORKS": "127.0.0.0/8",
        "MAIL_ALLOWED_PORTS": lab.info["ports"],
        "MAIL_TIMEOUT": 60.0,  # a 100k first sync must not trip over a slow batch; speed is unaffected
        "MAIL_TESTS_PER_5_MINUTES": 1000,
        "SYNC_MODE": "inline",
    }


def connect_account(app, lab: LabProcess, address: str, password: str) -> int:
    """The CRM user and their account, as the setup dialog leaves them (as tests/test_sync.py does)."""
    from mailcore import services
    from mailcore.settings import AccountSettings, Credentials, ServerSettings

    mail = app.extensions["mail"]
    with mail.sessions() as db:
        user = services.create_user(db, address, CRM_PASSWORD, "Benchmark User", "en")
        incoming = ServerSettings(lab.hostname, lab.imap_tls_port, True, address)
        outgoing = ServerSettings(lab.hostname, lab.smtp_tls_port, True, address)
        service = services.MailService(db, mail)
        result = service.connect(user, AccountSettings(address, incoming, outgoing), Credentials(password, password))
        if not result.ok:
            raise RuntimeError(f"could not connect {address}: {result}")
        return user.account.id


def make_sync(app, on_batch=None):
    from mailcore.sync.engine import AccountSync

    mail = app.extensions["mail"]
    return AccountSync(mail, on_batch=on_batch)


def checked(summary, fetched: int | None = None):
    if summary.state != "ok" or (fetched is not None and summary.fetched != fetched):
        raise RuntimeError(f"sync went wrong (expected {fetched} fetched): {summary}")
    return summary


def inbox_id(app, account_id: int) -> int:
    from sqlalchemy import select

    from mailcore.models import Folder

    with app.extensions["mail"].sessions() as db:
        return db.scalar(select(Folder.id).where(Folder.account_id == account_id, Folder.role == "inbox"))


# --- 1 and 2: the first sync against the bare fetch -----------------------------------------------


def server_items(lab: LabProcess, address: str, password: str) -> tuple[list[str], list[str]]:
    """What AccountSync fetches from this server: its list items, then its preview items."""
    from imapclient import IMAPClient

    from mailcore.sync.engine import AccountSync, summaries

    assert AccountSync.batch == BATCH, "the sync's batch changed: update the floor"
    client = IMAPClient(lab.host, port=lab.imap_tls_port, ssl=True, ssl_context=lab.tls_context(), timeout=60)
    try:
        client.login(address, password)
        preview = b"PREVIEW" in client.capabilities()
    finally:
        client.logout()
    return summaries.LIST_ITEMS, summaries.preview_items(preview)


def bare_fetch(lab: LabProcess, address: str, password: str, items: tuple[list[str], list[str]]) -> tuple[float, int]:
    """The floor: a bare imapclient session fetching the same summaries in the same batches with
    IMAPClient.fetch (which parses the answer, as any imapclient program must), storing nothing:
    every message's list items, then every message's preview items."""
    from imapclient import IMAPClient

    started = time.perf_counter()
    client = IMAPClient(lab.host, port=lab.imap_tls_port, ssl=True, ssl_context=lab.tls_context(), timeout=60)
    client.login(address, password)
    client.select_folder("INBOX", readonly=True)
    uids = sorted(client.search(["ALL"]), reverse=True)
    fetched = 0
    for part in items:
        fetched = 0
        for start in range(0, len(uids), BATCH):
            fetched += len(client.fetch(uids[start:start + BATCH], part))
    client.logout()
    return time.perf_counter() - started, fetched


def first_sync(app, account_id: int, expected: int) -> tuple[float, float]:
    """The whole first sync's seconds, and the seconds until its first batch was committed."""
    first_batch: list[float] = []

    def on_batch(_folder) -> None:
        if not first_batch:
            first_batch.append(time.perf_counter())

    sync = make_sync(app, on_batch)
    started = time.perf_counter()
    checked(sync.run(account_id), expected)
    elapsed = time.perf_counter() - started
    return elapsed, (first_batch[0] - started) if first_batch else float("inf")


class ParseClock:
    """Adds up the seconds the sync spends in imapclient's parse_fetch_response (if it uses it)."""

    def __init__(self):
        from mailcore import connect

        self.module, self.seconds = connect, 0.0
        self.original = getattr(connect, "parse_fetch_response", None)

    def __enter__(self) -> ParseClock:
        if self.original is not None:
            def timed(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return self.original(*args, **kwargs)
                finally:
                    self.seconds += time.perf_counter() - started

            self.module.parse_fetch_response = timed
        return self

    def __exit__(self, *exc: object) -> None:
        if self.original is not None:
            self.module.parse_fetch_response = self.original

    def note(self) -> str:
        return f"; {self.seconds:.1f} s of it in imapclient's parse_fetch_response" if self.original else ""


# --- 4: the list ----------------------------------------------------------------------------------


class SignedIn:
    """The Flask test client signed in as a CRM user (the sign-in form's CSRF token included)."""

    def __init__(self, app, email: str):
        self.client = app.test_client()
        page = self.client.get("/signin").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        response = self.client.post("/signin", data={"email": email, "password": CRM_PASSWORD,
                                                     "csrf_token": token.group(1) if token else ""})
        if response.status_code != 302:
            raise RuntimeError(f"sign-in failed: {response.status_code}")

    def inbox(self) -> str:
        response = self.client.get("/inbox/")
        if response.status_code != 200:
            raise RuntimeError(f"GET /inbox/ answered {response.status_code}")
        return response.get_data(as_text=True)


def render_times(app, inboxes: list[tuple[str, int]], runs: int) -> list[tuple[float, float]]:
    """Per (user's email, INBOX id): the median seconds of GET /inbox/ (the whole page) and of page()
    alone. The inboxes take turns, so that a noisy moment on the machine hits each alike."""
    from mailcore.models import Folder
    from mailcore.reading.mailbox import ListQuery, page

    browsers = [SignedIn(app, email) for email, _ in inboxes]
    for browser in browsers:
        html = browser.inbox()
        if len(ROW.findall(html)) != 50:
            raise RuntimeError(f"the first page shows {len(ROW.findall(html))} rows, not 50")
        browser.inbox()
    sessions = app.extensions["mail"].sessions
    gets: list[list[float]] = [[] for _ in inboxes]
    pages: list[list[float]] = [[] for _ in inboxes]
    for _run in range(runs + 2):
        for index, (browser, (_, folder_id)) in enumerate(zip(browsers, inboxes, strict=True)):
            started = time.perf_counter()
            browser.inbox()
            gets[index].append(time.perf_counter() - started)
            with sessions() as db:  # a fresh session each time, as each request has
                started = time.perf_counter()
                folder = db.get(Folder, folder_id)
                found = page(db, folder, ListQuery(folder.id))
                pages[index].append(time.perf_counter() - started)
            assert len(found.messages) == 50
    return [(statistics.median(g[2:]), statistics.median(p[2:])) for g, p in zip(gets, pages, strict=True)]


def insert_rows(app, folder_id: int, count: int, seed: int) -> None:
    """`count` believable rows straight into the folder (--large-list-mode insert)."""
    import random

    from sqlalchemy import insert, update

    from mailcore.models import Folder, Message

    rng = random.Random(seed)
    senders = [("Åsa Öberg", "asa.oberg@example.se"), ("Alice Johnson", "alice.johnson@example.com"),
               ("Build Bot", "ci@builds.example.com"), ("Björn Ängström", "bjorn.angstrom@example.se")]
    subjects = ["Fika på fredag?", "Faktura för maj", "Quarterly report draft", "Build passed", "Lunch next week?"]
    start = datetime(2020, 1, 1)
    with app.extensions["mail"].sessions() as db:
        for first in range(0, count, 5000):
            rows = []
            for uid in range(first + 1, min(count, first + 5000) + 1):
                name, address = rng.choice(senders)
                rows.append({"folder_id": folder_id, "uid": uid, "seen": rng.random() < 0.5, "flagged": False,
                             "answered": False, "date": start + timedelta(minutes=29 * uid), "size": 2000,
                             "sender_name": name, "sender_address": address, "subject": rng.choice(subjects),
                             "preview": "Hej! Tack för senast.", "has_attachments": rng.random() < 0.1})
            db.execute(insert(Message), rows)
        db.execute(update(Folder).where(Folder.id == folder_id).values(total=count, server_total=count,
                                                                        complete=True))
        db.commit()


# --- 5: memory, in a child process ----------------------------------------------------------------


def _status_kb(field: str) -> int:
    """A figure of /proc/self/status in KB (VmRSS: now; VmHWM: this process image's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child_first_sync(spec: str) -> None:
    """Hidden: create the app and run one first sync; print what happened as JSON."""
    from app import create_app

    options = json.loads(spec)
    app = create_app(options["config"])
    before = _status_kb("VmRSS")
    started = time.perf_counter()
    summary = make_sync(app).run(options["account_id"])
    print(json.dumps({"state": summary.state, "fetched": summary.fetched, "error": summary.error,
                      "seconds": time.perf_counter() - started, "before_kb": before,
                      "hwm_kb": _status_kb("VmHWM")}))


def child_measure(spec: str) -> None:
    """Hidden: run the first-sync child and add its peak RSS, getrusage(RUSAGE_CHILDREN).ru_maxrss.

    This small process stands between the benchmark and the child because Linux carries ru_maxrss
    over exec: a child spawned straight from the benchmark (hundreds of MB by then) would report
    the benchmark's size, not its own. Only this process's own small size can carry over here.
    """
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-first-sync", spec],
                          stdout=subprocess.PIPE, cwd=str(ROOT), check=False)
    if done.returncode != 0:
        print(json.dumps({"state": f"child exit {done.returncode}", "fetched": 0,
                          "error": done.stdout.decode()[-2000:]}))
        return
    report = json.loads(done.stdout.decode().strip().splitlines()[-1])
    report["maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report["own_kb"] = _status_kb("VmHWM")
    print(json.dumps(report))


def peak_memory(config: dict, account_id: int) -> dict:
    """The first-sync child's report, with its peak RSS in KB (maxrss_kb)."""
    spec = json.dumps({"config": config, "account_id": account_id})
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-measure", spec],
                          stdout=subprocess.PIPE, cwd=str(ROOT), check=True)
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


# --- A and B: from outside, as a new user meets it -------------------------------------------------


def child_floor(spec: str) -> None:
    """Hidden: the bare ENVELOPE fetch, a whole program of its own; prints how many it parsed."""
    import ssl

    from imapclient import IMAPClient
    from imapclient.response_parser import parse_fetch_response

    options = json.loads(spec)
    context = ssl.create_default_context(cafile=options["ca_bundle"])
    client = IMAPClient(options["host"], port=options["port"], ssl=True, ssl_context=context, timeout=120)
    client.login(options["address"], options["password"])
    client.select_folder("INBOX", readonly=True)
    # IMAPClient.fetch's own three steps: it takes only lists of numbers, and 20,000 of them would
    # make a 120 KB command where the floor means `1:*`
    tag = client._imap._command("UID", "FETCH", "1:*", f"({FLOOR_ITEMS})")
    typ, data = client._imap._command_complete("FETCH", tag)
    client._checkok("fetch", typ, data)
    typ, data = client._imap._untagged_response(typ, data, "FETCH")
    fetched = parse_fetch_response(data, client.normalise_times, True)
    client.logout()
    print(json.dumps({"fetched": len(fetched)}))


def child_run(spec: str) -> None:
    """Hidden: run one command, time it, and add its peak RSS (see child_measure for why a
    go-between process)."""
    options = json.loads(spec)
    started = time.perf_counter()
    done = subprocess.run(options["argv"], env=options["env"], cwd=str(ROOT), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "returncode": done.returncode, "output": done.stdout.decode()[-2000:],
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))


def measured(argv: list[str], env: dict | None = None) -> dict:
    """A whole process's wall seconds and peak RSS, through a go-between; raises if it failed."""
    import os

    spec = json.dumps({"argv": argv, "env": {**os.environ, **(env or {})}})
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-run", spec],
                          stdout=subprocess.PIPE, cwd=str(ROOT), check=True)
    report = json.loads(done.stdout.decode().strip().splitlines()[-1])
    if report["returncode"] != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} failed: {report['output']}")
    return report


def app_environment(config: dict) -> dict:
    """The app's configuration as the environment a `flask` command reads."""
    return {key: str(value) for key, value in config.items() if key != "TESTING"}


def sync_now_against_floor(lab: LabProcess, workdir: Path, address: str, password: str, runs: int) -> dict:
    """A: `flask sync now` and the bare ENVELOPE fetch, whole processes, taking turns."""
    from app import create_app

    floor_argv = [sys.executable, str(Path(__file__).resolve()), "--child-floor", json.dumps({
        "host": lab.hostname, "port": lab.imap_tls_port, "ca_bundle": lab.info["ca_bundle"],
        "address": address, "password": password})]
    sync_argv = [sys.executable, "-m", "flask", "--app", "app", "sync", "now", "--user", address]
    databases = []
    for run in range(runs + 1):  # each sync into a database of its own, prepared beforehand
        config = dict(app_config(lab, workdir / f"sync-now-{run}"), SYNC_MODE="external")
        app = create_app(config)
        connect_account(app, lab, address, password)
        app.extensions["mail"].engine.dispose()
        databases.append(app_environment(config))
    floors, nows = [], []
    for run in range(runs + 1):  # the first of each warms Dovecot's and the file system's caches
        floor = measured(floor_argv)
        assert json.loads(floor["output"].strip().splitlines()[-1])["fetched"] > 0
        now = measured(sync_argv, databases[run])
        summary = json.loads(now["output"].strip().splitlines()[-1])
        if summary["state"] != "ok":
            raise RuntimeError(f"flask sync now went wrong: {summary}")
        if run:
            floors.append(floor)
            nows.append(now)
    return {"floor": statistics.median(f["seconds"] for f in floors),
            "sync": statistics.median(n["seconds"] for n in nows),
            "floors": [f["seconds"] for f in floors], "syncs": [n["seconds"] for n in nows],
            "sync_rss_mb": max(n["maxrss_kb"] for n in nows) / 1024,
            "floor_rss_mb": max(f["maxrss_kb"] for f in floors) / 1024}


def child_serve(spec: str) -> None:
    """Hidden: the app in a process of its own, as deployed; prints its port, serves until killed."""
    import logging

    from werkzeug.serving import make_server

    from app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = make_server("127.0.0.1", 0, create_app(json.loads(spec)), threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


def newest_subject(lab: LabProcess, address: str, password: str) -> str:
    from imapclient import IMAPClient

    from mailcore.envelope import decode_header

    client = IMAPClient(lab.host, port=lab.imap_tls_port, ssl=True, ssl_context=lab.tls_context(), timeout=60)
    try:
        client.login(address, password)
        client.select_folder("INBOX", readonly=True)
        newest = max(client.search(["ALL"]))
        return decode_header(client.fetch([newest], ["ENVELOPE"])[newest][b"ENVELOPE"].subject)
    finally:
        client.logout()


# Records, in the page, when Save was pressed and when a row with the subject was first laid out
# (the frame after it entered the document), so Playwright's own round trips are not counted.
_WATCH_SAVE = """subject => {
  window.__save = {};
  document.addEventListener("click", event => {
    if (event.target.closest("button[type=submit]")) window.__save.pressed = performance.now();
  }, true);
  const shown = () => [...document.querySelectorAll("li.message")].some(
    row => row.offsetParent !== null && row.textContent.includes(subject));
  new MutationObserver((_, observer) => {
    if (shown()) {
      observer.disconnect();
      requestAnimationFrame(() => { window.__save.shown = performance.now(); });
    }
  }).observe(document, {childList: true, subtree: true});
}"""


def save_to_newest_visible(lab: LabProcess, workdir: Path, address: str, password: str, runs: int,
                           server_env: dict | None = None) -> list[float]:
    """B: seconds from pressing Save in Advanced settings until the newest message is visible, each
    run a new CRM user of one app server that has been serving a while (templates compiled, the
    previous user's first sync finished)."""
    import os

    from playwright.sync_api import sync_playwright

    from app import create_app
    from mailcore import services
    from tests.browser import launch_chromium, sign_in, wait_for_htmx

    subject = newest_subject(lab, address, password)
    config = dict(app_config(lab, workdir / "save"), SYNC_MODE="embedded", TESTING=False)  # workers start
    app = create_app(config)
    users = [f"save{run}@crm.example" for run in range(runs + 1)]
    with app.extensions["mail"].sessions() as db:
        for user in users:
            services.create_user(db, user, CRM_PASSWORD, "Benchmark User", "en")
    server = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child-serve", json.dumps(config)],
                              stdout=subprocess.PIPE, cwd=str(ROOT), env={**os.environ, **(server_env or {})})
    times = []
    try:
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for run, user in enumerate(users):  # the first warms Chromium, the server and Dovecot
                context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
                try:
                    page = context.new_page()
                    sign_in(page, base, user, CRM_PASSWORD, {"user": "User name", "password": "Password",
                                                             "sign_in": "Sign in"})
                    page.goto(f"{base}/inbox/setup/advanced?address={address}")
                    for field, value in (("imap_host", lab.hostname), ("imap_port", lab.imap_tls_port),
                                         ("imap_username", address), ("imap_password", password),
                                         ("smtp_host", lab.hostname), ("smtp_port", lab.smtp_tls_port)):
                        page.fill(f"#{field}", str(value))
                    wait_for_htmx(page)
                    page.evaluate(_WATCH_SAVE, subject)
                    page.get_by_role("button", name="Save", exact=True).click()
                    page.wait_for_function("() => window.__save.shown", timeout=30_000)
                    if run:
                        times.append(page.evaluate("() => window.__save.shown - window.__save.pressed") / 1000)
                finally:
                    context.close()
                _wait_for_first_sync(app, user)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return times


def _wait_for_first_sync(app, user_email: str, timeout: float = 300) -> None:
    """Until the user's first sync has listed INBOX, filled its previews and let go of the account."""
    from sqlalchemy import func, select

    from mailcore.models import Account, Folder, Message, User

    deadline = time.monotonic() + timeout
    with app.extensions["mail"].sessions() as db:
        while time.monotonic() < deadline:
            account = db.scalar(select(Account).join(User).where(User.email == user_email))
            inbox = db.scalar(select(Folder).where(Folder.account_id == account.id, Folder.role == "inbox"))
            pending = db.scalar(select(func.count()).where(Message.folder_id == inbox.id, Message.preview.is_(None)))
            if inbox.complete and not pending and account.sync_owner is None:
                return
            db.rollback()
            time.sleep(0.5)
    raise RuntimeError(f"the first sync of {user_email} did not finish within {timeout:.0f} s")


def outside_figures(lab: LabProcess, workdir: Path, messages: int, runs: int) -> list[str]:
    """A and B on one fresh mailbox; the names of the missed targets."""
    missed = []
    address, password = lab.new_user(messages, seed=5)
    figures = sync_now_against_floor(lab, workdir / "outside", address, password, runs)
    ratio = figures["sync"] / figures["floor"]
    missed += [] if ratio <= 1.2 else ["flask sync now"]
    print(f"flask sync now, {messages} messages, whole process: {figures['sync']:.2f} s vs bare ENVELOPE fetch "
          f"{figures['floor']:.2f} s = {ratio:.2f}x (target <= 1.2x; medians of {runs}, each after one "
          f"untimed run: {' '.join(f'{x:.2f}' for x in figures['syncs'])} vs "
          f"{' '.join(f'{x:.2f}' for x in figures['floors'])}; `UID FETCH 1:* ({FLOOR_ITEMS})`) "
          f"{verdict(ratio <= 1.2)}", flush=True)
    peak = figures["sync_rss_mb"]
    missed += [] if peak < 150 else ["flask sync now memory"]
    print(f"peak memory of flask sync now: {peak:.0f} MB (target < 150 MB; the bare fetch "
          f"{figures['floor_rss_mb']:.0f} MB) {verdict(peak < 150)}", flush=True)
    times = save_to_newest_visible(lab, workdir / "outside", address, password, runs)
    median = statistics.median(times)
    missed += [] if median < 1 else ["save to list"]
    print(f"from Save in Advanced settings to the newest message visible, {messages} messages: {median:.2f} s "
          f"(target < 1 s; headless Chromium, timed in the page, median of {runs} after one untimed run: "
          f"{' '.join(f'{x:.2f}' for x in times)}) {verdict(median < 1)}", flush=True)
    return missed


# --- main -----------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20000, help="the first sync's INBOX size")
    parser.add_argument("--small", type=int, default=1000, help="the small mailbox, for the unchanged sync "
                                                                "and the list")
    parser.add_argument("--large-list", type=int, default=100000, help="the large list's stored messages")
    parser.add_argument("--large-list-mode", choices=("sync", "insert"), default="sync",
                        help="fill the large list by a real first sync, or by inserting rows")
    parser.add_argument("--runs", type=int, default=5, help="unchanged syncs per size")
    parser.add_argument("--renders", type=int, default=20, help="first-page renders per size")
    parser.add_argument("--outside-runs", type=int, default=3, help="timed runs of each outside figure")
    parser.add_argument("--only", choices=("all", "outside"), default="all",
                        help="every figure, or only those measured from outside (A, B)")
    for hidden in ("--child-first-sync", "--child-measure", "--child-floor", "--child-run", "--child-serve"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name, child in (("child_first_sync", child_first_sync), ("child_measure", child_measure),
                        ("child_floor", child_floor), ("child_run", child_run), ("child_serve", child_serve)):
        if getattr(args, name):
            child(getattr(args, name))
            return 0

    began = time.perf_counter()
    missed = []
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        workdir = Path(tmp)
        lab = LabProcess(workdir / "lab")  # forked before anything else opens a file or a thread
        try:
            missed += outside_figures(lab, workdir, args.messages, args.outside_runs)
            if args.only == "outside":
                return finish(began, missed)
            from app import create_app

            # 1, 2: the first sync, right after the floor, on the same fresh mailbox
            address, password = lab.new_user(args.messages, seed=1)
            items = server_items(lab, address, password)
            app = create_app(app_config(lab, workdir / "first"))
            account = connect_account(app, lab, address, password)
            bare_fetch(lab, address, password, items)  # warm-up: Dovecot's caches as the sync will find them
            floor, floor_count = bare_fetch(lab, address, password, items)
            assert floor_count == args.messages, (floor_count, args.messages)
            with ParseClock() as parsing:
                seconds, first_page = first_sync(app, account, args.messages)
            ratio = seconds / floor
            missed += [] if ratio <= 1.5 else ["first sync"]
            print(f"first sync, {args.messages} messages: {seconds:.1f} s vs bare fetch {floor:.1f} s = "
                  f"{ratio:.2f}x (target <= 1.5x; bare fetch of {' '.join(items[0])}, then of "
                  f"{' '.join(items[1])}, in batches of {BATCH}, "
                  f"after one warm-up pass{parsing.note()}) {verdict(ratio <= 1.5)}", flush=True)
            missed += [] if first_page < 1 else ["first page"]
            print(f"first page available after {first_page:.2f} s (target < 1 s) {verdict(first_page < 1)}",
                  flush=True)

            # 3: unchanged syncs, small and large interleaved
            small_address, small_password = lab.new_user(args.small, seed=2)
            small_account = connect_account(app, lab, small_address, small_password)
            checked(make_sync(app).run(small_account), args.small)
            times: dict[int, list[float]] = {small_account: [], account: []}
            for account_id in times:
                checked(make_sync(app).run(account_id), 0)  # warm-up
            for _ in range(args.runs):
                for account_id, spent in times.items():
                    started = time.perf_counter()
                    checked(make_sync(app).run(account_id), 0)
                    spent.append(time.perf_counter() - started)
            small, large = statistics.median(times[small_account]), statistics.median(times[account])
            ratio = large / small
            missed += [] if ratio <= 1.2 else ["unchanged sync"]
            print(f"unchanged sync: {args.small} msgs {small:.3f} s, {args.messages} msgs {large:.3f} s = "
                  f"{ratio:.2f}x (target <= 1.2x; median of {args.runs}) {verdict(ratio <= 1.2)}", flush=True)

            # 4: the list's first page, small and large folder side by side in a fresh database
            lists = create_app(app_config(lab, workdir / "list"))
            list_small = connect_account(lists, lab, small_address, small_password)
            checked(make_sync(lists).run(list_small), args.small)
            if args.large_list_mode == "sync":
                started = time.perf_counter()
                large_address, large_password = lab.new_user(args.large_list, seed=3)
                loaded = time.perf_counter() - started
                list_large = connect_account(lists, lab, large_address, large_password)
                started = time.perf_counter()
                checked(make_sync(lists).run(list_large), args.large_list)
                how = (f"filled by a real first sync: {time.perf_counter() - started:.0f} s, "
                       f"after bulk_load {loaded:.0f} s")
            else:
                large_address, large_password = lab.new_user(0, seed=3)
                list_large = connect_account(lists, lab, large_address, large_password)
                checked(make_sync(lists).run(list_large), 0)
                started = time.perf_counter()
                insert_rows(lists, inbox_id(lists, list_large), args.large_list, seed=3)
                how = f"rows inserted into the messages table directly: {time.perf_counter() - started:.0f} s"
            (small_get, small_page), (large_get, large_page) = render_times(
                lists, [(small_address, inbox_id(lists, list_small)), (large_address, inbox_id(lists, list_large))],
                args.renders)
            ratio = large_get / small_get
            missed += [] if ratio <= 1.5 else ["first page render"]
            print(f"first page render: {args.small} msgs {small_get * 1000:.1f} ms, {args.large_list} msgs "
                  f"{large_get * 1000:.1f} ms = {ratio:.2f}x (target <= 1.5x; GET /inbox/, median of "
                  f"{args.renders}; page() alone {small_page * 1000:.2f} ms vs {large_page * 1000:.2f} ms; "
                  f"large list {how}) {verdict(ratio <= 1.5)}", flush=True)

            # 5: peak memory of a first sync, in a child process on a fresh database and mailbox
            memory_address, memory_password = lab.new_user(args.messages, seed=4)
            config = app_config(lab, workdir / "memory")
            memory_app = create_app(config)
            memory_account = connect_account(memory_app, lab, memory_address, memory_password)
            memory_app.extensions["mail"].engine.dispose()
            report = peak_memory(config, memory_account)
            if report["state"] != "ok" or report["fetched"] != args.messages:
                raise RuntimeError(f"the first-sync child went wrong: {report}")
            peak = report["maxrss_kb"] / 1024
            missed += [] if peak < 150 else ["peak memory"]
            print(f"peak memory of the {args.messages}-message first sync: {peak:.0f} MB (target < 150 MB; "
                  f"a child process: {report['before_kb'] / 1024:.0f} MB after create_app, VmHWM "
                  f"{report['hwm_kb'] / 1024:.0f} MB; sync {report['seconds']:.1f} s on a cold mailbox) "
                  f"{verdict(peak < 150)}", flush=True)
        finally:
            lab.stop()
    return finish(began, missed)


def finish(began: float, missed: list[str]) -> int:
    print(f"total {time.perf_counter() - began:.0f} s; "
          + ("every target met" if not missed else f"missed: {', '.join(missed)}"), flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
