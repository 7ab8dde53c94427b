"""Notifications of new mail: Web Push to a local HTTPS push service that checks the VAPID signature
and decrypts the payload as a browser would; the list's poll that carries new INBOX messages to the
open tabs without a query more; and, in Chromium, the service worker's display and click, and the
open tabs' notifications (one for two tabs, none while INBOX is open in a focused tab)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

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
    newest = int(re.search(r'data-newest="(\d+)"', index).group(1))
    validity = int(re.search(r'data-validity="(\d+)"', index).group(1))
    version = int(re.search(r'/inbox/changes\?folder=([^&"]+)&amp;v=(\d+)', index).group(2))
    folder = re.search(r'/inbox/changes\?folder=([^&"]+)', index).group(1)
    state = re.search(r'/inbox/changes\?[^"]*state=([^&"]+)', index).group(1)
    poll = f"/inbox/changes?folder={folder}&v={version}&state={state}"
    known = f"&since={newest}&validity={validity}"
    with statements(app) as quiet:
        assert browser.get(poll, htmx=True).status_code == 204
    with statements(app) as after:
        assert browser.get(poll + known, htmx=True).status_code == 204
    assert len(after) == len(quiet)
    # a poll that finds a change but no new INBOX mail renders the list with no statement more either
    changed_poll = f"/inbox/changes?folder={folder}&v=-1&state=ok"
    with statements(app) as before:
        assert browser.get(changed_poll, htmx=True).status_code == 200
    with statements(app) as after:
        assert browser.get(changed_poll + known, htmx=True).status_code == 200
    assert len(after) == len(before)

    lab.append(mailbox.address, message("Ny order", sender="Kund Ab <order@kund.example>"))
    app.extensions["mail"].run_job(SyncJob(account.id, "INBOX"))
    changed = browser.get(poll + known, htmx=True).get_data(as_text=True)
    items = json.loads(re.search(r"data-items='([^']*)'", changed).group(1).replace("&#39;", "'"))
    assert [(i["sender"], i["subject"]) for i in items] == [("Kund Ab", "Ny order")]
    # without `since` (a page, a Refresh) nothing is described
    assert "data-items='[]'" in browser.get("/inbox/").get_data(as_text=True)

    # with another folder open, a change of INBOX still answers (its version rides along as iv)
    with app.extensions["mail"].sessions() as db:
        from mailcore.models import Folder

        sent = db.scalar(select(Folder).where(Folder.account_id == account.id, Folder.name != "INBOX",
                                              Folder.selectable.is_(True)))
        sent_path, sent_version = sent.name, sent.version
        inbox_version = db.scalar(select(Folder.version).where(Folder.account_id == account.id,
                                                               Folder.name == folder))
        count = db.scalar(select(func.count()).select_from(PushSubscription))
    assert count == 0
    other = f"/inbox/changes?folder={quote(sent_path)}&v={sent_version}&iv={inbox_version}&state={state}"
    with statements(app) as polled:
        assert browser.get(other, htmx=True).status_code == 204
    assert len(polled) == len(quiet)
    lab.append(mailbox.address, message("Andra order", sender="Kund Ab <order@kund.example>"))
    app.extensions["mail"].run_job(SyncJob(account.id, "INBOX"))
    assert browser.get(other, htmx=True).status_code == 200


# --- in Chromium --------------------------------------------------------------------------------

NOTIFICATIONS = ("navigator.serviceWorker.getRegistration('/inbox/')"
                 ".then(r => r ? r.getNotifications() : [])"
                 ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url})))")


def notifications(page, least: int = 1) -> list[dict]:
    from localmail.waits import eventually

    found: list[dict] = []
    eventually(lambda: len(found.__setitem__(slice(None), page.evaluate(NOTIFICATIONS)) or found) >= least, 10)
    return found


# counts, across the tabs, each notification shown (and still shows it): two with the same tag would
# show as one, so only the count says whether both tabs notified
COUNT_SHOWN = """(() => {
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = function (...args) {
    localStorage.setItem("shown", String(Number(localStorage.getItem("shown") || 0) + 1));
    return show.apply(this, args);
  };
})()"""


def real_focus(page) -> None:
    """Headless Chromium tells every page it has the focus; without that, only the front page has it."""
    page.context.new_cdp_session(page).send("Emulation.setFocusEmulationEnabled", {"enabled": False})


def turn_on(page, base_url: str) -> None:
    from playwright.sync_api import expect

    page.context.grant_permissions(["notifications"], origin=base_url)
    offer = page.locator("#notify-offer")
    expect(offer).to_be_visible()  # asked for from a click only: the offer, never a prompt on load
    offer.get_by_role("button", name="Turn on notifications").click()
    expect(offer).to_be_hidden()
    page.wait_for_function("() => navigator.serviceWorker.getRegistration('/inbox/').then(r => !!(r && r.active))")


def arrive(app, lab, mailbox, *subjects: str, sender: str = "Cecilia Ek <cecilia@kund.example>") -> None:
    for subject in subjects:
        lab.append(mailbox.address, message(subject, sender=sender))
    app.extensions["mail"].run_job(SyncJob(account_of(app, mailbox.address).id, "INBOX"))


def shown(page, subject: str) -> None:
    """The tab's list has polled and shows the message (so the tab has seen it)."""
    from playwright.sync_api import expect

    expect(page.locator("#message-list .message", has_text=subject)).to_be_visible(timeout=15_000)


def test_one_notification_for_two_background_tabs_none_while_inbox_is_focused(app, lab, mailbox, inbox_page,
                                                                               base_url):
    first = inbox_page("en")
    first.console_problems.allowed_texts.add("does not support the Push API in incognito mode")
    real_focus(first)
    turn_on(first, base_url)
    first.context.add_init_script(COUNT_SHOWN)
    first.evaluate(COUNT_SHOWN)
    second = first.context.new_page()
    second.goto(f"{base_url}/inbox/")
    real_focus(second)  # after loading: a new page process starts with Playwright's emulation again
    elsewhere = first.context.new_page()  # the user works in another tab
    elsewhere.set_content("<p>Another program</p>")
    real_focus(elsewhere)
    elsewhere.bring_to_front()
    second.wait_for_function("() => !document.hasFocus()")

    arrive(app, lab, mailbox, "Offert på lager")
    shown(first, "Offert på lager")
    shown(second, "Offert på lager")
    notes = notifications(first)
    assert [(n["title"], n["body"]) for n in notes] == [("Cecilia Ek", "Offert på lager\nText of Offert på lager")]
    assert "folder=INBOX&message=" in notes[0]["url"]
    assert first.evaluate("localStorage.getItem('shown')") == "1"
    # the tab's icon carries INBOX's unread count (two in the mailbox, and the new one)
    icon = first.locator("link[rel=icon]")
    from playwright.sync_api import expect

    expect(icon).to_have_attribute("data-unread", "3")
    expect(icon).to_have_attribute("href", re.compile(r"^data:image/png;base64,"))
    first.evaluate("navigator.serviceWorker.getRegistration('/inbox/').then(r => r.getNotifications())"
                   ".then(ns => ns.forEach(n => n.close()))")

    # several at once become one
    arrive(app, lab, mailbox, "Faktura 1", "Faktura 2", sender="Dan Brown <dan@partner.example>")
    shown(first, "Faktura 2")
    shown(second, "Faktura 2")
    notes = notifications(first)
    assert [n["title"] for n in notes] == ["2 new emails"]
    assert notes[0]["body"].splitlines() == ["Dan Brown: Faktura 2", "Dan Brown: Faktura 1"]
    assert first.evaluate("localStorage.getItem('shown')") == "2"
    first.evaluate("navigator.serviceWorker.getRegistration('/inbox/').then(r => r.getNotifications())"
                   ".then(ns => ns.forEach(n => n.close()))")

    # the user looks at INBOX in a focused tab: no notification, whichever tab's poll sees it first
    first.bring_to_front()
    first.wait_for_function("() => document.hasFocus()")
    arrive(app, lab, mailbox, "Läst direkt")
    shown(first, "Läst direkt")
    shown(second, "Läst direkt")
    assert first.evaluate(NOTIFICATIONS) == [] and first.evaluate("localStorage.getItem('shown')") == "2"

    # Turn off notifications (Email options > General) switches this browser off
    first.locator(".profile summary").click()
    first.get_by_role("link", name="Email options").click()
    setting = first.locator("[data-notify-setting]")
    expect(setting).to_contain_text("Notifications are on in this browser.")
    setting.get_by_role("button", name="Turn off notifications").click()
    expect(setting.get_by_role("button", name="Turn on notifications")).to_be_visible()
    elsewhere.bring_to_front()
    second.wait_for_function("() => !document.hasFocus()")
    arrive(app, lab, mailbox, "Efter avstängning")
    shown(first, "Efter avstängning")
    shown(second, "Efter avstängning")
    assert first.evaluate(NOTIFICATIONS) == [] and first.evaluate("localStorage.getItem('shown')") == "2"
    second.close()
    elsewhere.close()


def test_the_service_worker_shows_a_push_and_its_click_opens_the_message(app, lab, mailbox, inbox_page, base_url):
    from playwright.sync_api import expect

    from mailcore import notify
    from mailcore.models import User

    page = inbox_page("en")
    page.console_problems.allowed_texts.add("does not support the Push API in incognito mode")
    turn_on(page, base_url)
    arrive(app, lab, mailbox, "Avtal att skriva under")
    mail = app.extensions["mail"]
    with mail.sessions() as db:  # what the sync would push for it
        user = db.scalar(select(User).where(User.email == mailbox.address))
        inbox = notify.inbox_of(db, user.account)
        found = [a for a in notify.arrivals(db, user, user.account, inbox, 0, "/inbox/")
                 if a.subject == "Avtal att skriva under"]
        payload = mail.push.payload(user, found)

    cdp = page.context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    from localmail.waits import eventually

    # (each evaluate lets Playwright hand over the events that came meanwhile)
    assert eventually(lambda: page.evaluate("0") or any(r["scopeURL"] == f"{base_url}/inbox/"
                                                        for r in registrations), 10)
    registration = next(r for r in registrations if r["scopeURL"] == f"{base_url}/inbox/")
    elsewhere = page.context.new_page()  # the push comes while the user is in another tab
    elsewhere.set_content("<p>Another program</p>")
    real_focus(elsewhere)
    real_focus(page)
    elsewhere.bring_to_front()
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": f"{base_url}/", "registrationId":
                                                  registration["registrationId"], "data": json.dumps(payload)})
    [note] = notifications(page)
    assert (note["title"], note["body"]) == ("Cecilia Ek", "Avtal att skriva under\nText of Avtal att skriva under")
    assert note["tag"] == f"inkorg-m{found[0].id}"

    # the click (the worker's notificationclick) brings the inbox tab forward with the message open
    [worker] = [w for w in page.context.service_workers if w.url.endswith("/inbox/sw.js")]
    worker.evaluate("self.registration.getNotifications().then(ns => self.dispatchEvent("
                    "new NotificationEvent('notificationclick', {notification: ns[0]})))")
    expect(page).to_have_url(f"{base_url}/inbox/?folder=INBOX&message={found[0].id}")
    expect(page.locator("#reading")).to_contain_text("Text of Avtal att skriva under")
    assert page.evaluate(NOTIFICATIONS) == []  # a clicked notification closes
    elsewhere.close()


def test_an_operator_switches_notifications_off(app_config, lab, mailbox):
    from app import create_app

    app = create_app({**app_config, "NOTIFICATIONS": "0"})
    assert app.extensions["mail"].push is None
    browser = connected(app, mailbox)
    page = browser.get("/inbox/").get_data(as_text=True)
    assert "data-notify" not in page and "notify-offer" not in page and 'id="arrivals"' not in page
    options = browser.get("/settings/email-options").get_data(as_text=True)
    assert "Turn on notifications" not in options
    keys = BrowserKeys()
    assert post_json(browser, "/inbox/push", keys.subscription("https://127.0.0.1:9/push/x")).status_code == 404
