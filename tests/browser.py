"""Helpers for driving the app in a real browser: serve it on loopback and launch Debian's Chromium.

Used by the browser tests (localmail/browser.py does the same for the documentation pictures).
Playwright's own browser download does not work here, so Chromium is always the system one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve a Flask app on 127.0.0.1 at a free port in a background thread; yields its base URL."""
    server = make_server(host="127.0.0.1", port=0, app=app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="inkorg-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def wait_for_htmx(page, timeout: float = 15_000) -> None:
    """Until htmx has no request in flight (.htmx-request) and has finished swapping and settling."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')",
        timeout=timeout)


def sign_in(page, base_url: str, user_name: str, password: str, words: dict) -> None:
    """Sign in through the form, by its visible labels. `words`: "user", "password", "sign_in"."""
    page.goto(base_url + "/signin")
    page.get_by_label(words["user"], exact=True).fill(user_name)
    page.get_by_label(words["password"], exact=True).fill(password)
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    page.wait_for_url("**/inbox/**")
    wait_for_htmx(page)


class ConsoleProblems:
    """Collects console errors and uncaught page errors of a page.

    `allowed_statuses`: HTTP statuses a test expects, whose "Failed to load resource" lines are not errors.
    """

    def __init__(self, page) -> None:
        self.messages: list[str] = []
        self.allowed_statuses: set[int] = set()
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
        self.messages.append(f"console.error: {message.text} ({url})")
