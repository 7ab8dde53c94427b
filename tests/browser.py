"""Helpers for the browser tests: signing in and catching console errors. Serving the app and
launching Debian's Chromium are localmail/browser.py's, shared with the documentation pictures."""

from __future__ import annotations

from localmail.browser import launch_chromium, serve, wait_for_htmx

__all__ = ["DESKTOP", "LOCALES", "PHONE", "SIGN_IN", "TIMEOUT", "ConsoleProblems", "WatchedPages", "close_dialog",
           "launch_chromium", "serve", "sign_in", "wait_for_htmx"]

TIMEOUT = 15_000
SIGN_IN = {"en": {"user": "User name", "password": "Password", "sign_in": "Sign in"},
           "sv": {"user": "Användarnamn", "password": "Lösenord", "sign_in": "Logga in"}}
LOCALES = {"en": "en-GB", "sv": "sv-SE"}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def sign_in(page, base_url: str, user_name: str, password: str, words: dict) -> None:
    """Sign in through the form, by its visible labels. `words`: "user", "password", "sign_in"."""
    page.goto(base_url + "/signin")
    page.get_by_label(words["user"], exact=True).fill(user_name)
    page.get_by_label(words["password"], exact=True).fill(password)
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    page.wait_for_url("**/inbox/**")
    wait_for_htmx(page)


def close_dialog(page) -> None:
    """Esc, once the dialog is a real modal (app.js makes it one as it arrives), as a person presses it."""
    page.wait_for_function("() => document.querySelector('dialog:modal') !== null")
    page.keyboard.press("Escape")


class ConsoleProblems:
    """Collects console errors and uncaught page errors of a page.

    `allowed_statuses`: HTTP statuses a test expects, whose "Failed to load resource" lines are not errors.
    """

    def __init__(self, page) -> None:
        self.messages: list[str] = []
        self.allowed_statuses: set[int] = set()
        self.allowed_texts: set[str] = set()  # the browser's own words about itself that a test expects
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if url.endswith("/favicon.ico"):
            return  # the browser's own favicon request; the app has no icon (yet), which is not a page error
        if any(f"status of {status} " in message.text for status in self.allowed_statuses):
            return  # Chromium logs every 4xx response; some (422 for a form to correct) are the design
        if any(text in message.text for text in self.allowed_texts):
            return
        self.messages.append(f"console.error: {message.text} ({url})")


class WatchedPages:
    """The pages a test opens, each in a browser context of its own (own cookies), with its console
    watched (`page.console_problems`); `close` closes them all and fails on any console error."""

    def __init__(self, chromium, timeout: int = 15_000) -> None:
        self.chromium, self.timeout = chromium, timeout
        self.contexts: list = []

    def open(self, allowed_statuses=(), **context_options):
        context = self.chromium.new_context(**context_options)
        context.set_default_timeout(self.timeout)
        self.contexts.append(context)
        page = context.new_page()
        page.console_problems = ConsoleProblems(page)
        page.console_problems.allowed_statuses.update(allowed_statuses)
        context.console_problems = page.console_problems
        return page

    def close(self) -> None:
        problems = [message for context in self.contexts for message in context.console_problems.messages]
        for context in self.contexts:
            context.close()
        assert not problems, "errors in the browser console:\n" + "\n".join(problems)
