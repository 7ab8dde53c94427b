"""The inbox's list routes: the page itself (the setup dialog's first step while no account is
connected), infinite scroll, changes and Refresh. pages.py renders the page."""

from __future__ import annotations

from flask import request

from mailcore.reading.mailbox import folder_of, folders, page

from ..htmx import render
from ..setup.steps import address_step
from ..web import current_account, current_user, db, installation, login_required, own
from .blueprint import bp
from .pages import inbox_view, list_query, sender_companies


@bp.route("/")
@login_required
def index():
    user = current_user()
    if user.account is None:
        return address_step()
    block = "listing" if request.headers.get("HX-Target") == "listing" else "main"
    return render("inbox/index.html", block, **inbox_view(user.account))


@bp.route("/list")
@login_required
def more():
    """The next page of rows, for infinite scroll."""
    folder = own(folder_of, request.args.get("folder", type=int))
    query = list_query(current_account(), folder)
    listing = page(db(), folder, query)
    found_in = {f.id: f for f in folders(db(), current_account())} if query.everywhere else {}
    return render("inbox/index.html", "rows", listing=listing, folder=folder, query=query, found_in=found_in,
                  companies=sender_companies(folder, listing))


@bp.route("/changes")
@login_required
def changes():
    """Nothing (204) while the open folder is unchanged; the refreshed list when it changed."""
    account = current_account()
    folder = folder_of(db(), account, request.args.get("folder", type=int))
    unchanged = folder is None or folder.version == request.args.get("v", type=int)
    if unchanged and request.args.get("state", "") == account.sync_state:
        return "", 204
    return render("inbox/index.html", "listing", **inbox_view(account))


@bp.route("/refresh", methods=["POST"])
@login_required
def refresh():
    account = current_account()
    installation().request_sync(account.id)
    return render("inbox/index.html", "listing", **inbox_view(account))
