"""Operator commands: `flask --app app user add|list`."""

from __future__ import annotations

import click
from flask import Flask, current_app

from mailcore import services


def register_cli(app: Flask) -> None:
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
        with current_app.extensions["mail"]["sessions"]() as db:
            try:
                created = services.create_user(db, email, password, name, lang)
            except services.UserExists:
                raise click.ClickException(f"a user with the email {email} already exists") from None
            click.echo(f"Created {created.email} ({created.name})")

    @user.command("list")
    def list_() -> None:
        """List CRM users and their connected mail accounts."""
        with current_app.extensions["mail"]["sessions"]() as db:
            for item in services.list_users(db):
                account = item.account.address if item.account else "-"
                click.echo(f"{item.email}\t{item.name}\t{item.language or '-'}\t{account}")


def register_translate_cli(app: Flask) -> None:
    """`flask --app app translate update|compile`: pybabel with this project's paths."""
    import subprocess
    import sys
    from pathlib import Path

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
        run("compile", "-d", "translations")
