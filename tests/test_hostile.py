"""Hostile mail, synced through the real Dovecot and opened in headless Chromium: every message lists
and opens, no script runs, the page around it stays the app's, and no request leaves for another host."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from localmail.hostile import HOST_MARK, hostile_messages
from mailcore import services
from mailcore.models import Message

from .browser import serve, sign_in, wait_for_htmx
from .helpers import Browser, connect_account, make_user, sync, text

EN = {"user": "User name", "password": "Password", "sign_in": "Sign in"}


@pytest.fixture(scope="module")
def hostile_world(tmp_path_factory, lab, providers_file, empty_dns):
    """One app with a mailbox full of hostile mail, served on loopback, and its messages' ids."""
    from app import create_app

    from .helpers import Mailbox, lab_ports

    workdir = tmp_path_factory.mktemp("hostile")
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(workdir / "instance"),
        "DATABASE_URL": f"sqlite:///{workdir / 'inkorg.db'}", "SECRET_KEY": "hostile-tests",
        "MAIL_CA_BUNDLE": str(lab.ca_bundle), "MAIL_PROVIDERS_FILE": str(providers_file),
        "MAIL_ALLOWED_NETWORKS": "127.0.0.0/8", "MAIL_ALLOWED_PORTS": lab_ports(lab), "MAIL_TIMEOUT": 5.0,
        "MAIL_DNS_SERVER": empty_dns.address, "SYNC_MODE": "inline", "MAIL_TESTS_PER_5_MINUTES": 1000,
    })
    mailbox = Mailbox("victim@inkorg.test", "victim-password-1")
    lab.add_user(mailbox.address, mailbox.password)
    with serve(app) as base:
        for _name, raw in hostile_messages(app_origin=base):
            lab.append(mailbox.address, raw)
        account_id = connect_account(app, lab, mailbox)
        assert sync(app, account_id).state == "ok"
        with app.extensions["mail"].sessions() as db:
            ids = {subject: message_id for message_id, subject in db.execute(select(Message.id, Message.subject))}
        yield app, base, mailbox, ids


def test_every_hostile_message_opens_and_runs_nothing(hostile_world, chromium):
    app, base, mailbox, ids = hostile_world
    assert len(ids) >= 22
    problems: list[str] = []
    leaving: list[str] = []
    own_host = urlsplit(base).netloc
    context = chromium.new_context()
    page = context.new_page()
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("popup", lambda popup: problems.append(f"popup: {popup.url}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and "favicon" not in msg.text else None)

    def request(req):
        host = urlsplit(req.url).netloc
        if req.url.startswith(("http://", "https://")) and host != own_host:
            leaving.append(req.url)

    context.on("request", request)
    context.route(re.compile(r"https?://(?!127\.0\.0\.1).*"), lambda route: route.abort())
    sign_in(page, base, mailbox.address, "crm-password-1", EN)
    for subject, message_id in sorted(ids.items()):
        page.goto(f"{base}/inbox/?message={message_id}")
        wait_for_htmx(page)
        frame = page.locator("iframe.body-frame")
        if frame.count():
            frame.first.wait_for()
            frame.first.hover()  # mouseover handlers, had they survived
            page.mouse.click(400, 400)
        page.wait_for_timeout(150)
        assert page.locator("header.topbar").is_visible(), subject
        assert page.evaluate("() => document.querySelectorAll('script:not([src])').length") == 0, subject
        assert page.evaluate("() => !!document.querySelector('#reading')"), subject
    # the list shows the hostile subjects as text
    page.goto(f"{base}/inbox/")
    assert page.get_by_text("<img src=x onerror=alert(1)>", exact=False).count() >= 1
    assert problems == []
    assert leaving == [], f"requests left for other hosts: {leaving[:5]}"


def test_nothing_hostile_survives_in_the_frame_document(hostile_world):
    app, base, mailbox, ids = hostile_world
    client = Browser(app.test_client())
    client.sign_in(mailbox.address, "crm-password-1")
    for subject, message_id in ids.items():
        html = client.get(f"/inbox/message/{message_id}", htmx=True).get_data(as_text=True)
        assert not re.search(r"<script|<[a-z][^>]*\son[a-z]+\s*=", html, re.IGNORECASE), subject
        frame = re.search(r'srcdoc="([^"]*)"', html)
        if not frame:
            continue
        document = frame.group(1)
        lowered = document.lower().replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") \
            .replace("&#34;", '"').replace("&quot;", '"').replace("&#39;", "'")
        body = lowered.split("<body>", 1)[-1]
        for needle in ("<script", "<svg", "<math", "<base", "<form", "<iframe", "<object", "<embed", "<link",
                       "<meta", "<style", "<input", "<video", "<audio", "<textarea", "<noscript"):
            assert needle not in body, (subject, needle)
        tags = re.findall(r"<[a-z][^>]*>", body)
        urlish = r'\s(href|src|srcset|background|poster|action|formaction|style|data|xlink:href|cite)="([^"]*)"'
        for tag in tags:  # the attributes where links, sources and styles live
            for name, value in re.findall(urlish, tag):
                squeezed = value.replace(" ", "").replace("\t", "")
                # a link may lead anywhere (it opens a new window); nothing else may load from elsewhere
                needles = ("javascript:", "vbscript:", "data:") if name == "href" else (
                    "javascript:", "vbscript:", "data:", HOST_MARK, "url(", "@import")
                for needle in needles:
                    assert needle not in squeezed, (subject, name, value)
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", body), subject
        assert not re.search(r"<[a-z][^>]*\s(data-)?hx-", body), subject


def test_attachments_are_downloads_with_safe_names(hostile_world):
    app, base, mailbox, ids = hostile_world
    client = Browser(app.test_client())
    client.sign_in(mailbox.address, "crm-password-1")
    found = {}
    for message_id in ids.values():
        html = client.get(f"/inbox/message/{message_id}", htmx=True).get_data(as_text=True)
        for url in re.findall(r'href="(/inbox/message/\d+/attachment/\d+)"', html):
            response = client.get(url)
            found[response.headers["Content-Disposition"]] = response
    assert found, "the corpus has attachments"
    for disposition, response in found.items():
        assert disposition.startswith("attachment;")
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        name = disposition.split('filename="', 1)[1].split('"', 1)[0]
        assert "/" not in name and "\\" not in name and "<" not in name and "\u202e" not in name
        assert not name.startswith(".")


def test_cid_images_show_and_other_users_get_404(hostile_world, lab):
    app, base, mailbox, ids = hostile_world
    client = Browser(app.test_client())
    client.sign_in(mailbox.address, "crm-password-1")
    cid_message = next(i for s, i in ids.items() if "cid-image" in s.lower())
    html = client.get(f"/inbox/message/{cid_message}", htmx=True).get_data(as_text=True)
    image = re.search(r"(/inbox/image/[^&\"]+)", html.replace("&amp;", "&")).group(1)
    cookieless = app.test_client()  # as the sandboxed frame asks: no session cookie at all
    response = cookieless.get(image)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert cookieless.get(image[:-3] + "xyz").status_code == 404  # a tampered address names nothing
    other = Browser(app.test_client())  # a second session of the same user: its own addresses
    other.sign_in(mailbox.address, "crm-password-1")
    other_html = other.get(f"/inbox/message/{cid_message}", htmx=True).get_data(as_text=True)
    other_image = re.search(r"(/inbox/image/[^&\"]+)", other_html.replace("&amp;", "&")).group(1)
    other.post("/signout", {})
    assert cookieless.get(other_image).status_code == 404  # bound to the session, which has ended
    assert cookieless.get(image).status_code == 200  # the first session's still works
    from itsdangerous import URLSafeTimedSerializer


    lab.add_user("nosy@inkorg.test", "nosy-password-1")
    make_user(app, "nosy@inkorg.test", name="Nosy")
    nosy = Browser(app.test_client())
    nosy.sign_in("nosy@inkorg.test", "crm-password-1")
    nosy.post("/inbox/setup/login", {"address": "nosy@inkorg.test", "password": "nosy-password-1"})
    attachment = re.search(r'href="(/inbox/message/\d+/attachment/\d+)"',
                           client.get(f"/inbox/message/{next(i for s, i in ids.items() if 'attachment' in s)}",
                                      htmx=True).get_data(as_text=True)).group(1)
    with app.extensions["mail"].sessions() as db:
        nosy_id = services.user_by_email(db, "nosy@inkorg.test").id
    forged = URLSafeTimedSerializer(app.secret_key, salt="inline-image").dumps([nosy_id, cid_message, 2])
    for url in (f"/inbox/image/{forged}", attachment, f"/inbox/message/{cid_message}",
                f"/inbox/message/{cid_message}/print", f"/inbox/message/{cid_message}/window"):
        assert nosy.get(url).status_code == 404, url
    for url, data in (("/inbox/messages/seen", {"ids": cid_message, "seen": "1"}),
                      ("/inbox/messages/move", {"ids": cid_message, "target": 1})):
        assert nosy.post(url, data).status_code == 404, url
    assert "victim" not in text(nosy.get("/inbox/"))


def test_inline_images_show_in_the_frame_and_cids_reach_nothing_else(hostile_world, chromium):
    """The frame has an opaque origin and sends no cookie: the logo must still show, and a cid such as
    `../../signout` must not make the browser ask the app for anything but the message's own part."""
    app, base, mailbox, ids = hostile_world
    asked: list[str] = []
    served = app.wsgi_app

    def record(environ, start_response):  # what the app is asked, the frame's requests included
        asked.append(base + environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"] if environ["QUERY_STRING"] else ""))
        return served(environ, start_response)

    app.wsgi_app = record
    context = chromium.new_context()
    page = context.new_page()
    sign_in(page, base, mailbox.address, "crm-password-1", EN)
    for name, expected in (("cid-image", 1), ("cid-escape", 1)):
        message_id = next(i for s, i in ids.items() if name in s)
        asked.clear()
        page.goto(f"{base}/inbox/?message={message_id}")
        wait_for_htmx(page)
        frame = page.frame_locator("iframe.body-frame")
        frame.locator("img").first.wait_for(state="attached")
        page.wait_for_timeout(300)
        images = [url for url in asked if "/inbox/image/" in url]
        assert len(images) == expected, (name, asked)
        loaded = frame.locator("img[src]").evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.complete])")
        assert loaded == [[16, True]], (name, loaded)
        from_frame = [url for url in asked if url.startswith(base) and not url.startswith(
            (f"{base}/inbox/?message=", f"{base}/inbox/image/", f"{base}/static/"))]
        assert from_frame == [], (name, from_frame)
    app.wsgi_app = served
