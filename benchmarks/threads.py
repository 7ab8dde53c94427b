"""Conversations at scale: threading a first sync of 100,000 messages, and opening a 50-message
conversation in the reading pane.

    .venv/bin/python benchmarks/threads.py [--messages 100000] [--runs 7] [--database sqlite|URL]

1. --messages messages (INBOX, Sent and Arkiv; conversations of 1 to 40 messages, replies that name
   only In-Reply-To, References cut short, parents stored after their replies, copies of one message
   in two folders) are stored as a first sync stores them, in batches of 2,000 rows, each batch
   threaded before its commit (mailcore.sync.conversations.thread_folder), on a fresh SQLite database
   (or the PostgreSQL database at URL, emptied first). The figure: the seconds spent threading, all
   batches together, and the whole store for comparison.
2. A 50-message conversation (INBOX and Sent, bodies stored as an opened message's are) is opened
   over HTTP as the browser opens it: GET /inbox/message/<id> with htmx's headers, to the app served
   by werkzeug on loopback in this process; the median and the slowest of --runs runs after a
   warm-up. Prints the figures; exits 1 when a target (5 s, 150 ms) is missed. No mail server needed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from mailcore.models import Account, Folder, Message  # noqa: E402
from mailcore.sync import conversations, summaries  # noqa: E402

THREAD_TARGET = 5.0
OPEN_TARGET = 0.150
BATCH = 2000
START = datetime(2024, 1, 1)
ADDRESS = "bench@threads.example"
CRM_PASSWORD = "crm-password-1"


def corpus(count: int, seed: int = 7) -> list[dict]:
    """Rows of realistic shapes, newest first (as a first sync stores them)."""
    rng = random.Random(seed)
    rows: list[dict] = []
    number = 0
    while len(rows) < count:
        number += 1
        size = min(count - len(rows), rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 10, 40]))
        chain: list[str] = []
        for position in range(size):
            key = f"{number}.{position}.{rng.getrandbits(40):x}@{rng.choice(['kund.example', 'threads.example'])}"
            shape = rng.random()
            if not chain:
                refs = ""
            elif shape < 0.15:
                refs = chain[-1]  # In-Reply-To only
            elif shape < 0.25:
                refs = " ".join(chain[-2:])  # References cut short
            else:
                refs = " ".join(chain[-20:])
            folder = "Sent" if key.endswith("threads.example") else "INBOX"
            rows.append({"folder": folder, "key": key, "refs": refs,
                         "date": START + timedelta(minutes=len(rows)), "subject": f"Ärende {number}"})
            if rng.random() < 0.03:  # a copy kept in Arkiv too
                rows.append({**rows[-1], "folder": "Arkiv"})
            chain.append(key)
    rows = rows[:count]
    rows.sort(key=lambda r: r["date"], reverse=True)
    return rows


def thread_benchmark(app, count: int) -> tuple[float, float, float, int]:
    sessions = app.extensions["mail"].sessions
    with sessions() as db:
        account = _account(db)
        folders = {name: Folder(account_id=account.id, name=name, role=role, total=0, unread=0, version=0,
                                server_total=0, complete=False)
                   for name, role in (("INBOX", "inbox"), ("Sent", "sent"), ("Arkiv", "archive"))}
        db.add_all(folders.values())
        db.commit()
        rows = corpus(count)
        uids = dict.fromkeys(folders, 0)
        threading_seconds = threading_cpu = 0.0
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            by_folder: dict[str, list[dict]] = {}
            for row in rows[start:start + BATCH]:
                uids[row["folder"]] += 1
                by_folder.setdefault(row["folder"], []).append({"modseq": None,
                    "folder_id": folders[row["folder"]].id, "uid": uids[row["folder"]], "date": row["date"],
                    "subject": row["subject"], "sender_name": "Kund", "sender_address": "kund@kund.example",
                    "seen": True, "flagged": False, "answered": False, "size": 2000, "has_attachments": False,
                    "recipients": "", "preview": "", "message_key": row["key"], "reference_keys": row["refs"]})
            for name, batch in by_folder.items():
                began, began_cpu = time.perf_counter(), time.process_time()
                conversations.thread_rows(db, folders[name], batch)
                threading_seconds += time.perf_counter() - began
                threading_cpu += time.process_time() - began_cpu
                summaries.insert_new(db, batch)
                db.commit()
        whole = time.perf_counter() - started
        made = db.scalar(select(func.count(func.distinct(Message.conversation_id)))
                         .join(Folder).where(Folder.account_id == account.id))
    return threading_seconds, threading_cpu, whole, made


def _account(db) -> Account:
    from mailcore.models import User
    user = db.scalar(select(User).where(User.email == ADDRESS))
    account = Account(user=user, address=ADDRESS, imap_host="imap.threads.example", imap_port=993, imap_ssl=True,
                      imap_username=ADDRESS, imap_password=b"sealed", smtp_host="smtp.threads.example",
                      smtp_port=465, smtp_ssl=True, smtp_username=ADDRESS, smtp_password=b"sealed")
    db.add(account)
    db.flush()
    return account


def conversation_rows(app, size: int = 50) -> int:
    """A conversation of `size` messages with stored bodies in the benchmark account; the newest's id."""
    from email.message import EmailMessage
    from email.policy import SMTP
    sessions = app.extensions["mail"].sessions
    with sessions() as db:
        account = db.scalar(select(Account).where(Account.address == ADDRESS))
        folders = {f.role: f for f in db.scalars(select(Folder).where(Folder.account_id == account.id))}
        chain: list[str] = []
        newest = 0
        for position in range(size):
            ours = position % 3 == 1
            key = f"conv50.{position}@{'threads' if ours else 'kund'}.example"
            message = EmailMessage(policy=SMTP)
            message["From"] = ADDRESS if ours else "Kund Kundsson <kund@kund.example>"
            message["To"] = "kund@kund.example" if ours else ADDRESS
            message["Subject"] = "Re: Offert på 50 fönster" if chain else "Offert på 50 fönster"
            message["Message-ID"] = f"<{key}>"
            if chain:
                message["References"] = " ".join(f"<{k}>" for k in chain[-20:])
            message.set_content(f"Hej!\n\nMeddelande {position} i tråden om offerten.\n\n" + "Text. " * 200)
            raw = message.as_bytes()
            folder = folders["sent" if ours else "inbox"]
            row = Message(folder_id=folder.id, uid=10_000_000 + position,
                          date=START + timedelta(days=400, hours=position),
                          subject=str(message["Subject"]), sender_name="" if ours else "Kund Kundsson",
                          sender_address=ADDRESS if ours else "kund@kund.example", seen=True, preview="Hej!",
                          raw=raw, message_key=key, reference_keys=" ".join(chain[-20:]))
            db.add(row)
            db.flush()
            conversations.thread_folder(db, folder)
            newest = row.id
            chain.append(key)
        db.commit()
    return newest


def open_benchmark(app, message_id: int, runs: int) -> tuple[float, float, float]:
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_port
        cookie, token = _sign_in(port)
        timings, cpu = [], []
        for run in range(runs + 1):
            connection = http.client.HTTPConnection("127.0.0.1", port)
            began, began_cpu = time.perf_counter(), time.process_time()
            connection.request("GET", f"/inbox/message/{message_id}",
                               headers={"Cookie": cookie, "HX-Request": "true", "HX-Target": "reading"})
            response = connection.getresponse()
            body = response.read()
            elapsed, elapsed_cpu = time.perf_counter() - began, time.process_time() - began_cpu
            connection.close()
            shown = body.count(b"data-conversation-message=") + 1  # the others' lines, and the open one
            if response.status != 200 or shown != 50:
                raise RuntimeError(f"the conversation did not open whole: {response.status}, {shown} messages")
            if run:
                timings.append(elapsed)
                cpu.append(elapsed_cpu)
        return statistics.median(timings), max(timings), statistics.median(cpu)
    finally:
        server.shutdown()


def _sign_in(port: int) -> tuple[str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/signin")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = _cookies(response, "")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = f"email={ADDRESS}&password={CRM_PASSWORD}&csrf_token={token}"
    connection.request("POST", "/signin", body=body, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    return _cookies(response, cookie), token


def _cookies(response, earlier: str) -> str:
    """The Cookie header after this response: its cookies (the session's, the device's) over earlier ones."""
    jar = dict(pair.split("=", 1) for pair in earlier.split("; ") if "=" in pair)
    for header in response.msg.get_all("Set-Cookie") or []:
        name, _, value = header.split(";", 1)[0].partition("=")
        jar[name] = value
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()
    from app import create_app
    from mailcore import services
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/threads.db" if args.database == "sqlite" else args.database
        app = create_app({"INSTANCE_PATH": f"{tmp}/instance", "DATABASE_URL": url, "SECRET_KEY": "bench-secret",
                          "SYNC_MODE": "external", "SESSION_COOKIE_SECURE": False})
        with app.extensions["mail"].sessions() as db:
            services.create_user(db, ADDRESS, CRM_PASSWORD, "Bench Bänk", "sv")
        seconds, cpu, whole, made = thread_benchmark(app, args.messages)
        print(f"threading {args.messages:,} messages in batches of {BATCH:,}: {seconds:.2f} s ({cpu:.2f} s of CPU) "
              f"(the whole store with it {whole:.2f} s), {made:,} conversations; target under {THREAD_TARGET} s")
        newest = conversation_rows(app)
        median, slowest, cpu = open_benchmark(app, newest, args.runs)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"opening a 50-message conversation (GET /inbox/message/<id> over HTTP): median {median * 1000:.0f} ms, "
              f"slowest {slowest * 1000:.0f} ms of {args.runs} (median CPU {cpu * 1000:.0f} ms, server and client); "
              f"target under {OPEN_TARGET * 1000:.0f} ms")
    return 0 if seconds < THREAD_TARGET and median < OPEN_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
