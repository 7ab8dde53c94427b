"""How far one deployment goes: PostgreSQL, Redis and Dramatiq, gunicorn, sync workers and watchers as
separate processes, against the real Dovecot of localmail/lab.py, in one run, printed as a table.

    .venv/bin/python benchmarks/scale.py [--accounts 1000] [--messages 200] [--watchers 2]
        [--throughput-accounts 100] [--worker-counts 1,2,4] [--arrivals 100] [--web-messages 100000]
        [--web-seconds 15] [--clients 50] [--no-service-restarts]

1. first syncs through the queue with 1, 2 and 4 `flask sync worker` processes (one sync thread each),
   --throughput-accounts new accounts of --messages messages each, on a fresh database each time:
   messages stored per second, from the workers' start to the last row;
2. all --accounts accounts first-synced by two worker processes of two threads; one worker is killed
   with -9 ten seconds in and replaced; then every account must hold exactly its messages;
3. --watchers `flask sync watch` processes watch every account: memory per watched account (the
   watchers' RSS divided by the accounts; an idle watcher's own RSS said beside it), and the time
   from a message arriving at Dovecot (APPEND done) to its row in the database, p50 and p95 of
   --arrivals messages to random accounts, about five a second;
4. faults during a run of arrivals: a watcher killed with -9, PostgreSQL restarted, Redis restarted
   (it keeps nothing on disk); afterwards every arrival must be stored once and every account's
   INBOX must equal Dovecot's;
5. the inbox list page (GET /inbox/, the full page) of a user with --web-messages stored messages, on
   gunicorn with 1, 2 and 4 workers, --clients closed-loop clients (wrk) for --web-seconds each:
   requests per second and p95; then an offered load of --clients users each opening the list every
   2 s (an open loop) for 30 s on 4 workers: p95.

Needs root (Dovecot), PostgreSQL and Redis on loopback (started when not running), and wrk
(apt-get install wrk). The machine's other work shares its cores: the conditions are printed too.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localmail import services  # noqa: E402
from localmail.waits import eventually  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_sync", ROOT / "benchmarks" / "sync.py")
bench_sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_sync)
LabProcess = bench_sync.LabProcess
CRM_PASSWORD = "crm-password-1"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %.3f %.3f %.3f %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""


class Table:
    def __init__(self):
        self.rows: list[tuple[str, str, str, str]] = []
        self.missed: list[str] = []

    def add(self, what: str, figure: str, target: str = "", ok: bool | None = None) -> None:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        if ok is False:
            self.missed.append(what)
        self.rows.append((what, figure, target, verdict))
        print(f"  {what}: {figure} {('(target ' + target + ')') if target else ''} {verdict}", flush=True)

    def print(self) -> None:
        print("\n| what | figure | target | |\n|---|---|---|---|")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")


# --- the app and its processes ---------------------------------------------------------------------


def app_config(lab: LabProcess, directory: Path, database: str, queue: str) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "TESTING": True, "INSTANCE_PATH": str(directory / "instance"), "DATABASE_URL": database,
        "SECRET_KEY": "benchmark-secret-key-shared-by-every-process", "MAIL_CA_BUNDLE": lab.info["ca_bundle"],
        "MAIL_ALLOWED_NETWORKS": "127.0.0.0/8", "MAIL_ALLOWED_PORTS": lab.info["ports"], "MAIL_TIMEOUT": 60.0,
        "SYNC_MODE": "queue", "QUEUE_URL": queue,
    }


def process_env(config: dict, **extra) -> dict[str, str]:
    names = ("INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY", "MAIL_CA_BUNDLE", "MAIL_ALLOWED_NETWORKS",
             "MAIL_ALLOWED_PORTS", "MAIL_TIMEOUT", "SYNC_MODE", "QUEUE_URL")
    return {**{name: str(config[name]) for name in names}, **{k: str(v) for k, v in extra.items()}}


def add_accounts(app, lab: LabProcess, users: list[tuple[str, str]]) -> list[int]:
    """CRM users with connected accounts, as the setup dialog leaves them, written straight into the
    database (the dialog's checks would cost two logins each) in one transaction; their first sync is due."""
    from werkzeug.security import generate_password_hash

    from mailcore.account import seal_credentials
    from mailcore.models import Account, ContactEmail, User
    from mailcore.settings import Credentials

    mail = app.extensions["mail"]
    password_hash = generate_password_hash(CRM_PASSWORD)
    ids = []
    with mail.sessions() as db:
        for address, password in users:
            user = User(email=address, name=f"User {address.split('@')[0]}", password_hash=password_hash,
                        language="en")
            user.contact_emails.append(ContactEmail(position=0, address=address))
            account = Account(address=address, settings_source="bench", imap_host=lab.hostname,
                              imap_port=lab.imap_tls_port, imap_ssl=True, imap_username=address, imap_password=b"",
                              smtp_host=lab.hostname, smtp_port=lab.smtp_tls_port, smtp_ssl=True,
                              smtp_username=address, smtp_password=b"", smtp_same_login=True)
            user.account = account
            db.add(user)
            db.flush()
            seal_credentials(account, mail.box, Credentials(password, password))
            ids.append(account.id)
        db.commit()
    return ids


def stored_count(app) -> int:
    from sqlalchemy import func, select

    from mailcore.models import Message

    with app.extensions["mail"].sessions() as db:
        return db.scalar(select(func.count(Message.id))) or 0


def wait_until(check, seconds: float, every: float = 0.5):
    return eventually(check, seconds, every)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sockets_of(pid: int) -> int:
    count = 0
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return count


def workers(config: dict, count: int, threads: int, directory: Path, name: str) -> list[services.AppProcess]:
    return [services.AppProcess.flask(["sync", "worker", "--workers", str(threads)], process_env(config),
                                      directory / f"{name}-{n}.log") for n in range(count)]


def stop_all(processes) -> None:
    for process in processes:
        if process.process.poll() is None:
            process.stop()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used (from /proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        children = children_of(todo.pop())
        found += children
        todo += children
    return found


def mail_server_cpu(lab) -> float:
    """CPU seconds Dovecot has used: its live processes, and through its master the ones that ended
    (per connection processes come and go)."""
    total = 0
    for pid in descendants(lab.pid):
        with contextlib.suppress(OSError):
            comm, rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
            fields = rest.split()
            name = comm.split("(", 1)[1]
            if name.startswith("python"):
                continue
            total += int(fields[11]) + int(fields[12])
            if name == "dovecot":  # the master: what its ended children used
                total += int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, from /proc/stat."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), sum(ticks) / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- 1: first-sync throughput ------------------------------------------------------------------------


def throughput(lab, users, counts: list[int], messages: int, workdir: Path, table: Table) -> None:
    from app import create_app

    rates = []
    for count in counts:
        with services.fresh_database("inkorg_bench") as url:
            config = app_config(lab, workdir / f"throughput-{count}", url, services.fresh_queue_url())
            app = create_app(config)
            running = workers(config, count, 1, workdir, f"throughput-{count}")
            for process in running:  # started and waiting: what is timed is syncing, not starting Python
                process.wait_for_output("sync worker running", 120)
            expected = len(users) * messages
            started = time.monotonic()
            mail_before, (busy_before, all_before) = mail_server_cpu(lab), machine_busy()
            add_accounts(app, lab, users)
            done = wait_until(lambda app=app, expected=expected: stored_count(app) >= expected, 900, every=0.25)
            seconds = time.monotonic() - started
            busy, every = (after - before for after, before in zip(machine_busy(), (busy_before, all_before),
                                                                    strict=True))
            mail_cores = (mail_server_cpu(lab) - mail_before) / seconds
            stop_all(running)
            app.extensions["mail"].engine.dispose()
            if not done:
                raise RuntimeError(f"the first syncs with {count} workers did not finish: "
                                   f"{stored_count(app)} of {expected}")
            rates.append(expected / seconds)
            table.add(f"first syncs through the queue, {count} worker process{'es' if count > 1 else ''}",
                      f"{expected / seconds:.0f} messages/s ({expected} messages of {len(users)} accounts in "
                      f"{seconds:.1f} s; the machine's cores {busy / every:.0%} busy, Dovecot using "
                      f"{mail_cores:.2f} of its {os.cpu_count()} cores; load {loadavg()})")
    grows = all(b > a * 1.05 for a, b in zip(rates, rates[1:2], strict=False))
    table.add("throughput grows with workers", " -> ".join(f"{r:.0f}" for r in rates),
              "grows until the machine's 2 cores are the bottleneck", grows)


# --- 2-4: the watched run, with faults --------------------------------------------------------------


class Arrivals:
    """Messages appended to Dovecot, and when each one's row appeared in the database."""

    def __init__(self, lab: LabProcess, database: str):
        self.lab, self.database = lab, database
        self.sent: dict[str, tuple[str, float]] = {}  # subject -> (address, when APPEND was done)
        self.seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, daemon=True)
        self._poller.start()

    def send(self, address: str, label: str) -> None:
        subject = f"Arrival {label} {len(self.sent)} {random.getrandbits(32):08x}"
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "Kund <kund@example.se>", address, subject
        message.set_content("Hej! Ett nytt meddelande.")
        self.lab._call("append", address, message.as_bytes())
        with self._lock:
            self.sent[subject] = (address, time.monotonic())

    def _poll(self) -> None:
        import psycopg

        connection = None
        while not self._stop.wait(0.05):
            with self._lock:
                waiting = [s for s in self.sent if s not in self.seen]
            if not waiting:
                continue
            try:
                if connection is None or connection.closed:
                    connection = psycopg.connect(self.database, autocommit=True, connect_timeout=2)
                found = connection.execute("SELECT subject FROM messages WHERE subject = ANY(%s)", (waiting,))
                now = time.monotonic()
                with self._lock:
                    for (subject,) in found:
                        self.seen.setdefault(subject, now)
            except psycopg.Error:
                connection = None  # PostgreSQL restarting: try again

    def latencies(self, label: str) -> list[float]:
        with self._lock:
            return [self.seen[s] - at for s, (_, at) in self.sent.items() if f" {label} " in s and s in self.seen]

    def missing(self) -> list[str]:
        with self._lock:
            return [s for s in self.sent if s not in self.seen]

    def stop(self) -> None:
        self._stop.set()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def watched_run(lab, users, messages: int, watchers_count: int, arrivals: int, restarts: bool, workdir: Path,
                table: Table) -> None:
    from sqlalchemy import func, select

    from app import create_app
    from mailcore.models import Account, Folder, Message

    with services.fresh_database("inkorg_bench") as url:
        config = app_config(lab, workdir / "watched", url, services.fresh_queue_url())
        app = create_app(config)
        ids = add_accounts(app, lab, users)
        expected = len(users) * messages
        # 2: every account's first sync, a worker killed mid-way
        started = time.monotonic()
        running = workers(config, 2, 2, workdir, "watched")
        time.sleep(10)
        before_kill = stored_count(app)
        running[0].kill()
        running.append(workers(config, 1, 2, workdir, "watched-replacement")[0])
        done = wait_until(lambda: stored_count(app) >= expected, 1800, every=1)
        seconds = time.monotonic() - started
        with app.extensions["mail"].sessions() as db:
            per_account = dict(db.execute(select(Folder.account_id, func.count(Message.id)).join(Message)
                                          .group_by(Folder.account_id)).all())
        exact = done and all(per_account.get(i) == messages for i in ids)
        table.add(f"first sync of all {len(users)} accounts ({expected} messages), 2 workers x 2 threads",
                  f"{seconds:.0f} s = {expected / seconds:.0f} messages/s; one worker killed with -9 after 10 s "
                  f"({before_kill} stored by then) and replaced; every account holds exactly its {messages}: "
                  f"{'yes' if exact else 'NO'}", "nothing lost or duplicated", exact)
        wait_until(lambda: _all_ok(app, ids), 300, every=1)

        # 3: watchers, memory, arrival to row
        idle = services.AppProcess.flask(["sync", "watch", "--accounts", "0"], process_env(config),
                                         workdir / "watch-idle.log")
        watchers = [services.AppProcess.flask(["sync", "watch", "--accounts", str(len(users))],
                                              process_env(config), workdir / f"watch-{n}.log")
                    for n in range(watchers_count)]
        settle = time.monotonic()
        watching = wait_until(lambda: sum(sockets_of(w.pid) for w in watchers) >= len(users) and _all_leased(app, ids),
                              600, every=1)
        table.add("all accounts watched", f"{len(users)} accounts by {watchers_count} watcher processes in "
                  f"{time.monotonic() - settle:.0f} s (connections: "
                  f"{' + '.join(str(sockets_of(w.pid)) for w in watchers)} sockets)", "", bool(watching))
        time.sleep(20)  # each watcher's first INBOX sync per account is done
        rss = sum(rss_kb(w.pid) for w in watchers)
        idle_rss = rss_kb(idle.pid)
        per = rss / len(users)
        table.add("memory per watched account", f"{per:.0f} KB ({rss / 1024:.0f} MB RSS of {watchers_count} watchers "
                  f"/ {len(users)} accounts; an idle watcher process alone is {idle_rss / 1024:.0f} MB, so "
                  f"{(rss - watchers_count * idle_rss) / len(users):.0f} KB is the accounts' own)", "under 1 MB",
                  per < 1024)
        idle.stop()
        addresses = [address for address, _ in users]
        feed = Arrivals(lab, url)
        for _n in range(arrivals):
            feed.send(random.choice(addresses), "steady")
            time.sleep(0.2)
        wait_until(lambda: not feed.missing(), 60)
        steady = feed.latencies("steady")
        p50, p95 = percentile(steady, 50), percentile(steady, 95)
        table.add("new message at Dovecot to its row, all accounts watched",
                  f"p50 {p50:.2f} s, p95 {p95:.2f} s ({len(steady)} of {arrivals} arrivals to random accounts, "
                  f"5 a second; load {loadavg()})", "p95 under 5 s", p95 < 5 and len(steady) == arrivals)

        # 4: faults while mail keeps arriving
        killed_owner = _owner_of_pid(app, watchers[0].pid)
        killed_accounts = _accounts_of(app, killed_owner)
        watchers[0].kill()
        watchers.append(services.AppProcess.flask(["sync", "watch", "--accounts", str(len(users))],
                                                  process_env(config), workdir / "watch-replacement.log"))
        fault_started = time.monotonic()
        events = [f"watcher killed with -9 (holding {len(killed_accounts)} accounts) and a new one started"]
        faults = {20: "postgresql", 40: "redis"} if restarts else {}
        sent = 0
        while time.monotonic() - fault_started < 60:
            elapsed = time.monotonic() - fault_started
            for at, what in list(faults.items()):
                if elapsed >= at:
                    del faults[at]
                    if what == "postgresql":
                        services.restart_postgresql()
                        events.append(f"PostgreSQL restarted at {elapsed:.0f} s")
                    else:
                        services.stop_redis()
                        services.start_redis()
                        events.append(f"Redis restarted at {elapsed:.0f} s")
            pool = killed_accounts if sent % 2 == 0 and killed_accounts else addresses
            try:
                feed.send(random.choice(pool), "fault")
                sent += 1
            except RuntimeError:
                pass  # the lab's APPEND session failed: nothing arrived, nothing to wait for
            time.sleep(0.5)
        landed = wait_until(lambda: not feed.missing(), 420, every=1)
        feed.stop()
        during = feed.latencies("fault")
        stored_inbox = _inbox_counts(app)
        sent_to: dict[str, int] = {}
        for _subject, (address, _at) in feed.sent.items():
            sent_to[address] = sent_to.get(address, 0) + 1
        with app.extensions["mail"].sessions() as db:
            addresses_by_id = dict(db.execute(select(Account.id, Account.address)).all())
        equal = all(stored_inbox.get(i, 0) == messages + sent_to.get(addresses_by_id[i], 0) for i in ids)
        with app.extensions["mail"].sessions() as db:
            duplicates = db.scalar(select(func.count()).select_from(
                select(Message.subject).where(Message.subject.like("Arrival %")).group_by(Message.subject)
                .having(func.count() > 1).subquery()))
        table.add("faults during arrivals", "; ".join(events) + f". {len(during)} of {sent} arrivals stored "
                  f"(p50 {percentile(during, 50):.1f} s, max {max(during, default=float('nan')):.0f} s), "
                  f"{duplicates} stored twice; every INBOX equals Dovecot's: {'yes' if equal else 'NO'}",
                  "nothing lost, nothing duplicated, all caught up", bool(landed) and equal and duplicates == 0)
        stop_all(watchers + running)
        app.extensions["mail"].engine.dispose()


def _all_ok(app, ids) -> bool:
    from sqlalchemy import func, select

    from mailcore.models import Account, SyncState

    with app.extensions["mail"].sessions() as db:
        return db.scalar(select(func.count(Account.id)).where(Account.sync_state == SyncState.OK)) == len(ids)


def _all_leased(app, ids) -> bool:
    from sqlalchemy import func, select

    from mailcore.models import Account, utcnow

    with app.extensions["mail"].sessions() as db:
        return db.scalar(select(func.count(Account.id)).where(Account.watch_lease_until > utcnow())) == len(ids)


def _owner_of_pid(app, pid: int) -> str:
    from sqlalchemy import select

    from mailcore.models import Account

    with app.extensions["mail"].sessions() as db:
        owners = set(db.scalars(select(Account.watch_owner).where(Account.watch_owner.like(f"%:{pid}:%"))))
    return next(iter(owners), "")


def _accounts_of(app, owner: str) -> list[str]:
    from sqlalchemy import select

    from mailcore.models import Account

    with app.extensions["mail"].sessions() as db:
        return list(db.scalars(select(Account.address).where(Account.watch_owner == owner)))


def _inbox_counts(app) -> dict[int, int]:
    from sqlalchemy import func, select

    from mailcore.models import Folder, Message

    with app.extensions["mail"].sessions() as db:
        return dict(db.execute(select(Folder.account_id, func.count(Message.id)).join(Message)
                               .where(Folder.role == "inbox").group_by(Folder.account_id)).all())


# --- 5: the web ------------------------------------------------------------------------------------------


def sign_in(port: int, email: str) -> str:
    """The session cookie of a signed-in user, from the running web app."""
    import requests

    web = requests.Session()
    page = web.get(f"http://127.0.0.1:{port}/signin", timeout=60).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = web.post(f"http://127.0.0.1:{port}/signin", data={"email": email, "password": CRM_PASSWORD,
                                                              "csrf_token": token}, allow_redirects=False, timeout=60)
    assert answer.status_code == 302, answer.status_code
    return "; ".join(f"{c.name}={c.value}" for c in web.cookies)


def wrk(port: int, cookie: str, clients: int, seconds: int, script: Path) -> tuple[float, float, float, int]:
    done = subprocess.run(["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s",
                           "-s", str(script), "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}/inbox/"],
                          capture_output=True, text=True, check=True)
    requests, duration, p50, p95, errors = re.search(r"RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)",
                                                     done.stdout).groups()
    return int(requests) / float(duration), float(p50), float(p95), int(errors)


def open_loop(port: int, cookie: str, users: int, every: float, seconds: float) -> tuple[list[float], int]:
    """`users` each opening the list every `every` seconds, whatever the answers take (an open loop)."""
    times: list[float] = []
    failures = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def user(offset: float) -> None:
        next_at = time.monotonic() + offset
        while next_at < end:
            time.sleep(max(0.0, next_at - time.monotonic()))
            started = time.monotonic()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/inbox/", headers={"Cookie": cookie})
                answer = connection.getresponse()
                answer.read()
                ok = answer.status == 200
                connection.close()
            except OSError:
                ok = False
            with lock:
                if ok:
                    times.append((time.monotonic() - started) * 1000)
                else:
                    failures[0] += 1
            next_at += every

    threads = [threading.Thread(target=user, args=(every * n / users,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, failures[0]


def web(lab, workdir: Path, list_messages: int, clients: int, seconds: int, table: Table) -> None:
    from app import create_app

    address, password = lab.new_user(0, seed=99)
    script = workdir / "wrk.lua"
    script.write_text(WRK_SCRIPT)
    with services.fresh_database("inkorg_bench") as url:
        config = dict(app_config(lab, workdir / "web", url, services.fresh_queue_url()), SYNC_MODE="external")
        app = create_app(config)
        (account_id,) = add_accounts(app, lab, [(address, password)])
        summary = bench_sync.make_sync(app).run(account_id)  # folders from the server, INBOX empty
        assert summary.state == "ok", summary
        bench_sync.insert_rows(app, bench_sync.inbox_id(app, account_id), list_messages, seed=5)
        with app.extensions["mail"].engine.begin() as connection:
            # the statistics autovacuum keeps on a running database, for rows inserted a moment ago:
            # without them PostgreSQL sorts the whole folder for each page (about 45 ms of its CPU)
            connection.exec_driver_sql("ANALYZE")
        app.extensions["mail"].engine.dispose()
        env = process_env(config)
        rates = []
        for count in (1, 2, 4):
            port = services.free_port()
            server = services.AppProcess.gunicorn(port, count, env, workdir / f"gunicorn-{count}.log")
            try:
                if not services.wait_http(port):
                    raise RuntimeError(server.output())
                cookie = sign_in(port, address)
                wrk(port, cookie, clients, 3, script)  # warm-up: every worker's first requests
                web_workers = children_of(server.pid)
                cpu_before = cpu_seconds(web_workers)
                rate, p50, p95, errors = wrk(port, cookie, clients, seconds, script)
                cpu = (cpu_seconds(web_workers) - cpu_before) / max(1, rate * seconds) * 1000
                rates.append(rate)
                table.add(f"inbox list page, {list_messages} messages, gunicorn {count} worker{'s' * (count > 1)}, "
                          f"{clients} closed-loop clients", f"{rate:.0f} requests/s, p50 {p50:.0f} ms, p95 "
                          f"{p95:.0f} ms, {errors} errors; {cpu:.0f} ms of CPU per request in the web workers "
                          f"({seconds} s, load {loadavg()})")
                if count == 4:
                    times, failures = open_loop(port, cookie, clients, 2.0, 30)
                    p95_open = percentile(times, 95)
                    table.add(f"inbox list page at {clients} users each every 2 s (gunicorn 4 workers)",
                              f"p95 {p95_open:.0f} ms, p50 {percentile(times, 50):.0f} ms ({len(times)} requests, "
                              f"{failures} failed, 30 s)", "p95 under 100 ms", p95_open < 100 and not failures)
            finally:
                server.stop()
        table.add("requests/s grow with gunicorn workers up to the cores",
                  " -> ".join(f"{r:.0f}" for r in rates), "1 -> 2 grows (2 cores)", rates[1] > rates[0] * 1.1)


# --- main ----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--watchers", type=int, default=2)
    parser.add_argument("--throughput-accounts", type=int, default=100)
    parser.add_argument("--worker-counts", default="1,2,4")
    parser.add_argument("--arrivals", type=int, default=100)
    parser.add_argument("--web-messages", type=int, default=100000)
    parser.add_argument("--web-seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--no-service-restarts", action="store_true",
                        help="do not restart PostgreSQL and Redis (they serve others on this machine)")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: throughput,watched,web")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if "web" not in skip and shutil.which("wrk") is None:
        parser.error("the web figures need wrk: apt-get install wrk (or --skip web)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 65536)), hard))  # a socket per account
    services.start_postgresql()
    services.start_redis()
    began = time.monotonic()
    table = Table()
    print(f"{os.cpu_count()} cores, load {loadavg()} at the start", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        workdir = Path(tmp)
        lab = LabProcess(workdir / "lab", connections=args.accounts * 2 + 400)
        try:
            started = time.monotonic()
            users = [lab.new_user(args.messages, seed=n) for n in range(args.accounts)]
            print(f"  {args.accounts} mailboxes of {args.messages} messages in Dovecot: "
                  f"{time.monotonic() - started:.0f} s", flush=True)
            if "throughput" not in skip:
                counts = [int(c) for c in args.worker_counts.split(",")]
                throughput(lab, users[:args.throughput_accounts], counts, args.messages, workdir, table)
            if "watched" not in skip:
                watched_run(lab, users, args.messages, args.watchers, args.arrivals, not args.no_service_restarts,
                            workdir, table)
            if "web" not in skip:
                web(lab, workdir, args.web_messages, args.clients, args.web_seconds, table)
        finally:
            services.AppProcess.stop_everything()
            lab.stop()
    table.print()
    print(f"\ntotal {time.monotonic() - began:.0f} s; "
          + ("every target met" if not table.missed else f"missed: {', '.join(table.missed)}"), flush=True)
    return 1 if table.missed else 0


if __name__ == "__main__":
    sys.exit(main())
