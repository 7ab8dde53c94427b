"""Operator commands: `flask --app app user add|passwd|remove|list`, `sync now|worker|watch`, `check`, `discover`,
`translate update|compile`, `docs screenshots`; `inkorg` (the installed console command) is
`flask --app app`. Their defaults come from the installation's settings (mailcore.config).

app.py's create_app registers these commands (`register_commands`), so this module does not import
app.py: `inkorg` finds the factory by its name, as `flask --app app` does."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, locate_app

from mailcore import crm_signin as signin
from mailcore import health, services
from mailcore.models import SyncState
from mailcore.sync.jobs import SyncJob, ThreadRunner
from mailcore.sync.watch import Watcher

APP_FACTORY = ("app", "create_app")  # the module and the factory `inkorg` builds the app with


def register_commands(app: Flask, factory: Callable[..., Flask]) -> None:
    """Every command of this module on `app`; `factory` (app.create_app) builds the documentation's apps."""
    register_cli(app)
    register_check_cli(app)
    register_discover_cli(app)
    register_sync_cli(app)
    register_translate_cli(app)
    register_docs_cli(app, factory)


def _existing_user(db, email: str):
    found = services.user_by_email(db, email)
    if found is None:
        raise click.ClickException(f"there is no user with the email {email}")
    return found


def register_cli(app: Flask) -> None:
    register_crm_cli(app)
    user = app.cli.group("user", help="CRM users.")(lambda: None)

    @user.command("add")
    @click.argument("email")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Sign-in password.")
    @click.option("--name", required=True, help="Full name, as on the contact card.")
    @click.option("--lang", type=click.Choice(["sv", "en"]), default=None, help="Interface language.")
    def add(email: str, password: str, name: str, lang: str | None) -> None:
        """Create a CRM user whose contact card's first email is EMAIL."""
        if len(password) < 8:
            raise click.BadParameter("use at least 8 characters", param_hint="--password")
        with current_app.extensions["mail"].sessions() as db:
            try:
                created = services.create_user(db, email, password, name, lang,
                                               password_method=current_app.config["PASSWORD_HASH"])
            except services.UserExists:
                raise click.ClickException(f"a user with the email {email} already exists") from None
            click.echo(f"Created {created.email} ({created.name})")

    @user.command("passwd")
    @click.argument("email")
    @click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
                  help="The new sign-in password.")
    def passwd(email: str, password: str) -> None:
        """Set a new CRM password for EMAIL; every session of that user ends."""
        if len(password) < 8:
            raise click.BadParameter("use at least 8 characters", param_hint="--password")
        with current_app.extensions["mail"].sessions() as db:
            found = _existing_user(db, email)
            ended = signin.change_password(db, found, password, current_app.config["PASSWORD_HASH"])
            click.echo(f"New password set for {found.email}; {ended} session(s) ended")

    @user.command("remove")
    @click.argument("email")
    @click.confirmation_option(prompt="Remove this user with their contact card, email account and archive?")
    def remove(email: str) -> None:
        """Remove the CRM user EMAIL, their contact card, email account and archived emails; every
        session of that user ends."""
        with current_app.extensions["mail"].sessions() as db:
            found = _existing_user(db, email)
            signin.remove_user(db, found)
            click.echo(f"Removed {found.email}")

    @user.command("list")
    def list_() -> None:
        """List CRM users and their connected mail accounts."""
        with current_app.extensions["mail"].sessions() as db:
            for item in services.list_users(db):
                account = item.account.address if item.account else "-"
                click.echo(f"{item.email}\t{item.name}\t{item.language or '-'}\t{account}")


def register_crm_cli(app: Flask) -> None:
    """`flask --app app crm import|export`: persons as vCards or CSV (mailcore/crm/transfer.py)."""
    from mailcore.crm import transfer

    group = app.cli.group("crm", help="CRM persons and companies.")(lambda: None)

    @group.command("import")
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
    def import_(files: tuple[str, ...]) -> None:
        """Create or update persons from vCard and CSV FILES, by email address; list what was done."""
        with current_app.extensions["mail"].sessions() as db:
            for line in transfer.import_files(db, files).lines():
                click.echo(line)

    @group.command("export")
    @click.option("--format", "fmt", type=click.Choice(transfer.FORMATS), required=True, help="vCard or CSV.")
    @click.option("--output", type=click.File("w", encoding="utf-8", lazy=True), default="-",
                  help="The file to write [default: standard output].")
    def export(fmt: str, output) -> None:
        """Write every person out, as vCards (3.0) or CSV."""
        with current_app.extensions["mail"].sessions() as db:
            transfer.export(db, fmt, output)


def register_sync_cli(app: Flask) -> None:
    """`flask --app app sync now|worker`."""
    group = app.cli.group("sync", help="Mailbox synchronisation.")(lambda: None)

    @group.command("now")
    @click.option("--user", "email", required=True, help="The CRM user whose account to sync.")
    def now(email: str) -> None:
        """Run one full sync in the foreground and print a JSON summary."""
        mail = current_app.extensions["mail"]
        with mail.sessions() as db:
            user = services.user_by_email(db, email)
            if user is None or user.account is None:
                raise click.ClickException(f"{email} has no connected email account")
            account_id = user.account.id
        summary = mail.run_job(SyncJob(account_id))
        click.echo(json.dumps(summary.as_dict()))
        if summary.state != SyncState.OK:
            raise SystemExit(1)

    @group.command("worker")
    @click.option("--workers", type=int, default=None, help="Sync threads [default: SYNC_WORKERS, 2].")
    def worker(workers: int | None) -> None:
        """Run sync workers in this process until stopped. With SYNC_MODE=queue they take jobs from
        the queue (with the periodic scheduler; IDLE is `sync watch`'s); with SYNC_MODE=external
        they poll the database and run the IDLE watcher of `sync watch` in a thread."""
        mail = current_app.extensions["mail"]
        workers = workers or mail.settings.sync_workers
        if mail.sync_mode == "queue":
            from mailcore.sync.queue import Scheduler  # Dramatiq and Redis: only installed where the queue is used

            running = [mail.runner.worker(workers), Scheduler(mail, mail.runner)]
        else:
            running = [ThreadRunner(mail, workers=workers, watch_lease=mail.settings.watch_lease)]
        for part in running:
            part.start()
        click.echo(f"sync worker running with {workers} threads ({mail.sync_mode}); Ctrl-C stops it")
        _until_stopped()
        for part in running:
            part.stop()

    @group.command("watch")
    @click.option("--accounts", default=1000, show_default=True, help="The most accounts this process watches.")
    @click.option("--connectors", default=8, show_default=True, help="Threads that open connections.")
    def watch(accounts: int, connectors: int) -> None:
        """Hold the INBOX connections (IDLE) of many accounts in this process and ask for a sync when
        one changes; run several on one or more machines: they share the accounts by leases."""
        mail = current_app.extensions["mail"]
        watcher = Watcher(mail, capacity=accounts, connectors=connectors,
                          lease=mail.settings.watch_lease)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        click.echo(f"sync watcher {watcher.owner} running for up to {accounts} accounts; Ctrl-C stops it")
        watcher.run(stop)


def _until_stopped() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass


def register_check_cli(app: Flask) -> None:
    @app.cli.command("check")
    def check() -> None:
        """Report what is misconfigured: database, queue and workers, keys, external URL. Exits 1 on a problem."""
        findings = health.check(current_app.config, current_app.extensions["mail"], Path(current_app.instance_path))
        for finding in findings:
            click.echo(finding.line())
        if any(f.level == health.PROBLEM for f in findings):
            raise SystemExit(1)


def register_discover_cli(app: Flask) -> None:
    @app.cli.command("discover")
    @click.argument("address")
    def discover(address: str) -> None:
        """What discovery finds for ADDRESS: the settings, the source that answered, and what every source
        said and how long it took. No password is asked or sent. Exits 1 when nothing usable is found."""
        from mailcore.discovery.detect import describe

        local, _, domain = address.rpartition("@")
        if not local or "." not in domain:
            raise click.ClickException(f"not an email address: {address}")
        detector = current_app.extensions["mail"].detector
        found, reports = detector.explain(address)
        click.echo(f"{address}: {'found by ' + found.source if found.settings else 'nothing usable found'} "
                   f"in {found.seconds:.2f} s")
        if found.settings is not None or found.pop3_only:
            click.echo(f"  {describe(found)}")
        click.echo("What every source said (seconds from the start):")
        order = ["provider", "autoconfig", "ispdb", "srv", "mx", "guess"]
        for report in sorted(reports, key=lambda r: order.index(r.source) if r.source in order else len(order)):
            via = f" [{report.found.source}]" if report.found and report.found.source != report.source else ""
            click.echo(f"  {report.source:<11} {report.seconds:6.3f}  {report.said}{via}")
        ispdb = detector.ispdb
        click.echo(f"ISPDB: {ispdb.base_url} (asked with the domain only)" if ispdb else
                   "ISPDB: off (MAIL_ISPDB_URL is empty)")
        if found.settings is None:
            raise SystemExit(1)


def register_translate_cli(app: Flask) -> None:
    """`flask --app app translate update|compile`: pybabel with this project's paths."""
    root = Path(__file__).resolve().parent
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    group = app.cli.group("translate", help="Translation catalogs (sv, en).")(lambda: None)

    def run(*args: str) -> None:
        subprocess.run([*pybabel, *args], cwd=root, check=True)

    @group.command("update")
    def update() -> None:
        """Extract every string and merge it into both catalogs."""
        run("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
            "-o", "translations/messages.pot", ".")
        for lang in ("sv", "en"):
            po = root / "translations" / lang / "LC_MESSAGES" / "messages.po"
            if po.exists():
                run("update", "-i", "translations/messages.pot", "-d", "translations", "-l", lang,
                    "--no-fuzzy-matching", "--ignore-obsolete")
            else:
                run("init", "-i", "translations/messages.pot", "-d", "translations", "-l", lang)

    @group.command("compile")
    def compile_() -> None:
        """Compile the catalogs (the setup script does this too)."""
        from mailcore.catalogs import compile_catalogs

        for mo in compile_catalogs(root / "translations"):
            click.echo(f"compiled {mo.relative_to(root)}")


def register_docs_cli(app: Flask, factory: Callable[..., Flask]) -> None:
    """`flask --app app docs screenshots` (`inkorg docs screenshots` from an installed distribution with the
    `docs` extra): the user guide's pictures, taken by localmail.screens in the demo mailbox the
    distribution ships."""
    group = app.cli.group("docs", help="Material for the user documentation.")(lambda: None)

    @group.command("screenshots")
    @click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="The documentation's folder: pictures go to OUT/media/loc/<lang>/email/ and OUT/media/icons/.")
    @click.option("--lang", "languages", default="sv,en", show_default=True,
                  help="Languages, separated by commas.")
    @click.option("--check", is_flag=True,
                  help="Write nothing under OUT: take the pictures afresh, list those that differ from OUT's "
                       "(with a diff image each) and exit 1 if any does.")
    @click.option("--scale", type=click.IntRange(1, 4), default=1, show_default=True,
                  help="Device pixels per CSS pixel; 2 for sharp pictures on high-density screens.")
    @click.option("--only", multiple=True, metavar="FILE", help="Just this picture (repeat for more).")
    @click.option("--diff-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Where --check writes its diff images [default: OUT/screenshot-diff].")
    def screenshots(out: Path, languages: str, check: bool, scale: int, only: tuple[str, ...],
                    diff_dir: Path | None) -> None:
        """Take every picture the user guide shows, identical on every run (needs root)."""
        from localmail import screens  # the test lab needs the docs extra (aiosmtpd, Playwright ...), not a server's


        langs = [lang.strip() for lang in languages.split(",") if lang.strip()]
        try:
            if not check:
                screens.take(factory, out, langs, scale=scale, only=only, echo=click.echo)
                return
            diff_dir = diff_dir or out / "screenshot-diff"
            changes = screens.check(factory, out, langs, diff_dir=diff_dir, scale=scale, only=only)
        except screens.ShotFailed as error:
            raise click.ClickException(str(error)) from None
        for change in changes:
            click.echo(f"{change.what}: {change.path}  (diff: {change.diff})")
        if changes:
            click.echo(f"{len(changes)} picture(s) differ from {out}; take them again without --check "
                       "once the change is intended.", err=True)
            raise SystemExit(1)
        click.echo(f"every picture is as in {out}")


def main() -> None:
    """The `inkorg` command: every `flask --app app` command of this app, from an installed distribution."""
    FlaskGroup(name="inkorg", create_app=lambda: locate_app(*APP_FACTORY),
               help="Inkorg, the email inbox of a CRM: `inkorg run`, `inkorg sync worker`, `inkorg check` ...")(
        prog_name="inkorg")
