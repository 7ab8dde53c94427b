"""The inbox's list routes: the page itself (the setup dialog's first step while no account is
connected), infinite scroll, changes and Refresh. pages.py renders the page."""

from __future__ import annotations

from flask import abort, request, url_for

from mailcore.reading.mailbox import folder_and_inbox, folders, page

from ..failures import state_key
from ..htmx import redirect_to, render
from ..setup.steps import address_step
from ..web import current_account, current_user, db, installation, login_required
from .blueprint import bp
from .pages import inbox_view, list_query, requested_folder, sender_companies


@bp.route("/")
@login_required
def index():
    user = current_user()
    if user.account is None:
        return address_step()
    if request.args.get("folder") and requested_folder(user.account) is None:
        return redirect_to(url_for("inbox.index"))  # a link to a folder that is gone (or not theirs): the inbox
    block = "listing" if request.headers.get("HX-Target") == "listing" else "main"
    return render("inbox/index.html", block, **inbox_view(user.account))


@bp.route("/list")
@login_required
def more():
    """The next page of rows, for infinite scroll."""
    folder = requested_folder(current_account())
    if folder is None:
        abort(404)
    query = list_query(current_account(), folder)
    listing = page(db(), folder, query)
    found_in = {f.id: f for f in folders(db(), current_account())} if query.everywhere else {}
    return render("inbox/index.html", "rows", listing=listing, folder=folder, query=query, found_in=found_in,
                  companies=sender_companies(folder, listing))


@bp.route("/changes")
@login_required
def changes():
    """Nothing (204) while the open folder and INBOX are unchanged; the refreshed list when one
    changed (INBOX: its new messages are notified, and its unread count is in the tab's title).
    Both folders come in the one query the open folder alone took."""
    account = current_account()
    folder, inbox = folder_and_inbox(db(), account, request.args.get("folder") or None)
    unchanged = folder is None or folder.version == request.args.get("v", type=int)
    if inbox is not None and inbox is not folder and request.args.get("iv") is not None:
        unchanged = unchanged and inbox.version == request.args.get("iv", type=int)
    if unchanged and request.args.get("state", "") == state_key(account):
        return "", 204
    return render("inbox/index.html", "listing", **inbox_view(account))


@bp.route("/refresh", methods=["POST"])
@login_required
def refresh():
    account = current_account()
    installation().request_sync(account.id)
    db().expire(account)  # a sync run inline (or already done) has changed its state
    return render("inbox/index.html", "listing", **inbox_view(account))
