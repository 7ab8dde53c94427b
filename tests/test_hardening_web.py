"""The web layer under pressure: request sizes, headers over HTTPS, sign-in guessing, and sessions
that end on the server."""

from __future__ import annotations

import io
import re
import socket
import statistics
import threading
import time
from datetime import UTC, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import delete, select, update

from app import create_app
from mailcore import services
from mailcore.compose import drafts
from mailcore.compose import uploads as pending_uploads
from mailcore.compose.message import MAX_ATTACHMENTS_BYTES
from mailcore.models import Message, SignInAttempt, User, UserSession, utcnow
from mailcore.passwords import DEFAULT_METHOD

from .browser import serve
from .helpers import Browser, connected, make_user, text

PASSWORD = "crm-password-1"


def signin_form(client, lang: str = "en", **environ) -> str:
    page = client.get("/signin", headers={"Accept-Language": lang}, environ_base=environ)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def try_sign_in(client, user_name: str, password: str, lang: str = "en", **environ):
    token = signin_form(client, lang, **environ)
    return client.post("/signin", data={"email": user_name, "password": password, "csrf_token": token},
                       headers={"Accept-Language": lang}, environ_base=environ)


# --- 2. request size -----------------------------------------------------------------------------


def raw_post(base_url: str, path: str, headers: dict[str, str], sent: bytes = b"x" * 1024) -> tuple[int, dict, str]:
    """POST that announces far more than it sends: only a server that refuses from the headers
    answers; one that reads the body waits for bytes that never come (and the read times out)."""
    host, port = base_url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}",
             "Content-Type: multipart/form-data; boundary=----inkorg", f"Content-Length: {100 * 2**20}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + sent)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < _length(answer):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    fields = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
    return status, fields, body.decode()


def _length(answer: bytes) -> int:
    head, _, _ = answer.partition(b"\r\n\r\n")
    found = re.search(rb"Content-Length: (\d+)", head)
    return len(head) + 4 + int(found.group(1)) if found else 1 << 62


@pytest.mark.parametrize("lang, title", [("sv", "För stort att skicka"), ("en", "Too large to send")])
def test_a_too_large_post_before_sign_in_is_refused_unread_in_the_users_language(app, lang, title):
    with serve(app) as base_url:
        status, _, body = raw_post(base_url, "/signin", {"Accept-Language": lang})
    assert status == 413
    assert title in body and "20 MB" in body


def test_a_too_large_post_after_sign_in_is_refused_unread_as_page_and_fragment(app, mailbox):
    make_user(app, mailbox.address, language="sv")
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, PASSWORD)
    cookie = {"Cookie": f"session={browser.client.get_cookie('session').value}",
              "Accept-Language": "en", "X-CSRFToken": browser.token}
    with serve(app) as base_url:
        status, _, page = raw_post(base_url, "/inbox/compose/", cookie)
        fragment_status, headers, fragment = raw_post(base_url, "/inbox/compose/", cookie | {"HX-Request": "true"})
    assert status == 413 and "För stort att skicka" in page and "<html" in page  # the user's language
    assert fragment_status == 413 and "<html" not in fragment
    assert "Det du skickade är större än vad Inkorg tar emot" in fragment and 'role="alert"' in fragment
    assert headers["HX-Retarget"] == "this" and headers["HX-Reswap"] == "afterbegin"


def test_before_sign_in_only_a_small_form_is_accepted(app):
    client = app.test_client()
    token = signin_form(client)
    big = client.post("/signin", data={"email": "a" * 70_000, "password": "x", "csrf_token": token},
                      headers={"Accept-Language": "en"})
    assert big.status_code == 413 and "Too large to send" in text(big)


def test_a_session_that_ended_meets_the_sign_in_not_the_size_limit(app):
    """A signed-in user may send 30 MB; when their session has ended, the answer is to sign in."""
    response = app.test_client().post("/inbox/compose/", data={"body": "x" * 200_000}, headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/inbox/?folder=3"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/signin?next=/inbox/?folder%3D3"


class CountingFile:
    """An upload stream that is `size` bytes long and counts what is read of it."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b"\0" * n


def test_attachments_are_stored_in_chunks_and_refused_as_soon_as_they_pass_the_limit(app):
    make_user(app, "upload@crm.example")
    with app.extensions["mail"].sessions() as db:
        user = services.user_by_email(db, "upload@crm.example")
        window = drafts.open_window(db, user)
        small = pending_uploads.store(db, window, "a.bin", "application/octet-stream", CountingFile(5 * 2**20))
        huge = CountingFile(2**31)
        with pytest.raises(pending_uploads.TooLarge):
            pending_uploads.store(db, window, "b.bin", "application/octet-stream", huge)
        room = MAX_ATTACHMENTS_BYTES - small.size
        assert room < huge.read_bytes <= room + pending_uploads.CHUNK  # stopped at the limit, not after 2 GB
        assert [u.filename for u in pending_uploads.listed(db, window)] == ["a.bin"]  # nothing of b.bin kept
        assert len(pending_uploads.data_of(db, small)) == 5 * 2**20


def test_too_large_attachments_are_said_and_the_text_kept(app, lab, mailbox):
    writer = connected(app, mailbox)
    lab.received.clear()
    response = writer.post("/inbox/compose/", {
        "to": "kund@example.test", "subject": "Stora filer", "body": "Texten som inte får försvinna",
        "attachments": [(io.BytesIO(b"\0" * (12 * 2**20)), "a.bin"), (io.BytesIO(b"\0" * (9 * 2**20)), "b.bin")]},
        content_type="multipart/form-data")
    assert response.status_code == 422
    words = text(response)
    assert "The attachments are larger than 20 MB in all. Remove some and try again." in words
    page = response.get_data(as_text=True)
    assert "Texten som inte får försvinna" in page and "Stora filer" in page
    assert lab.received == []


# --- 3. headers, and HTTPS behind a proxy -----------------------------------------------------------


def test_app_pages_send_their_origin_and_downloads_nothing(app, lab, mailbox):
    inbox = connected(app, mailbox)
    item = EmailMessage()
    item["From"], item["To"], item["Subject"] = "Kund <kund@example.test>", mailbox.address, "Med bilaga"
    item.set_content("Se bilagan.")
    item.add_alternative("<p>Se <b>bilagan</b>.</p>", subtype="html")
    item.add_attachment(b"col1,col2\n", maintype="text", subtype="csv", filename="offert.csv")
    lab.append(mailbox.address, item)
    inbox.post("/inbox/refresh")
    with app.extensions["mail"].sessions() as db:
        message_id = db.scalar(select(Message.id).where(Message.subject == "Med bilaga"))
    assert inbox.get("/inbox/").headers["Referrer-Policy"] == "same-origin"
    assert app.test_client().get("/signin").headers["Referrer-Policy"] == "same-origin"
    frame = inbox.get(f"/inbox/message/{message_id}", htmx=True).get_data(as_text=True)
    download = inbox.get(re.search(r'href="(/inbox/message/\d+/attachment/\d+)"', frame).group(1))
    assert download.status_code == 200 and download.headers["Referrer-Policy"] == "no-referrer"
    assert 'referrerpolicy="no-referrer"' in frame and "no-referrer" in frame.split("srcdoc=")[1]


def test_remote_images_are_allowed_only_on_the_pages_that_show_messages(browser):
    def img_src(url: str) -> str:
        policy = browser.get(url).headers["Content-Security-Policy"]
        return re.search(r"img-src ([^;]+);", policy).group(1)

    assert img_src("/signin") == img_src("/settings/personal") == "'self' data:"
    assert img_src("/inbox/") == "'self' data: https: http:"  # the message frame inherits it


@pytest.fixture
def proxied(app_config):
    """The app as it runs behind a TLS-terminating proxy (BEHIND_PROXY=1)."""
    return create_app(app_config | {"BEHIND_PROXY": True})


HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "crm.example.test", "X-Forwarded-For": "203.0.113.9"}


def test_behind_a_tls_proxy_forms_post_and_https_is_pinned(proxied):
    make_user(proxied, "kim@crm.example")
    client = proxied.test_client()
    page = client.get("/signin", headers=HTTPS)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    # a browser on a same-origin page sends this Referer; Flask-WTF requires it over HTTPS
    done = client.post("/signin", data={"email": "kim@crm.example", "password": PASSWORD, "csrf_token": token},
                       headers=HTTPS | {"Referer": "https://crm.example.test/signin"})
    assert done.status_code == 302, text(done)
    assert "Secure" in done.headers["Set-Cookie"] and "HttpOnly" in done.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in proxied.test_client().get("/signin").headers  # plain HTTP


def test_behind_a_proxy_failures_count_per_forwarded_client(proxied):
    for n in range(3):
        try_sign_in(proxied.test_client(), f"x{n}@crm.example", "wrong", **{"HTTP_X_FORWARDED_FOR": "198.51.100.7"})
    with proxied.extensions["mail"].sessions() as db:
        assert set(db.scalars(select(SignInAttempt.client_key))) == {"198.51.100.7"}


# --- 6. sign-in throttling --------------------------------------------------------------------------


@pytest.mark.parametrize("known", [True, False])
def test_failed_sign_ins_are_throttled_per_user_name_alike_for_unknown_users(app, known):
    if known:
        make_user(app, "kim@crm.example")
    client = app.test_client()
    answers = [try_sign_in(client, "Kim@CRM.example " if n % 2 else "kim@crm.example", "wrong-password", lang="sv")
               for n in range(5)]
    assert {a.status_code for a in answers} == {422}
    refused = try_sign_in(client, "kim@crm.example", PASSWORD, lang="sv")  # even the right password, for now
    assert refused.status_code == 429
    assert 28 <= int(refused.headers["Retry-After"]) <= 31  # a delay, not the whole window
    assert "För många misslyckade inloggningar. Försök igen om 1 minut." in text(refused)
    assert 'value="kim@crm.example"' in refused.get_data(as_text=True)  # what was typed stays
    assert try_sign_in(client, "someone.else@crm.example", "wrong").status_code == 422  # others still may
    earlier(app, seconds=31)
    assert try_sign_in(client, "kim@crm.example", "wrong").status_code == 422  # the delay has passed
    assert 58 <= int(try_sign_in(client, "kim@crm.example", PASSWORD).headers["Retry-After"]) <= 61  # it grows


def earlier(app, seconds: float) -> None:
    """Every recorded sign-in attempt moved `seconds` into the past, as if that time had passed."""
    with app.extensions["mail"].sessions() as db:
        for attempt in db.scalars(select(SignInAttempt)):
            attempt.at = attempt.at - timedelta(seconds=seconds)
        db.commit()


def test_a_browser_that_signed_in_before_is_not_locked_out_by_others(app):
    """A device cookie (OWASP): strangers' failures against the user name, and from the same office
    address, do not hold back a browser that has signed in as that user; its own failures do."""
    make_user(app, "kim@crm.example")
    own = app.test_client()
    assert try_sign_in(own, "kim@crm.example", PASSWORD, REMOTE_ADDR="192.0.2.50").status_code == 302
    own.delete_cookie("session")  # signed out; the device cookie stays
    for n in range(20):  # a stranger behind the same address: the name and the address are spent
        try_sign_in(app.test_client(), "kim@crm.example" if n < 5 else f"x{n}@crm.example", "wrong",
                    REMOTE_ADDR="192.0.2.50")
    assert try_sign_in(app.test_client(), "kim@crm.example", PASSWORD, REMOTE_ADDR="192.0.2.50").status_code == 429
    assert try_sign_in(own, "kim@crm.example", PASSWORD, REMOTE_ADDR="192.0.2.50").status_code == 302
    own.delete_cookie("session")
    for _ in range(5):
        assert try_sign_in(own, "kim@crm.example", "wrong", REMOTE_ADDR="192.0.2.50").status_code == 422
    assert try_sign_in(own, "kim@crm.example", PASSWORD, REMOTE_ADDR="192.0.2.50").status_code == 429  # its own
    forged = app.test_client()
    forged.set_cookie("inkorg_device", "not-signed", path="/signin")
    assert try_sign_in(forged, "kim@crm.example", PASSWORD, REMOTE_ADDR="192.0.2.50").status_code == 429


def test_unknown_and_known_users_get_the_same_answer_at_a_similar_cost(app_config):
    app = create_app({**app_config, "PASSWORD_HASH": DEFAULT_METHOD})  # the cost an installation has
    make_user(app, "kim@crm.example")
    client = app.test_client()

    def timed(user_name: str) -> tuple[float, str, int]:
        token = signin_form(client)
        started = time.perf_counter()
        response = client.post("/signin", data={"email": user_name, "password": "wrong", "csrf_token": token})
        return time.perf_counter() - started, text(response), response.status_code

    known = [timed("kim@crm.example") for _ in range(4)]
    unknown = [timed(f"nobody{n}@crm.example") for n in range(4)]
    assert {(t, s) for _, t, s in known} == {(t, s) for _, t, s in unknown}
    ratio = statistics.median(k for k, _, _ in known) / statistics.median(u for u, _, _ in unknown)
    assert 0.33 < ratio < 3, ratio  # both check a password hash; a lookup alone is 50 times faster


def test_failures_are_throttled_per_client_address(app):
    for n in range(20):
        assert try_sign_in(app.test_client(), f"guess{n}@crm.example", "wrong",
                           REMOTE_ADDR="192.0.2.10").status_code == 422
    assert try_sign_in(app.test_client(), "new@crm.example", "wrong", REMOTE_ADDR="192.0.2.10").status_code == 429
    assert try_sign_in(app.test_client(), "new@crm.example", "wrong", REMOTE_ADDR="192.0.2.11").status_code == 422
    # an IPv6 client is its /64
    for n in range(20):
        try_sign_in(app.test_client(), f"v6-{n}@crm.example", "wrong", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")
    assert try_sign_in(app.test_client(), "v6@crm.example", "wrong",
                       REMOTE_ADDR="2001:db8:1:2:ffff::1").status_code == 429


def test_workers_share_the_counters_and_parallel_guesses_count(app_config):
    app_config["SIGNIN_FIRST_DELAY_SECONDS"] = 600  # the delay outlasts the guesses however slow the machine
    first, second = create_app(app_config), create_app(app_config)  # two web workers, one database
    make_user(first, "kim@crm.example")
    results = []

    def guess(app):
        results.append(try_sign_in(app.test_client(), "kim@crm.example", "wrong").status_code)

    threads = [threading.Thread(target=guess, args=(app,)) for app in [first, second] * 6]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(422) <= 5 and results.count(429) >= 7, results
    # a guess refused unread is no failure: as many more as were not read (in order now) reach the check
    more = [try_sign_in(second.test_client(), "kim@crm.example", "wrong").status_code for _ in range(6)]
    assert more == [422] * (5 - results.count(422)) + [429] * (1 + results.count(422)), (results, more)
    assert try_sign_in(second.test_client(), "kim@crm.example", PASSWORD).status_code == 429


def test_the_window_passes_and_a_right_password_clears_the_user_names_failures(app):
    make_user(app, "kim@crm.example")
    client = app.test_client()
    for _ in range(5):
        try_sign_in(client, "kim@crm.example", "wrong")
    assert try_sign_in(client, "kim@crm.example", PASSWORD).status_code == 429
    with app.extensions["mail"].sessions() as db:
        db.execute(update(SignInAttempt).values(at=utcnow() - timedelta(minutes=16)))
        db.commit()
    for _ in range(4):
        try_sign_in(client, "kim@crm.example", "wrong")
    assert try_sign_in(client, "kim@crm.example", PASSWORD).status_code == 302
    other = app.test_client()
    for _ in range(4):  # counted afresh after the right password
        assert try_sign_in(other, "kim@crm.example", "wrong").status_code == 422


# --- 10. sessions ---------------------------------------------------------------------------------


def signed_in(app, email: str = "kim@crm.example") -> Browser:
    browser = Browser(app.test_client())
    browser.sign_in(email, PASSWORD)
    return browser


def copy_of(app, browser: Browser):
    """Another client holding a copy of the browser's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", browser.client.get_cookie("session").value)
    return thief


def is_signed_in(client) -> bool:
    response = client.get("/settings/personal")
    return response.status_code == 200 and "/signin" not in response.headers.get("Location", "")


def test_a_copied_cookie_stops_working_after_sign_out(app):
    make_user(app, "kim@crm.example")
    browser = signed_in(app)
    other_device = signed_in(app)
    thief = copy_of(app, browser)
    assert is_signed_in(thief)
    browser.post("/signout", htmx=False)
    after = thief.get("/inbox/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/signin")
    assert is_signed_in(other_device)  # signing out on one browser leaves the others signed in


def test_idle_and_longest_lifetime_end_a_session(app):
    make_user(app, "kim@crm.example")
    browser = signed_in(app)
    expires = browser.client.get_cookie("session").expires  # the idle time, renewed with each use
    assert timedelta(hours=11, minutes=59) < expires - utcnow() <= timedelta(hours=12)
    with app.extensions["mail"].sessions() as db:
        db.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=11, minutes=50)))
        db.commit()
    assert is_signed_in(browser.client)  # used within 12 hours: still signed in, and the use is recorded
    with app.extensions["mail"].sessions() as db:
        seen = db.scalar(select(UserSession.last_seen_at)).replace(tzinfo=UTC)
        assert utcnow() - seen < timedelta(minutes=1)
        db.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=12, minutes=1)))
        db.commit()
    assert not is_signed_in(browser.client)

    browser = signed_in(app)
    with app.extensions["mail"].sessions() as db:
        db.execute(update(UserSession).values(created_at=utcnow() - timedelta(days=14, minutes=1)))
        db.commit()
    assert not is_signed_in(browser.client)  # used a minute ago, but older than 14 days


def test_the_lists_polling_does_not_keep_a_session_alive(app):
    """An inbox left open polls every few seconds; that is not use, so the session still goes idle."""
    make_user(app, "kim@crm.example")
    browser = signed_in(app)
    almost = utcnow() - timedelta(hours=11, minutes=59)
    with app.extensions["mail"].sessions() as db:
        db.execute(update(UserSession).values(last_seen_at=almost))
        db.commit()
    poll = browser.get("/inbox/changes?state=new", htmx=True, headers={"HX-Current-URL": "http://localhost/inbox/"})
    assert poll.status_code in (200, 204, 404)  # answered: the session is live
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(UserSession.last_seen_at)).replace(tzinfo=None) == almost.replace(tzinfo=None)
        db.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=12, minutes=1)))
        db.commit()
    ended = browser.get("/inbox/changes?state=new", htmx=True, headers={"HX-Current-URL": "http://localhost/inbox/"})
    assert ended.status_code == 204 and ended.headers["HX-Redirect"] == "/signin?next=/inbox/"


def test_a_session_cookie_of_before_this_change_is_not_enough(app):
    """A cookie that names only the user (as every cookie did before sessions lived on the server)."""
    make_user(app, "kim@crm.example")
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = 1
    assert not is_signed_in(client)


def test_cli_password_change_ends_the_users_sessions(app):
    make_user(app, "Kim.K@crm.example")
    browser = signed_in(app, "Kim.K@crm.example")
    result = app.test_cli_runner().invoke(args=["user", "passwd", "KIM.K@CRM.EXAMPLE", "--password", "new-password-2"])
    assert result.exit_code == 0, result.output
    assert "New password set for Kim.K@crm.example; 1 session(s) ended" in result.output
    assert not is_signed_in(browser.client)
    assert try_sign_in(app.test_client(), "kim.k@crm.example", PASSWORD).status_code == 422
    assert try_sign_in(app.test_client(), "kim.k@crm.example", "new-password-2").status_code == 302
    short = app.test_cli_runner().invoke(args=["user", "passwd", "kim.k@crm.example", "--password", "short"])
    missing = app.test_cli_runner().invoke(args=["user", "passwd", "nobody@crm.example", "--password", "long-enough-1"])
    assert short.exit_code != 0 and missing.exit_code != 0 and "no user with the email" in missing.output


def test_cli_remove_ends_the_users_sessions_and_removes_everything(app, lab, mailbox):
    browser = connected(app, mailbox)
    result = app.test_cli_runner().invoke(args=["user", "remove", mailbox.address.upper(), "--yes"])
    assert result.exit_code == 0 and f"Removed {mailbox.address}" in result.output, result.output
    assert not is_signed_in(browser.client)
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(User)) is None and db.scalar(select(UserSession)) is None
        assert db.scalar(select(Message)) is None  # the account and its synchronised mail went too
    assert "Anna Andersson" not in app.test_cli_runner().invoke(args=["user", "list"]).output


# --- in Chromium ------------------------------------------------------------------------------------


def test_too_large_to_send_is_said_beside_the_form_which_keeps_the_text(app_config, lab, mailbox, chromium):
    from playwright.sync_api import expect

    from .browser import ConsoleProblems, sign_in, wait_for_htmx

    app = create_app(app_config | {"MAX_CONTENT_LENGTH": 2**20})  # a small limit: a quick upload passes it
    connected(app, mailbox)
    with serve(app) as base_url:
        page = chromium.new_page(locale="en-GB")
        problems = ConsoleProblems(page)
        problems.allowed_statuses.add(413)
        sign_in(page, base_url, mailbox.address, PASSWORD, {"user": "User name", "password": "Password",
                                                             "sign_in": "Sign in"})
        page.get_by_role("link", name="New", exact=True).click()
        compose = page.get_by_role("dialog", name="New email")
        compose.get_by_label("Subject", exact=True).fill("Med stor bilaga")
        compose.get_by_label("Message", exact=True).fill("Texten finns kvar.")
        compose.get_by_label("Attach files", exact=True).set_input_files(
            [{"name": "stor.bin", "mimeType": "application/octet-stream", "buffer": b"\0" * (2 * 2**20)}])
        compose.get_by_role("button", name="Send", exact=True).click()
        expect(compose.get_by_role("alert")).to_contain_text("What you sent is larger than Inkorg accepts.")
        expect(compose.get_by_label("Message", exact=True)).to_have_text("Texten finns kvar.")
        expect(compose.get_by_label("Subject", exact=True)).to_have_value("Med stor bilaga")
        compose.get_by_role("button", name="Send", exact=True).click()  # again: still one sentence
        page.wait_for_timeout(3500)  # and the draft save that typing started (3 s later) is refused too
        wait_for_htmx(page)
        expect(compose.get_by_role("alert")).to_have_count(1)
        assert problems.messages == []


def test_an_open_inbox_goes_to_sign_in_when_its_session_ends(app, lab, mailbox, chromium):
    from .browser import sign_in

    connected(app, mailbox)
    with serve(app) as base_url:
        page = chromium.new_page(locale="en-GB")
        sign_in(page, base_url, mailbox.address, PASSWORD, {"user": "User name", "password": "Password",
                                                             "sign_in": "Sign in"})
        with app.extensions["mail"].sessions() as db:
            db.execute(delete(UserSession))  # as signing out elsewhere with a copy of the cookie would
            db.commit()
        page.wait_for_url("**/signin?next=/inbox/", timeout=15_000)  # the next poll of the list
        assert page.get_by_role("button", name="Sign in", exact=True).is_visible()


def test_a_remote_image_the_user_allows_loads_in_the_message_frame(app, lab, mailbox, chromium):
    """The srcdoc message frame inherits the inbox page's img-src, so the page must allow remote
    images that the frame's own policy allows."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from .browser import sign_in, wait_for_htmx

    requested = []

    class Pixel(BaseHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.end_headers()
            self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

        def log_message(self, *args):
            pass

    images = ThreadingHTTPServer(("127.0.0.2", 0), Pixel)
    threading.Thread(target=images.serve_forever, daemon=True).start()
    item = EmailMessage()
    item["From"], item["To"], item["Subject"] = "Nyheter <news@shop.example>", mailbox.address, "Med bild"
    item.set_content("text")
    item.add_alternative(f'<p>Hej</p><img src="http://127.0.0.2:{images.server_port}/hero.gif" alt="hero">',
                         subtype="html")
    lab.append(mailbox.address, item)
    browser = connected(app, mailbox)
    browser.post("/settings/email-options", {"show_inline_images": "y"})
    try:
        with serve(app) as base_url:
            page = chromium.new_page(locale="en-GB")
            sign_in(page, base_url, mailbox.address, PASSWORD, {"user": "User name", "password": "Password",
                                                                 "sign_in": "Sign in"})
            page.get_by_role("link", name="Med bild").first.click()
            wait_for_htmx(page)
            page.wait_for_timeout(500)
    finally:
        images.shutdown()
        images.server_close()
    assert requested == ["/hero.gif"]
