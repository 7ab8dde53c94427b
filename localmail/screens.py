"""The user guide's pictures, in each language, the same pixels on every run.

    flask --app app docs screenshots --lang sv,en --out DIR [--check] [--scale 2] [--only NAME]
    inkorg docs screenshots ...      (the same, from an installed distribution with the `docs` extra)

Starts a demo mailbox of its own (real Dovecot and SMTP on a loopback address, on the standard
ports 993 and 465, named imap.example.com and smtp.example.com through a local DNS server that the
app uses as MAIL_DNS_SERVER), the app on a throwaway database, and headless Chromium; signs in as
the demo user Eva Lind and sets up her email account the way the guide says, taking the pictures
the guide embeds (file names as in wording.md, "Screenshot file names used by the guides"):

    DIR/media/loc/<lang>/email/<name>.png   one per PICTURES entry
    DIR/media/icons/personal-settings-small.png

What makes two runs byte-identical: the app's clock stands still at NOW (mailcore.clock) and so
does the browser's; the demo messages are dated from NOW; the mailbox is reset before each
language; time zone UTC; DejaVu fonts only, without hinting or LCD text; a fixed window and device
scale; caret hidden, animations finished, the mouse parked where nothing reacts to it. Chromium
writes its PNGs without a timestamp.

Needs root (Dovecot, and ports 993 and 465). Never imports Flask: the caller passes the app factory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailcore import clock, services
from mailcore.crm import people

from . import MailLab
from .browser import PICTURE_ARGS, LocalOnly, fixed_fonts_env, launch_chromium, serve, wait_for_htmx
from .demo import demo_messages
from .dns import LocalDns
from .ports import check_bindable

NOW = datetime(2025, 5, 14, 14, 0, tzinfo=UTC)  # a Wednesday afternoon
NAME = "Eva Lind"
ADDRESS = "eva.lind@example.com"
SECOND_ADDRESS = "eva.lind@example.se"  # a second contact-card address, so "First" means something
CRM_PASSWORD = "demo-crm-password"
MAIL_PASSWORD = "demo-mail-password"
DOMAIN = "example.com"
IMAP_HOST, SMTP_HOST = "imap.example.com", "smtp.example.com"
LANGUAGES = ("sv", "en")
VIEWPORT = {"width": 1280, "height": 800}
BROWSER_LOCALE = {"sv": "sv-SE", "en": "en-GB"}
TIME_ZONE = "UTC"
DIALOG_MARGIN = 28  # CSS pixels of the dimmed page kept around a dialog
KNOWN_SENDER = "Åsa Öberg"  # a demo sender on a card (seed_crm), at Exempel AB
UNKNOWN_SENDER = "Märta Söderlund"  # a demo sender on no card, from a known company's domain (seed_crm)
LOOPBACK_CANDIDATES = [f"127.0.14.{n}" for n in range(14, 64)]  # the first whose mail ports are free

# The guide's words (wording.md), by which the pictures' flow finds what it clicks.
WORDS = {
    "en": {"user": "User name", "password": "Password", "sign_in": "Sign in", "inbox_nav": "Inbox",
           "setup": "Set up email account", "account": "Email account", "next": "Next", "log_in": "Log in",
           "advanced": "Advanced settings", "edit_account": "Edit email account", "incoming": "Incoming email settings",
           "outgoing": "Outgoing email settings", "imap_host": "Incoming e-mail server",
           "smtp_host": "Outgoing e-mail server", "ssl": "SSL", "on": "On", "off": "Off", "save": "Save",
           "inbox": "INBOX", "personal": "Personal settings", "options": "Email options",
           "general": "General", "account_tab": "Email account", "edit": "Edit/remove", "ok": "OK",
           "contact_card": "Contact card", "new": "New", "new_email": "New email",
           "mark_read": "Mark as read", "mark_unread": "Mark as unread", "move": "Move to folder",
           "mark_toggle": "Mark as read/unread", "print": "Print selected email", "refresh": "Refresh",
           "not_updated": "Why is the email list not updated?", "unknown_sender": "Unknown sender",
           "add_contact": "Add contact", "might_work_at": "This contact might work at",
           "to": "To", "subject": "Subject", "message": "Message", "bold": "Bold", "bullets": "Bulleted list",
           "offer_subject": "Offer for the spring", "offer_hello": "Hello Karin, here is ",
           "offer_bold": "the offer", "offer_items": ("Price: SEK 12,000", "Delivery in week 12"),
           "archive": "Archive", "archive_email": "Archive email", "document": "Document",
           "card_rule": "To send email, the address must be the same as the first email address on "
                        "your contact card."},
    "sv": {"user": "Användarnamn", "password": "Lösenord", "sign_in": "Logga in", "inbox_nav": "Inkorg",
           "setup": "Konfigurera e-postkonto", "account": "E-postkonto", "next": "Nästa", "log_in": "Logga in",
           "advanced": "Avancerade inställningar", "edit_account": "Redigera e-postkonto",
           "incoming": "Inställningar för inkommande e-post",
           "outgoing": "Inställningar för utgående e-post", "imap_host": "Server för inkommande e-post",
           "smtp_host": "Server för utgående e-post", "ssl": "SSL", "on": "På", "off": "Av", "save": "Spara",
           "inbox": "INKORG", "personal": "Personliga inställningar", "options": "Alternativ för e-post",
           "general": "Allmänt", "account_tab": "E-postkonto", "edit": "Redigera/ta bort", "ok": "OK",
           "contact_card": "Kontaktkort", "new": "Nytt e-postmeddelande", "new_email": "Nytt e-postmeddelande",
           "mark_read": "Markera som läst", "mark_unread": "Markera som oläst", "move": "Flytta till mapp",
           "mark_toggle": "Markera som läst/oläst", "print": "Skriv ut valt e-postmeddelande",
           "refresh": "Uppdatera", "not_updated": "Varför uppdateras inte e-postlistan?",
           "unknown_sender": "Okänd avsändare", "add_contact": "Lägg till kontakt",
           "might_work_at": "Kontakten kan arbeta på",
           "to": "Till", "subject": "Ämne", "message": "Meddelande", "bold": "Fetstil", "bullets": "Punktlista",
           "offer_subject": "Offert för våren", "offer_hello": "Hej Karin, här kommer ",
           "offer_bold": "offerten", "offer_items": ("Pris: 12 000 kr", "Leverans vecka 12"),
           "archive": "Arkivera", "archive_email": "Arkivera e-postmeddelande", "document": "Dokument",
           "card_rule": "För att kunna skicka e-post måste adressen vara densamma som den första "
                        "e-postadressen på ditt kontaktkort."},
}


@dataclass(frozen=True)
class Picture:
    name: str
    shows: str
    icon: bool = False  # the same in every language, under media/icons/

    def path(self, root: Path, lang: str) -> Path:
        if self.icon:
            return root / "media" / "icons" / self.name
        return root / "media" / "loc" / lang / "email" / self.name


# In the order the flow takes them.
PICTURES = (
    Picture("getstarted-contact-mycontactcard.png", "the contact card, its first email address marked"),
    Picture("inbox-setup-dialog.png", "Set up email account, empty"),
    Picture("getstarted-inbox-login.png", "Set up email account with the address typed in"),
    Picture("so-inbox-advanced-settings.png", "Advanced settings, filled in"),
    Picture("inbox-list.png", "the inbox after Log in"),
    Picture("inbox-preview-message.png", "a message selected, its text on the right"),
    Picture("inbox-message-task-menu.png", "the message's task menu (mark, print, open in a window)"),
    Picture("inbox-multiselect-actions.png", "several messages picked, with the mark/move buttons"),
    Picture("personal-settings-small.png", "the profile icon of the top bar", icon=True),
    Picture("email-options-general.png", "Email options, General tab"),
    Picture("email-options-account.png", "Email options, Email account tab with Edit/remove"),
    Picture("inbox-unknown-sender.png", "an open message from an unknown address, with the Unknown sender banner"),
    Picture("inbox-add-contact.png", "Add contact, a company suggested under This contact might work at"),
    Picture("inbox-compose-formatted.png", "New email with formatted text: bold, a bulleted list, a link"),
    Picture("inbox-archive-button.png", "the open Archive menu of a message from a known contact"),
    Picture("document-dialog-somail.png", "the Document dialog for archiving an email, company and contact filled in"),
)
PICTURE_NAMES = tuple(p.name for p in PICTURES)


class ShotFailed(RuntimeError):
    pass


# --- the demo world ---------------------------------------------------------------------------


class DemoWorld:
    """The mail servers and DNS the pictures' app talks to; all on loopback."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        host = _free_loopback(LOOPBACK_CANDIDATES)
        self.lab = MailLab.start(workdir / "mail", host, standard_ports=True, names=(IMAP_HOST, SMTP_HOST))
        try:
            self.dns = LocalDns({IMAP_HOST: [("A", host)], SMTP_HOST: [("A", host)]})
            self.lab.add_user(ADDRESS, MAIL_PASSWORD)
            self.providers = workdir / "providers.json"
            self.providers.write_text(json.dumps({"version": 1, "providers": [
                {"id": "example", "name": "Example Mail", "domains": [DOMAIN],
                 "incoming": {"host": IMAP_HOST, "port": 993, "ssl": True, "username": "address"},
                 "outgoing": {"host": SMTP_HOST, "port": 465, "ssl": True, "username": "address"}},
            ]}, indent=2))
        except BaseException:
            self.lab.stop()
            raise

    def reset_mailbox(self) -> None:
        """Every folder emptied, then the demo messages dated from NOW: what one language's pictures
        did (a message read, another moved) does not show in the next one's."""
        with self.lab.imap(ADDRESS) as client:
            for _flags, _delimiter, name in client.list_folders():
                client.select_folder(name)
                uids = client.search("ALL")
                if uids:
                    client.delete_messages(uids)
                    client.expunge()
        for item in demo_messages(ADDRESS, now=NOW):
            self.lab.append(ADDRESS, item.message, folder=item.folder, seen=item.seen, date=item.date)

    def app_config(self, instance: Path) -> dict[str, Any]:
        return {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'inkorg.db'}",
            "SECRET_KEY": "documentation-pictures-only",
            "MAIL_ENCRYPTION_KEY": None,
            "MAIL_CA_BUNDLE": str(self.lab.ca_bundle),
            "MAIL_PROVIDERS_FILE": str(self.providers),
            "MAIL_ALLOWED_NETWORKS": "127.0.0.0/8",
            "MAIL_DNS_SERVER": self.dns.address,
            "MAIL_ISPDB_URL": "",  # the pictures ask no third party
            "MAIL_TIMEOUT": 10.0,
            "MAIL_TESTS_PER_5_MINUTES": 1000,
            "MAIL_DISCOVERIES_PER_MINUTE": 1000,
            "SYNC_MODE": "inline",  # no background sync changing the list between two pictures
        }

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.dns.stop()
        self.lab.stop()


def _free_loopback(candidates: Sequence[str]) -> str:
    """A loopback address whose standard mail ports nobody holds (another run may hold the first)."""
    for host in candidates:
        try:
            check_bindable("docs screenshots", host, (993, 143, 465, 587, 110))
        except OSError:
            continue
        return host
    raise ShotFailed(f"ports 993/143/465/587/110 are taken on every one of {candidates[0]}..{candidates[-1]}"
                     " (the demo mailbox needs them, and root)")


# --- the pictures -----------------------------------------------------------------------------


class _AllTaken(Exception):
    """Every picture asked for in this language is written: the rest of the flow is skipped."""


@dataclass
class Shooter:
    page: Any
    out: Path
    lang: str
    wanted: set[str]
    echo: Callable[[str], None]
    written: list[Path] = field(default_factory=list)

    @property
    def words(self) -> dict[str, str]:
        return WORDS[self.lang]

    def settle(self) -> None:
        page = self.page
        wait_for_htmx(page)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        page.mouse.move(-10, -10)  # outside the window: nothing shows a hover style
        # two frames, so the last swap and the mouse move are painted
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")

    def shot(self, name: str, region: Callable[[], dict | None] = lambda: None) -> None:
        if name not in self.wanted:
            return
        picture = PICTURES[PICTURE_NAMES.index(name)]
        self.settle()
        path = picture.path(self.out, self.lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), clip=region(), animations="disabled", caret="hide", scale="device")
        # Hiding the caret leaves style="" on inputs; htmx would copy that onto the element swapped in
        # with the same id, which a stricter style-src would report.
        self.page.evaluate("() => document.querySelectorAll('[style=\"\"]').forEach(e => e.removeAttribute('style'))")
        self.written.append(path)
        self.wanted.discard(name)
        self.echo(str(path))
        if not self.wanted:
            raise _AllTaken

    # regions: a part of the window, with the page around it as the user sees it (dimmed for a dialog)

    def around(self, *locators: Any, margin: float = DIALOG_MARGIN) -> Callable[[], dict]:
        def region() -> dict:
            boxes = [locator.bounding_box() for locator in locators]
            if any(box is None for box in boxes):
                raise ShotFailed(f"[{self.lang}] a part to crop to is not on screen")
            left = max(0, min(b["x"] for b in boxes) - margin)
            top = max(0, min(b["y"] for b in boxes) - margin)
            right = min(VIEWPORT["width"], max(b["x"] + b["width"] for b in boxes) + margin)
            bottom = min(VIEWPORT["height"], max(b["y"] + b["height"] for b in boxes) + margin)
            # whole CSS pixels, so every scale crops the same part
            left, top = int(left), int(top)
            return {"x": left, "y": top, "width": int(right + 0.999) - left, "height": int(bottom + 0.999) - top}
        return region

    def dialog(self, name: str) -> Any:
        from playwright.sync_api import expect

        dialog = self.page.get_by_role("dialog", name=name)
        try:
            expect(dialog).to_be_visible(timeout=10_000)
        except AssertionError as exc:
            raise ShotFailed(f"[{self.lang}] the dialog {name!r} did not appear (or did not stay open)") from exc
        return dialog

    def run(self, base_url: str) -> None:
        try:
            self._flow(base_url)
        except _AllTaken:
            pass

    def _flow(self, base_url: str) -> None:
        from playwright.sync_api import expect

        w, page = self.words, self.page
        page.goto(base_url + "/signin")
        page.get_by_label(w["user"], exact=True).fill(ADDRESS)
        page.get_by_label(w["password"], exact=True).fill(CRM_PASSWORD)
        page.get_by_role("button", name=w["sign_in"], exact=True).click()
        page.wait_for_url("**/inbox/**")

        # "the first email address registered on your contact card": the card beside the navigator
        page.goto(base_url + "/settings/contact-card")
        expect(page.get_by_role("heading", name=NAME)).to_be_visible()
        self.shot("getstarted-contact-mycontactcard.png",
                  self.around(page.locator(".navigator"), page.locator("#card"), margin=0))

        page.goto(base_url + "/inbox/")
        setup = self.dialog(w["setup"])
        self.shot("inbox-setup-dialog.png", self.around(setup))

        setup.get_by_label(w["account"], exact=True).fill(ADDRESS)
        self.shot("getstarted-inbox-login.png", self.around(setup))

        setup.get_by_role("link", name=w["advanced"], exact=True).click()
        advanced = self.dialog(w["advanced"])
        incoming = advanced.get_by_role("group", name=w["incoming"], exact=True)
        incoming.get_by_label(w["password"], exact=True).fill(MAIL_PASSWORD)
        incoming.get_by_label(w["password"], exact=True).blur()
        self.shot("so-inbox-advanced-settings.png", self.around(advanced))

        # Connect the account the guide's usual way: Next, Password, Log in.
        page.goto(base_url + "/inbox/")
        setup = self.dialog(w["setup"])
        setup.get_by_label(w["account"], exact=True).fill(ADDRESS)
        setup.get_by_role("button", name=w["next"], exact=True).click()
        setup.get_by_label(w["password"], exact=True).fill(MAIL_PASSWORD)
        setup.get_by_role("button", name=w["log_in"], exact=True).click()
        expect(page.get_by_role("heading", name=w["inbox"], exact=True)).to_be_visible(timeout=20_000)
        # a whole page load, so the frame is the server's whole page and the list is complete
        page.goto(base_url + "/inbox/")
        expect(page.locator(".message-list .message")).to_have_count(12, timeout=20_000)
        self.shot("inbox-list.png")

        rows = page.locator(".message-list .message a")
        rows.nth(1).click()
        expect(page.locator("#reading .body")).to_be_visible(timeout=20_000)
        # The list learns that the message is now read at its next poll; wait for that swap here,
        # so it cannot land between two pictures.
        with page.expect_response(lambda r: "/inbox/changes" in r.url and r.status == 200, timeout=10_000):
            pass
        wait_for_htmx(page)
        self.shot("inbox-preview-message.png")

        menu = page.locator("#reading details.task-menu")
        menu.locator("summary").click()
        self.shot("inbox-message-task-menu.png",
                  self.around(page.locator("#reading header"), menu.locator(".menu"), margin=16))
        menu.locator("summary").click()

        rows.nth(2).click(modifiers=["Control"])
        rows.nth(3).click(modifiers=["Control"])
        expect(page.locator(".bulk-bar")).to_be_visible()
        self.shot("inbox-multiselect-actions.png",
                  self.around(page.locator(".bulk-bar"), page.locator(".message-list .message").nth(4), margin=0))

        page.goto(base_url + "/inbox/")
        profile = page.get_by_title(w["personal"], exact=True)
        self.shot("personal-settings-small.png", self.around(profile, margin=6))

        profile.click()
        page.get_by_role("navigation", name=w["personal"]).get_by_role("link", name=w["options"], exact=True).click()
        options = self.dialog(w["options"])
        expect(options.get_by_role("tab", name=w["general"], exact=True)).to_have_attribute("aria-selected", "true")
        self.shot("email-options-general.png", self.around(options))

        options.get_by_role("tab", name=w["account_tab"], exact=True).click()
        options = self.dialog(w["options"])
        expect(options.get_by_role("tab", name=w["account_tab"], exact=True)).to_have_attribute(
            "aria-selected", "true")
        expect(options.get_by_role("link", name=w["edit"], exact=True)).to_be_visible()
        self.shot("email-options-account.png", self.around(options))

        # A customer the CRM does not know yet, writing from a known company's domain (seed_crm)
        page.goto(base_url + "/inbox/")
        page.locator(".message-list .message a", has_text=UNKNOWN_SENDER).click()
        banner = page.locator("#reading .unknown-sender")
        expect(banner).to_contain_text(w["unknown_sender"], timeout=20_000)
        self.shot("inbox-unknown-sender.png")

        banner.get_by_role("link", name=w["add_contact"], exact=True).click()
        add = self.dialog(w["add_contact"])
        expect(add.get_by_text(w["might_work_at"], exact=True)).to_be_visible()
        self.shot("inbox-add-contact.png", self.around(add))

        if "inbox-compose-formatted.png" in self.wanted:
            page.goto(base_url + "/inbox/")
            page.get_by_role("link", name=w["new"], exact=True).click()
            compose = self.dialog(w["new_email"])
            editor = compose.get_by_role("textbox", name=w["message"])
            expect(editor).to_be_visible()
            compose.get_by_label(w["to"], exact=True).fill("karin.berg@kund.example")
            compose.get_by_label(w["subject"], exact=True).fill(w["offer_subject"])
            editor.click()
            bold = compose.get_by_role("button", name=w["bold"], exact=True)
            page.keyboard.type(w["offer_hello"])
            bold.click()
            page.keyboard.type(w["offer_bold"])
            bold.click()
            page.keyboard.press("Enter")
            compose.get_by_role("button", name=w["bullets"], exact=True).click()
            page.keyboard.type(w["offer_items"][0])
            page.keyboard.press("Enter")
            page.keyboard.type(w["offer_items"][1])
            self.shot("inbox-compose-formatted.png", self.around(compose))

        # Archive email: a message from a known contact (seed_crm), its Archive menu and the Document dialog
        page.goto(base_url + "/inbox/")
        page.locator(".message-list .message a", has_text=KNOWN_SENDER).first.click()
        expect(page.locator("#reading .from .party.known")).to_be_visible(timeout=20_000)
        archive = page.locator("#reading details.archive-menu")
        archive.locator("summary").click()
        item = archive.get_by_role("link", name=w["archive_email"], exact=True)
        expect(item).to_be_visible()
        self.shot("inbox-archive-button.png",
                  self.around(page.locator("#reading header"), archive.locator(".menu"), margin=16))
        item.click()
        document = self.dialog(w["document"])
        expect(document.get_by_role("radio", checked=True).first).to_be_visible()
        page.wait_for_function("() => document.querySelector('dialog:modal') !== null")
        self.shot("document-dialog-somail.png", self.around(document))


# --- taking and checking ----------------------------------------------------------------------


def take(make_app: Callable[[dict], Any], out: Path, languages: Iterable[str] = LANGUAGES, *,
         scale: int = 1, only: Iterable[str] = (), echo: Callable[[str], None] = print) -> list[Path]:
    """Take the pictures into `out` (see the module's docstring); the paths written, in order.

    make_app: the app factory (app.create_app), called with one configuration per language.
    only: file names from PICTURES (default: all). Raises ShotFailed when a screen is not as expected.
    """
    languages = list(dict.fromkeys(languages))
    unknown = [lang for lang in languages if lang not in WORDS] + [n for n in only if n not in PICTURE_NAMES]
    if unknown:
        raise ShotFailed(f"unknown language or picture: {', '.join(unknown)}")
    wanted = set(only or PICTURE_NAMES)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="inkorg-screenshots-") as tmp, clock.fixed(NOW):
        workdir = Path(tmp)
        world = DemoWorld(workdir)
        try:
            with _browser(workdir) as browser:
                for index, lang in enumerate(languages):
                    mine = {n for n in wanted if index == 0 or not PICTURES[PICTURE_NAMES.index(n)].icon}
                    if mine:
                        written += _take_language(make_app, world, browser, workdir / lang, out, lang, mine,
                                                  scale, echo)
        finally:
            world.stop()
    return written


@contextlib.contextmanager
def _browser(workdir: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, env=fixed_fonts_env(workdir, dict(os.environ)), args=PICTURE_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _take_language(make_app: Callable[[dict], Any], world: DemoWorld, browser: Any, instance: Path, out: Path,
                   lang: str, wanted: set[str], scale: int, echo: Callable[[str], None]) -> list[Path]:
    world.reset_mailbox()
    app = make_app(world.app_config(instance))
    with app.extensions["mail"].sessions() as db:
        user = services.create_user(db, ADDRESS, CRM_PASSWORD, NAME, lang)
        services.add_contact_email(db, user, SECOND_ADDRESS)
        seed_crm(db)
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=scale, locale=BROWSER_LOCALE[lang],
                                  timezone_id=TIME_ZONE, color_scheme="light", reduced_motion="reduce")
    context.set_default_timeout(15_000)
    # the guide's screens predate notifications: their one-time offer counts as answered
    context.add_init_script("try { localStorage.setItem('inkorg-notify-offer', 'done'); } catch (e) {}")
    local = LocalOnly(context)
    page = context.new_page()
    page.clock.set_fixed_time(NOW)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and errors.append(f"console error: {message.text}"))
    shooter = Shooter(page, out, lang, set(wanted), echo)
    try:
        with serve(app) as base_url:
            shooter.run(base_url)
    except Exception as exc:
        if not isinstance(exc, ShotFailed):
            exc = ShotFailed(f"[{lang}] {exc}")
        raise exc from None
    finally:
        context.close()
    if local.blocked or errors:
        raise ShotFailed(f"[{lang}] " + "; ".join(errors + [f"a request left the machine: {u}" for u in local.blocked]))
    return shooter.written


def seed_crm(db) -> None:
    """Two demo senders are contacts of a company whose domain is theirs; the third from there
    (UNKNOWN_SENDER) is not, so she gets the Unknown sender banner and the company suggested."""
    company = people.save_company(db, name="Exempel AB", domains=["example.se"], phone="08-123 456 00")
    for first, last, title, address in (("Åsa", "Öberg", "Inköpschef", "asa.oberg@example.se"),
                                        ("Björn", "Ängström", "Säljare", "bjorn.angstrom@example.se")):
        people.save_person(db, people.Card(first, last, title, emails=[address]), company=company)


@dataclass(frozen=True)
class Change:
    path: Path  # the picture in the documentation's folder
    what: str  # "changed" or "new"
    diff: Path | None  # an image showing before, after and the changed pixels


def check(make_app: Callable[[dict], Any], out: Path, languages: Iterable[str] = LANGUAGES, *,
          diff_dir: Path, scale: int = 1, only: Iterable[str] = ()) -> list[Change]:
    """Take the pictures afresh and compare them with those in `out` (left untouched); what differs.

    A diff image per changed picture goes to the same place under `diff_dir`."""
    changes: list[Change] = []
    with tempfile.TemporaryDirectory(prefix="inkorg-screenshots-check-") as fresh:
        root = Path(fresh)
        for new in take(make_app, root, languages, scale=scale, only=only, echo=lambda _line: None):
            relative = new.relative_to(root)
            old, diff = out / relative, diff_dir / relative
            diff.unlink(missing_ok=True)  # a diff from an earlier check would mislead
            if not old.exists():
                diff.parent.mkdir(parents=True, exist_ok=True)
                diff.write_bytes(new.read_bytes())
                changes.append(Change(old, "new", diff))
            elif old.read_bytes() != new.read_bytes() and draw_difference(old, new, diff):
                changes.append(Change(old, "changed", diff))
    return changes


def draw_difference(old: Path, new: Path, diff: Path) -> bool:
    """False when the two PNGs have the same pixels; else True, with `diff` written: the old picture,
    the new one, and the new one faded with every changed pixel in red, side by side."""
    from PIL import Image, ImageChops

    with Image.open(old) as a, Image.open(new) as b:
        before, after = a.convert("RGBA"), b.convert("RGBA")
    if before.size == after.size and ImageChops.difference(before, after).getbbox(alpha_only=False) is None:
        return False
    width, height = max(before.width, after.width), max(before.height, after.height)
    padded = []
    for image in (before, after):
        canvas = Image.new("RGBA", (width, height), (255, 255, 255, 255))
        canvas.paste(image, (0, 0))
        padded.append(canvas)
    changed = ImageChops.difference(padded[0], padded[1]).convert("L").point(lambda v: 255 if v else 0)
    faded = Image.blend(padded[1], Image.new("RGBA", (width, height), (255, 255, 255, 255)), 0.7)
    faded.paste(Image.new("RGBA", (width, height), (220, 0, 0, 255)), (0, 0), changed)
    gap = 12
    sheet = Image.new("RGBA", (width * 3 + gap * 2, height), (128, 128, 128, 255))
    for index, image in enumerate((padded[0], padded[1], faded)):
        sheet.paste(image, (index * (width + gap), 0))
    diff.parent.mkdir(parents=True, exist_ok=True)
    sheet.convert("RGB").save(diff, optimize=True)
    return True
