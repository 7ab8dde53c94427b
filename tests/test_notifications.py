"""Notifications of new mail: Web Push to a local HTTPS push service that checks the VAPID signature
and decrypts the payload as a browser would; the list's poll that carries new INBOX messages to the
open tabs without a query more; and, in Chromium, the service worker's display and click, and the
open tabs' notifications (one for two tabs, none while INBOX is open in a focused tab)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from mailcore.models import PushSubscription
from mailcore.sync.jobs import SyncJob

from .helpers import account_of, connected, message, statements
from .pushservice import BrowserKeys, PushService, check_vapid


@pytest.fixture
def push_service(lab):
    service = PushService(lab.tls_files)
    yield service
    service.stop()


def subscriptions(app) -> list[str]:
    with app.extensions["mail"].sessions() as db:
        return sorted(db.scalars(select(PushSubscription.endpoint)))


def post_json(browser, url: str, data: dict, csrf: bool = True):
    headers = {"X-CSRFToken": browser.token} if csrf else {}
    return browser.client.post(url, json=data, headers=headers)


def test_new_mail_is_pushed_signed_and_encrypted_and_a_gone_subscription_is_deleted(app, lab, mailbox, push_service):
    browser = connected(app, mailbox)
    alive, gone = BrowserKeys(), BrowserKeys()
    push_service.gone.add("/push/gone")
    # a change without the CSRF token, an endpoint that is not HTTPS or keys no browser makes are refused
    unsigned = post_json(browser, "/inbox/push", alive.subscription(push_service.endpoint("alive")), csrf=False)
    assert unsigned.status_code == 400
    assert post_json(browser, "/inbox/push", alive.subscription("http://127.0.0.1:9/push/x")).status_code == 400
    assert post_json(browser, "/inbox/push", {"endpoint": push_service.endpoint("x"),
                                              "keys": {"p256dh": "AAAA", "auth": "AAAA"}}).status_code == 400
    assert subscriptions(app) == []
    for keys, name in ((alive, "alive"), (gone, "gone")):
        assert post_json(browser, "/inbox/push", keys.subscription(push_service.endpoint(name))).status_code == 204

    mail = app.extensions["mail"]
    account_id = account_of(app, mailbox.address).id
    lab.append(mailbox.address, message("Kvartalsrapport", sender="Cecilia Ek <cecilia@kund.example>"))
    lab.append(mailbox.address, message("Note to self", sender=f"Me <{mailbox.address}>"))  # the user's own
    mail.run_job(SyncJob(account_id, "INBOX"))

    pushes = push_service.wait(2)
    assert sorted(p.path for p in pushes) == ["/push/alive", "/push/gone"]
    pushed = next(p for p in pushes if p.path == "/push/alive")
    claims = check_vapid(pushed.headers["authorization"], push_service.origin)
    assert claims["k"] == mail.push.public_key
    assert pushed.headers["content-encoding"] == "aes128gcm" and int(pushed.headers["ttl"]) > 0
    payload = json.loads(alive.decrypt(pushed.body))
    assert payload["count"] == 1
    [arrival] = payload["messages"]
    assert (arrival["sender"], arrival["subject"], arrival["line"]) == (
        "Cecilia Ek", "Kvartalsrapport", "Text of Kvartalsrapport")
    assert arrival["url"] == f"/inbox/?folder=INBOX&message={arrival['id']}"
    # the other browser's keys cannot read it
    with pytest.raises(Exception):  # noqa: B017 - any failure to decrypt
        gone.decrypt(pushed.body)
    # the push service said 410 Gone for the other subscription: it is deleted
    assert subscriptions(app) == [push_service.endpoint("alive")]

    # the link opens the message, its folder named by path
    page = browser.get(arrival["url"])
    assert page.status_code == 200 and "Kvartalsrapport" in page.get_data(as_text=True)

    # a sync with nothing new pushes nothing
    mail.run_job(SyncJob(account_id, "INBOX"))
    assert len(push_service.wait(3, timeout=0.5)) == 2

    # signing out ends the session, and with it this browser's subscription
    browser.post("/signout", htmx=False)
    assert subscriptions(app) == []


def test_the_list_poll_carries_new_inbox_messages_without_a_query_more(app, lab, mailbox):
    browser = connected(app, mailbox)
    account = account_of(app, mailbox.address)
    index = browser.get("/inbox/").get_data(as_text=True)
    import re

    newest = int(re.search(r'data-newest="(\d+)"', index).group(1))
    version = int(re.search(r'/inbox/changes\?folder=(\d+)&amp;v=(\d+)', index).group(2))
    folder = int(re.search(r'/inbox/changes\?folder=(\d+)', index).group(1))
    poll = f"/inbox/changes?folder={folder}&v={version}&state=ok"
    with statements(app) as before:
        assert browser.get(poll, htmx=True).status_code == 204
    with statements(app) as after:
        assert browser.get(poll + f"&since={newest}", htmx=True).status_code == 204
    assert len(after) == len(before)

    lab.append(mailbox.address, message("Ny order", sender="Kund Ab <order@kund.example>"))
    app.extensions["mail"].run_job(SyncJob(account.id, "INBOX"))
    changed = browser.get(poll + f"&since={newest}", htmx=True).get_data(as_text=True)
    items = json.loads(re.search(r"data-items='([^']*)'", changed).group(1).replace("&#39;", "'"))
    assert [(i["sender"], i["subject"]) for i in items] == [("Kund Ab", "Ny order")]
    # without `since` (a page, a Refresh) nothing is described
    assert "data-items='[]'" in browser.get("/inbox/").get_data(as_text=True)

    # with another folder open, a change of INBOX still answers (its version rides along as iv)
    with app.extensions["mail"].sessions() as db:
        from mailcore.models import Folder

        sent = db.scalar(select(Folder).where(Folder.account_id == account.id, Folder.name != "INBOX",
                                              Folder.selectable.is_(True)))
        sent_id, sent_version = sent.id, sent.version
        inbox_version = db.scalar(select(Folder.version).where(Folder.id == folder))
        count = db.scalar(select(func.count()).select_from(PushSubscription))
    assert count == 0
    other = f"/inbox/changes?folder={sent_id}&v={sent_version}&iv={inbox_version}&state=ok"
    with statements(app) as polled:
        assert browser.get(other, htmx=True).status_code == 204
    assert len(polled) == len(before)
    lab.append(mailbox.address, message("Andra order", sender="Kund Ab <order@kund.example>"))
    app.extensions["mail"].run_job(SyncJob(account.id, "INBOX"))
    assert browser.get(other, htmx=True).status_code == 200
