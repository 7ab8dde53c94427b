"""How long each action of a day's use takes, against the real Dovecot and SMTP server of localmail.

    .venv/bin/python benchmarks/actions.py [--runs 7] [--messages 500]

Each action is a request through the Flask test client as a signed-in user with htmx's headers, on
an account whose INBOX holds --messages messages; the figure is the median of --runs runs (the first
run of each is a warm-up and not counted). Syncs run elsewhere (SYNC_MODE external), as in
production, so no action waits for one. Prints one line per action and exits 1 if any median is over
0.4 s. Needs root (Dovecot drops to its own user).
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 0.4
ADDRESS = "bench@actions.example"
PASSWORD = "bench-mail-password-1"
CRM_PASSWORD = "crm-password-1"


class Client:
    """The test client as htmx calls the app: HX-Request and the CSRF token of the page."""

    def __init__(self, app):
        self.client = app.test_client()
        page = self.client.get("/signin").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        self.client.post("/signin", data={"email": ADDRESS, "password": CRM_PASSWORD, "csrf_token": token})
        inbox = self.client.get("/inbox/").get_data(as_text=True)
        self.token = re.search(r'"X-CSRFToken": "([^"]+)"', inbox).group(1)

    def get(self, url: str) -> str:
        response = self.client.get(url, headers={"HX-Request": "true"})
        if response.status_code not in (200, 204):
            raise RuntimeError(f"GET {url}: {response.status_code}")
        return response.get_data(as_text=True)

    def post(self, url: str, data: dict, multipart: bool = False) -> str:
        response = self.client.post(url, data=data, headers={"HX-Request": "true", "X-CSRFToken": self.token},
                                    content_type="multipart/form-data" if multipart else None)
        if response.status_code not in (200, 204):
            raise RuntimeError(f"POST {url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response.get_data(as_text=True)


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="profile one draft save")
    args = parser.parse_args()

    from sqlalchemy import select

    from app import create_app
    from localmail import MailLab
    from mailcore import services
    from mailcore.models import Folder, Message
    from mailcore.settings import AccountSettings, Credentials, ServerSettings
    from mailcore.sync.engine import AccountSync

    with tempfile.TemporaryDirectory(prefix="inkorg-actions-") as tmp:
        workdir = Path(tmp)
        lab = MailLab.start(workdir / "mail")
        try:
            lab.add_user(ADDRESS, PASSWORD)
            lab.bulk_load(ADDRESS, args.messages, seed=7)
            ports = f"{lab.imap_tls_port} {lab.smtp_tls_port}"
            app = create_app({
                "TESTING": True, "INSTANCE_PATH": str(workdir / "instance"),
                "DATABASE_URL": f"sqlite:///{workdir / 'inkorg.db'}", "SECRET_KEY": "actions-benchmark",
                "MAIL_CA_BUNDLE": str(lab.ca_bundle), "MAIL_ALLOWED_NETWORKS": "127.0.0.0/8",
                "MAIL_ALLOWED_PORTS": ports, "MAIL_TESTS_PER_5_MINUTES": 1000, "SYNC_MODE": "external"})
            mail = app.extensions["mail"]
            with mail.sessions() as db:
                user = services.create_user(db, ADDRESS, CRM_PASSWORD, "Bench User", "en")
                service = services.MailService(db, mail)
                settings = AccountSettings(ADDRESS, ServerSettings(lab.hostname, lab.imap_tls_port, True, ADDRESS),
                                           ServerSettings(lab.hostname, lab.smtp_tls_port, True, ADDRESS))
                if not service.connect(user, settings, Credentials(PASSWORD, PASSWORD)).ok:
                    raise RuntimeError("could not connect the benchmark account")
                account_id = user.account.id
            AccountSync(mail).run(account_id)
            with mail.sessions() as db:
                folders = {f.role or f.name: f.id for f in db.scalars(select(Folder))}
                ids = list(db.scalars(select(Message.id).where(Message.folder_id == folders["inbox"])
                                      .order_by(Message.date.desc())))
            client = Client(app)
            inbox = folders["inbox"]
            spare = iter(ids[5:])
            results: dict[str, list[float]] = {}

            def measure(name: str, action) -> None:
                times = [timed(action) for _ in range(args.runs + 1)][1:]
                results[name] = times

            measure("open a message (fetched from the server)", lambda: client.get(f"/inbox/message/{next(spare)}"))
            measure("open a message again (stored)", lambda: client.get(f"/inbox/message/{ids[0]}"))
            measure("mark as unread and read", lambda: client.post(
                "/inbox/messages/seen", {"ids": ids[1], "seen": str(int(time.time() * 1000) % 2), "folder": inbox}))
            measure("move to Archive", lambda: client.post(
                "/inbox/messages/move", {"ids": next(spare), "target": folders["archive"], "folder": inbox}))

            def delete_and_undo() -> None:
                answers = []
                results.setdefault("delete (to Trash)", []).append(timed(lambda: answers.append(client.post(
                    "/inbox/messages/delete", {"ids": next(spare), "folder": inbox}))))
                undo = re.search(r'name="uids" value="([\d,]+)"', answers[0]).group(1)
                results.setdefault("Undo", []).append(timed(lambda: client.post("/inbox/messages/undo", {
                    "moved_to": folders["trash"], "home": inbox, "uids": undo, "folder": inbox})))

            for _ in range(args.runs + 1):
                delete_and_undo()
            results["delete (to Trash)"] = results["delete (to Trash)"][1:]
            results["Undo"] = results["Undo"][1:]
            measure("the list merged after a change (GET /inbox/changes)", lambda: client.get(
                f"/inbox/changes?folder={inbox}&v=-1&state=ok"))
            words = iter(f"zz{n}word" for n in range(100))
            measure("search, asking the server for bodies",
                    lambda: client.get(f"/inbox/?folder={inbox}&q={next(words)}"))

            def new_window() -> str:
                page = client.get("/inbox/compose/")
                return re.search(r'name="window" type="hidden" value="([^"]+)"', page).group(1)

            def attach(window: str) -> None:
                client.post("/inbox/compose/attachments",
                            {"window": window, "attachments": (io.BytesIO(b"x" * 2**20), "plan.pdf")}, multipart=True)

            windows = [new_window() for _ in range(args.runs + 1)]
            measure("attach a 1 MB file", lambda: attach(windows.pop()))
            window = new_window()
            attach(window)
            counter = iter(range(1000))
            measure("save the draft (with a 1 MB attachment)", lambda: client.post("/inbox/compose/draft", {
                "window": window, "to": "kund@example.test", "subject": f"Utkast {next(counter)}", "body": "text"}))
            if "--profile" in sys.argv:
                import cProfile
                import pstats
                profile = cProfile.Profile()
                profile.enable()
                client.post("/inbox/compose/draft",
                            {"window": window, "to": "k@example.test", "subject": "P", "body": "t"})
                profile.disable()
                pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
            counter_text = iter(range(1000))
            plain = new_window()
            measure("save the draft (text only)", lambda: client.post(
                "/inbox/compose/draft", {"window": plain, "to": "kund@example.test",
                                         "subject": f"Utkast {next(counter_text)}", "body": "text"}))

            def send_one() -> None:
                page = client.get("/inbox/compose/")
                key = re.search(r'name="window" type="hidden" value="([^"]+)"', page).group(1)
                results.setdefault("send (with a Sent copy)", []).append(timed(lambda: client.post("/inbox/compose/", {
                    "window": key, "to": "kund@example.test", "subject": "Benchmark", "body": "x"})))

            for _ in range(args.runs + 1):
                send_one()
            results["send (with a Sent copy)"] = results["send (with a Sent copy)"][1:]
        finally:
            lab.stop()

    missed = False
    for name, times in results.items():
        median = statistics.median(times)
        ok = median <= TARGET
        missed |= not ok
        print(f"{name:55s} median {median * 1000:6.0f} ms  (max {max(times) * 1000:5.0f} ms, {len(times)} runs)"
              f"  {'ok' if ok else 'OVER ' + str(TARGET) + ' s'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
