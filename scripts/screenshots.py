"""Screenshots of the inbox for the user documentation, in each language.

    .venv/bin/python scripts/screenshots.py [--out media] [--lang sv --lang en]

Starts a local demo mailbox (real Dovecot and SMTP on loopback, from localmail), the app on a throwaway
database, signs in as the demo user "Eva Lind" in headless Chromium and goes through the setup of the
email account the way a person does, taking the pictures the guides embed (file names as in
docs/wording.md, "Screenshot file names used by the guides"):

    <out>/loc/<lang>/email/getstarted-contact-mycontactcard.png   the contact card
    <out>/loc/<lang>/email/inbox-setup-dialog.png                 Set up email account, empty
    <out>/loc/<lang>/email/getstarted-inbox-login.png             the same with the address typed in
    <out>/loc/<lang>/email/so-inbox-advanced-settings.png         Advanced settings, filled in
    <out>/loc/<lang>/email/inbox-list.png                         the inbox after Log in
    <out>/loc/<lang>/email/inbox-preview-message.png              a message selected, its text on the right
    <out>/loc/<lang>/email/inbox-message-task-menu.png            the message's task menu (mark, move, print)
    <out>/loc/<lang>/email/inbox-multiselect-actions.png          several messages picked, with the bulk buttons
    <out>/loc/<lang>/email/email-options-general.png              Email options, General tab
    <out>/loc/<lang>/email/email-options-account.png              Email options, Email account tab
    <out>/icons/personal-settings-small.png                       the profile icon of the top bar

and, for signing in with OAuth 2.0 (a local issuer stands in for the provider):

    <out>/loc/<lang>/email/inbox-setup-sign-in-microsoft.png      Set up email account: Sign in with Microsoft
    <out>/loc/<lang>/email/inbox-setup-sign-in-not-set-up.png     the same for Gmail, not set up by the operator
    <out>/loc/<lang>/email/so-inbox-advanced-settings-oauth.png   Advanced settings with OAuth 2.0 chosen
    <out>/loc/<lang>/email/inbox-sign-in-again.png                the inbox banner with Sign in again

The viewport, scale, fonts, the demo messages' dates (pinned to noon UTC today) and the browser's language
are fixed, so a re-run gives the same layout. Each path written is printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from app import create_app  # noqa: E402
from localmail import MailLab  # noqa: E402
from localmail.demo import demo_messages  # noqa: E402
from localmail.oauth_server import LocalIssuer  # noqa: E402
from mailcore import services  # noqa: E402
from tests.browser import ConsoleProblems, launch_chromium, serve, sign_in, wait_for_htmx  # noqa: E402

ADDRESS = "eva.lind@demo.inkorg.test"
SECOND_ADDRESS = "eva.lind@example.se"  # a second contact-card address, so "First" means something
NAME = "Eva Lind"
CRM_PASSWORD = "demo-crm-password"
MAIL_PASSWORD = "demo-mail-password"
DOMAIN = "demo.inkorg.test"
OAUTH_ADDRESS = "olle.berg@id.demo.inkorg.test"  # signs in at the local issuer ("Demo ID")
OAUTH_DOMAIN = "id.demo.inkorg.test"
ID_PASSWORD = "demo-id-password"
MICROSOFT_ADDRESS = "kim.nord@outlook.com"  # the built-in Microsoft entry (never contacted here)
GOOGLE_ADDRESS = "kim.nord@gmail.com"  # the built-in Gmail entry, no client set up
VIEWPORT = {"width": 1280, "height": 800}
BROWSER_LOCALE = {"sv": "sv-SE", "en": "en-GB"}

WORDS = {
    "en": {"user": "User name", "password": "Password", "sign_in": "Sign in",
           "setup": "Set up email account", "account": "Email account", "next": "Next", "log_in": "Log in",
           "advanced": "Advanced settings", "incoming": "Incoming email settings", "inbox": "INBOX",
           "personal": "Personal settings", "options": "Email options", "general": "General",
           "account_tab": "Email account", "edit": "Edit/remove", "contact_card": "Contact card",
           "with_demo": "Sign in with Demo ID", "with_microsoft": "Sign in with Microsoft", "refresh": "Refresh",
           "again": "Sign in again"},
    "sv": {"user": "Användarnamn", "password": "Lösenord", "sign_in": "Logga in",
           "setup": "Konfigurera e-postkonto", "account": "E-postkonto", "next": "Nästa", "log_in": "Logga in",
           "advanced": "Avancerade inställningar", "incoming": "Inställningar för inkommande e-post",
           "inbox": "INKORG", "personal": "Personliga inställningar", "options": "Alternativ för e-post",
           "general": "Allmänt", "account_tab": "E-postkonto", "edit": "Redigera/ta bort",
           "contact_card": "Kontaktkort", "with_demo": "Logga in med Demo ID",
           "with_microsoft": "Logga in med Microsoft", "refresh": "Uppdatera", "again": "Logga in igen"},
}


class ShotFailed(RuntimeError):
    pass


# --- the demo world --------------------------------------------------------------------------------


def start_issuer() -> LocalIssuer:
    issuer = LocalIssuer()
    issuer.add_client("inkorg-demo")
    issuer.add_user(OAUTH_ADDRESS, ID_PASSWORD)
    return issuer


def start_lab(workdir: Path, issuer: LocalIssuer) -> MailLab:
    lab = MailLab.start(workdir / "mail", oauth_introspection_url=issuer.introspection_url)
    issuer.serve_https(lab.tls_files)
    lab.add_user(ADDRESS, MAIL_PASSWORD)
    lab.add_user(OAUTH_ADDRESS, ID_PASSWORD)
    # What lab.seed_demo(ADDRESS) appends, with the clock pinned to noon UTC today: the list shows the same
    # times on every run of the day (today's messages by time, older ones by date).
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    for address in (ADDRESS, OAUTH_ADDRESS):
        for item in demo_messages(address, now=noon):
            lab.append(address, item.message, folder=item.folder, seen=item.seen, date=item.date)
    return lab


def write_providers(lab: MailLab, issuer: LocalIssuer, path: Path) -> Path:
    def server(port: int) -> dict:
        return {"host": lab.hostname, "port": port, "ssl": True, "username": "address"}

    path.write_text(json.dumps({"version": 1, "providers": [
        {"id": "demo", "name": "Demo Mail", "domains": [DOMAIN],
         "incoming": server(lab.imap_tls_port), "outgoing": server(lab.smtp_tls_port)},
        {"id": "demo-id", "name": "Demo ID", "domains": [OAUTH_DOMAIN],
         "incoming": server(lab.imap_tls_port), "outgoing": server(lab.smtp_tls_port),
         "oauth2": {"issuer": issuer.issuer, "client_id": "inkorg-demo",
                    "scopes": ["openid", "email", "offline_access"]}},
    ]}, indent=2))
    return path


def make_app(lab: MailLab, providers: Path, workdir: Path, lang: str):
    app = create_app({
        "INSTANCE_PATH": str(workdir / "instance"),
        "DATABASE_URL": f"sqlite:///{workdir / 'inkorg.db'}",
        "SECRET_KEY": "screenshots-only-secret-key",
        "MAIL_CA_BUNDLE": str(lab.ca_bundle),
        "MAIL_PROVIDERS_FILE": str(providers),
        "MAIL_ALLOWED_NETWORKS": "127.0.0.0/8",
        "MAIL_ALLOWED_PORTS": f"{lab.imap_tls_port} {lab.smtp_tls_port}",
        "MAIL_TIMEOUT": 5.0,
        "MAIL_TESTS_PER_5_MINUTES": 1000,
        "MAIL_DNS_SERVER": "127.0.0.1:9",  # no real DNS: the demo domain is known from the providers file
        "OAUTH_MICROSOFT_CLIENT_ID": "screenshots-client",  # shows Sign in with Microsoft; never used
    })
    with app.extensions["mail"].sessions() as db:
        user = services.create_user(db, ADDRESS, CRM_PASSWORD, NAME, lang)
        services.add_contact_email(db, user, SECOND_ADDRESS)
        for address, name in ((OAUTH_ADDRESS, "Olle Berg"), (MICROSOFT_ADDRESS, "Kim Nord"),
                              (GOOGLE_ADDRESS, "Kim Nord")):
            services.create_user(db, address, CRM_PASSWORD, name, lang)
    return app


# --- the pictures ----------------------------------------------------------------------------------


class Shooter:
    def __init__(self, page: Page, out: Path, lang: str, icons: Path | None):
        self.page, self.lang, self.icons = page, lang, icons
        self.words = WORDS[lang]
        self.folder = out / "loc" / lang / "email"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written: list[Path] = []

    def settle(self) -> None:
        wait_for_htmx(self.page)
        self.page.evaluate("() => document.fonts.ready.then(() => true)")
        self.page.mouse.move(VIEWPORT["width"] - 2, VIEWPORT["height"] - 2)  # no hover effects
        self.page.wait_for_timeout(150)  # one more frame after the last swap

    def shot(self, name: str, clip: dict | None = None, folder: Path | None = None) -> None:
        self.settle()
        path = (folder or self.folder) / name
        self.page.screenshot(path=str(path), clip=clip, animations="disabled", caret="hide", scale="css")
        # Hiding the caret leaves style="" on every input; htmx would copy that attribute onto the next
        # swapped-in element with the same id, which the page's CSP (style-src 'self') then reports.
        self.page.evaluate("() => document.querySelectorAll('[style=\"\"]').forEach(e => e.removeAttribute('style'))")
        self.written.append(path)
        print(path, flush=True)

    def dialog(self, name: str):
        dialog = self.page.get_by_role("dialog", name=name)
        try:
            expect(dialog).to_be_visible(timeout=10_000)
        except AssertionError as exc:
            raise ShotFailed(f"[{self.lang}] the dialog {name!r} did not appear (or did not stay open)") from exc
        return dialog

    def run(self, base_url: str) -> None:
        w, page = self.words, self.page
        sign_in(page, base_url, ADDRESS, CRM_PASSWORD, w)

        page.goto(base_url + "/settings/contact-card")
        expect(page.get_by_role("heading", name=NAME)).to_be_visible()
        self.shot("getstarted-contact-mycontactcard.png")

        page.goto(base_url + "/inbox/")
        setup = self.dialog(w["setup"])
        self.shot("inbox-setup-dialog.png")

        setup.get_by_label(w["account"], exact=True).fill(ADDRESS)
        self.shot("getstarted-inbox-login.png")

        setup.get_by_role("link", name=w["advanced"], exact=True).click()
        advanced = self.dialog(w["advanced"])
        incoming = advanced.get_by_role("group", name=w["incoming"], exact=True)
        incoming.get_by_label(w["password"], exact=True).fill(MAIL_PASSWORD)
        self.shot("so-inbox-advanced-settings.png")

        # Connect the account the usual way: Next, Password, Log in.
        page.goto(base_url + "/inbox/")
        setup = self.dialog(w["setup"])
        setup.get_by_label(w["account"], exact=True).fill(ADDRESS)
        setup.get_by_role("button", name=w["next"], exact=True).click()
        password = setup.get_by_label(w["password"], exact=True)
        password.fill(MAIL_PASSWORD)
        setup.get_by_role("button", name=w["log_in"], exact=True).click()
        expect(page.get_by_role("heading", name=w["inbox"], exact=True)).to_be_visible(timeout=20_000)
        # The list fills in as the first sync lands; wait until it has, and the progress line is gone.
        expect(page.locator(".message-list .message").first).to_be_visible(timeout=20_000)
        expect(page.locator(".listing .progress")).to_have_count(0, timeout=20_000)
        self.shot("inbox-list.png")
        page.locator(".message-list .message a").nth(1).click()
        expect(page.locator("#reading .body")).to_be_visible(timeout=20_000)
        self.shot("inbox-preview-message.png")
        page.locator("#reading details.task-menu summary").click()
        self.shot("inbox-message-task-menu.png")
        page.locator("#reading details.task-menu summary").click()
        rows = page.locator(".message-list .message a")
        rows.nth(2).click(modifiers=["Control"])
        rows.nth(3).click(modifiers=["Control"])
        expect(page.locator(".bulk-bar")).to_be_visible()
        self.shot("inbox-multiselect-actions.png")
        # A whole page load from here on, so the frame (top bar, navigator) is the server's whole page.
        page.goto(base_url + "/inbox/")
        expect(page.get_by_role("heading", name=w["inbox"], exact=True)).to_be_visible(timeout=20_000)

        profile = page.get_by_title(w["personal"], exact=True)
        if self.icons is not None:
            self.settle()
            box = profile.bounding_box()
            pad = 6
            self.shot("personal-settings-small.png", folder=self.icons, clip={
                "x": box["x"] - pad, "y": box["y"] - pad,
                "width": box["width"] + 2 * pad, "height": box["height"] + 2 * pad})

        profile.click()
        page.get_by_role("link", name=w["options"], exact=True).click()
        options = self.dialog(w["options"])
        expect(options.get_by_role("tab", name=w["general"], exact=True)).to_have_attribute("aria-selected", "true")
        self.shot("email-options-general.png")

        options.get_by_role("tab", name=w["account_tab"], exact=True).click()
        options = self.dialog(w["options"])
        expect(options.get_by_role("tab", name=w["account_tab"], exact=True)).to_have_attribute(
            "aria-selected", "true")
        expect(options.get_by_role("link", name=w["edit"], exact=True)).to_be_visible()
        self.shot("email-options-account.png")

    def run_oauth(self, base_url: str, issuer: LocalIssuer) -> None:
        """Signing in with OAuth 2.0: each user in a fresh context (the page's cookies are its own)."""
        w, page = self.words, self.page
        for address, name in ((MICROSOFT_ADDRESS, "inbox-setup-sign-in-microsoft.png"),
                              (GOOGLE_ADDRESS, "inbox-setup-sign-in-not-set-up.png")):
            page.context.clear_cookies()
            sign_in(page, base_url, address, CRM_PASSWORD, w)
            setup = self.dialog(w["setup"])
            setup.get_by_label(w["account"], exact=True).fill(address)
            setup.get_by_role("button", name=w["next"], exact=True).click()
            expect(setup.locator(".found")).to_be_visible()
            self.shot(name)
        page.context.clear_cookies()
        sign_in(page, base_url, MICROSOFT_ADDRESS, CRM_PASSWORD, w)
        page.goto(base_url + "/inbox/setup/advanced?address=" + MICROSOFT_ADDRESS)
        self.dialog(w["advanced"])
        self.shot("so-inbox-advanced-settings-oauth.png")

        page.context.clear_cookies()
        sign_in(page, base_url, OAUTH_ADDRESS, CRM_PASSWORD, w)
        setup = self.dialog(w["setup"])
        setup.get_by_label(w["account"], exact=True).fill(OAUTH_ADDRESS)
        setup.get_by_role("button", name=w["next"], exact=True).click()
        setup.get_by_role("button", name=w["with_demo"], exact=True).click()
        page.wait_for_url("**/realms/mail/authorize**")
        page.get_by_label("Password").fill(ID_PASSWORD)
        page.get_by_role("button", name="Allow").click()
        expect(page.locator(".message-list .message").first).to_be_visible(timeout=20_000)
        issuer.revoke(OAUTH_ADDRESS)  # as when consent is withdrawn at the provider
        page.get_by_role("button", name=w["refresh"], exact=True).click()
        again = page.get_by_role("button", name=w["again"], exact=True)
        for _ in range(40):  # the sync runs in a worker thread: until it has met the refusal
            self.settle()
            page.goto(base_url + "/inbox/")
            if again.count():
                break
            page.wait_for_timeout(500)
        expect(again).to_be_visible()
        self.shot("inbox-sign-in-again.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("media"), help="folder for the pictures (default: ./media)")
    parser.add_argument("--lang", action="append", choices=sorted(WORDS), help="a language; repeat for more "
                        "(default: sv and en)")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    languages = list(dict.fromkeys(args.lang or ["sv", "en"]))
    out: Path = args.out
    icons = out / "icons"
    icons.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="inkorg-screenshots-") as tmp:
        workdir = Path(tmp)
        issuer = start_issuer()
        lab = start_lab(workdir, issuer)
        problems: list[str] = []
        try:
            providers = write_providers(lab, issuer, workdir / "providers.json")
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                try:
                    for index, lang in enumerate(languages):
                        app = make_app(lab, providers, workdir / lang, lang)
                        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1,
                                                      locale=BROWSER_LOCALE[lang], timezone_id="UTC",
                                                      color_scheme="light", reduced_motion="reduce",
                                                      ignore_https_errors=True)  # the local issuer's page
                        context.set_default_timeout(15_000)
                        page = context.new_page()
                        console = ConsoleProblems(page)
                        console.allowed_statuses.update({422, 502})  # 502: the revoked sign-in's Refresh
                        try:
                            with serve(app) as base_url:
                                try:
                                    shooter = Shooter(page, out, lang, icons if index == 0 else None)
                                    shooter.run(base_url)
                                    shooter.run_oauth(base_url, issuer)
                                except ShotFailed:
                                    failed = out / f"failed-{lang}.png"
                                    page.screenshot(path=str(failed))
                                    print(f"what the page showed: {failed}", file=sys.stderr)
                                    raise
                        finally:
                            problems += [f"[{lang}] {message}" for message in console.messages]
                            context.close()
                finally:
                    browser.close()
        except ShotFailed as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            for message in problems:
                print(f"warning: browser console: {message}", file=sys.stderr)
            lab.stop()
            issuer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
