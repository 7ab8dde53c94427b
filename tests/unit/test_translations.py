"""Every string the UI shows is in both catalogs, translated and not fuzzy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app.py", "cli.py", "blueprints", "mailcore", "templates")


def used_messages() -> set[str]:
    """Walks every source file itself (pybabel skips folders starting with '_' or '.')."""
    found: set[str] = set()
    for top in SOURCES:
        path = ROOT / top
        files = [path] if path.is_file() else [Path(d) / f for d, _, fs in os.walk(path) for f in fs]
        for file in files:
            method = "python" if file.suffix == ".py" else "jinja2" if file.suffix == ".html" else None
            if method is None:
                continue
            with open(file, "rb") as handle:
                for _line, message, _comments, _context in extract(
                        method, handle, keywords={"_": None, "_l": None, "gettext": None,
                                                   "lazy_gettext": None, "ngettext": (1, 2)}):
                    found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_catalog_is_complete(lang):
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not message.fuzzy, key
        translated[key] = all(strings)
    used = used_messages()
    assert len(used) > 80
    missing = sorted(m for m in used if not translated.get(m))
    assert not missing, f"{lang}: not translated: {missing[:10]}"


def test_wording_table_words_in_swedish():
    with open(ROOT / "translations" / "sv" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    words = {m.id: m.string for m in catalog if m.id and not isinstance(m.id, tuple)}
    for en, sv in {"Set up email account": "Konfigurera e-postkonto", "Email account": "E-postkonto",
                   "Advanced settings": "Avancerade inställningar", "Next": "Nästa", "Password": "Lösenord",
                   "Log in": "Logga in", "Save": "Spara",
                   "Incoming email settings": "Inställningar för inkommande e-post",
                   "Outgoing email settings": "Inställningar för utgående e-post",
                   "Incoming e-mail server": "Server för inkommande e-post",
                   "Outgoing e-mail server": "Server för utgående e-post", "User name": "Användarnamn",
                   "On": "På", "Off": "Av", "Email options": "Alternativ för e-post", "General": "Allmänt",
                   "Edit/remove": "Redigera/ta bort", "Show inline images": "Visa interna bilder",
                   "Mark as read in preview": "Markera som läst i förhandsgranskning", "OK": "OK",
                   "Inbox": "Inkorg", "Personal settings": "Personliga inställningar",
                   "Contact card": "Kontaktkort", "INBOX": "INKORG", "Refresh": "Uppdatera",
                   "Save copy of sent email": "Spara kopia av skickat e-postmeddelande",
                   "Why is the email list not updated?": "Varför uppdateras inte e-postlistan?",
                   "The inbox supports IMAP accounts only, not POP3.": "Inkorgen stöder endast IMAP-konton, inte POP3.",
                   "Gmail: use an app password instead of your regular password.":
                       "Gmail: använd ett applösenord i stället för ditt vanliga lösenord.",
                   "your full email address": "din fullständiga e-postadress",
                   "the password for your email account": "lösenordet för ditt e-postkonto",
                   "depends on your email provider's settings": "beror på e-postleverantörens inställningar",
                   }.items():
        assert words[en] == sv, en


def test_english_says_email_not_e_mail_except_where_the_guide_does():
    with open(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    guide_words = {"Incoming e-mail server", "Outgoing e-mail server"}  # wording.md keeps these as the guide has them
    hyphenated = sorted(m.id for m in catalog if m.id and not isinstance(m.id, tuple)
                        and "e-mail" in m.string.lower() and m.id not in guide_words)
    assert not hyphenated
