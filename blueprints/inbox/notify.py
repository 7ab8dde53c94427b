"""Notifications of new mail: what the list tells open tabs of new INBOX messages, the browsers'
Web Push subscriptions, and the service worker that shows a push when no tab is open."""

from __future__ import annotations

from dataclasses import asdict

from flask import current_app, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from mailcore import crm_signin, notify
from mailcore.models import Account, Folder

from ..web import current_user, db, installation, login_required
from .blueprint import bp


def enabled() -> bool:
    return installation().push is not None


def arrivals_view(account: Account, folder: Folder | None, folders: list[Folder]) -> dict:
    """For the list's notifications: INBOX's newest UID (what a tab counts as known; the folder row
    has it, so no query), and, when the tab says what it knew (`since`, sent by the list's poll)
    and INBOX has had mail since, the unread messages that came after it (one query, only then)."""
    if not enabled():
        return {}
    inbox = next((f for f in folders if f.role == "inbox"), None)
    if inbox is None:
        return {}
    newest = (inbox.uidnext or 1) - 1
    since = request.args.get("since", type=int)
    validity = request.args.get("validity", type=int)
    found = []
    if since is not None and 0 < since < newest and validity == inbox.uidvalidity and inbox.complete:
        found = notify.arrivals(db(), current_user(), account, inbox, since, url_for("inbox.index"))
    return {"arrivals": found, "arrivals_newest": newest, "inbox_folder": inbox}


@bp.app_template_global()
def notifications_offered() -> bool:
    """Whether the installation has notifications (NOTIFICATIONS=0 switches them off)."""
    return enabled()


@bp.app_template_global()
def push_public_key() -> str:
    return installation().push.public_key if enabled() else ""


@bp.app_template_filter("arrival")
def arrival_fields(arrival: notify.Arrival) -> dict:
    return asdict(arrival)


def words(app, language: str | None, count: int) -> dict:
    """A push's words in the user's language (the sync runs outside any request)."""
    with app.app_context(), force_locale(language or "en"):
        return {"many": _("%(count)s new emails", count=count),
                "no_subject": _("(no subject)")}


def init_app(app) -> None:
    push = app.extensions["mail"].push
    if push is not None:
        push.texts = lambda language, count: words(app, language, count)
        push.base = app.config.get("APPLICATION_ROOT", "/").rstrip("/") + "/inbox/"


@bp.route("/push", methods=["POST"])
@login_required
def push_subscribe():
    """Keep this browser's push subscription (JSON as PushSubscription.toJSON() gives it)."""
    if not enabled():
        return "", 404
    data = request.get_json(silent=True) or {}
    endpoint = data.get("endpoint") if isinstance(data.get("endpoint"), str) else ""
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if (len(endpoint) > 2000 or not isinstance(p256dh, str) or not isinstance(auth, str)
            or not notify.valid_keys(p256dh, auth) or not installation().push.permitted(endpoint)):
        return "", 400
    notify.subscribe(db(), current_user(), crm_signin.session_key(session.get("token")), endpoint, p256dh, auth)
    return "", 204


@bp.route("/push/off", methods=["POST"])
@login_required
def push_unsubscribe():
    data = request.get_json(silent=True) or {}
    endpoint = data.get("endpoint")
    if isinstance(endpoint, str):
        notify.unsubscribe(db(), current_user(), [endpoint])
    return "", 204


@bp.route("/sw.js")
def service_worker():
    """The service worker that shows a push of new mail (scope: /inbox/)."""
    return current_app.send_static_file("js/sw.js")
