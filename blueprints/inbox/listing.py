"""The inbox: folders, the open folder's list (infinite scroll, search, sort), changes and Refresh."""

from __future__ import annotations

from flask import request, url_for

from mailcore.contacts import sending_rule
from mailcore.models import Account, Folder, Role, SyncState
from mailcore.reading.mailbox import PAGE, SORTS, ListQuery, Page, folder_of, folders, page, special_folder
from mailcore.reading.search import server_matches

from ..explain import explain_state
from ..htmx import page_in_place, render
from ..setup.routes import address_step
from ..web import current_account, current_user, db, installation, login_required, own
from . import bp
from .reading import reading_view


@bp.route("/")
@login_required
def index():
    user = current_user()
    if user.account is None:
        return address_step()
    block = "listing" if request.headers.get("HX-Target") == "listing" else "main"
    return render("inbox/index.html", block, **inbox_view(user.account))


def inbox_in_place(account: Account):
    """The inbox as it is now, in place of the page that asked (Save in the setup dialog)."""
    return page_in_place(url_for("inbox.index"), "inbox/index.html", lambda: inbox_view(account))


def list_query(account: Account, folder: Folder | None) -> ListQuery:
    """Search and sort come from the URL, so a reload or a link keeps them. A refresh says how far the
    list goes (`through`, the last row it shows; or `shown`, how many rows when it shows them all), so
    the answer has every row the user can scroll to, and the list merges instead of shrinking."""
    sort, _, direction = (request.values.get("sort") or "date-desc").partition("-")
    search = (request.values.get("q") or "").strip()[:200]
    shown = request.values.get("shown", type=int) or 0
    matches: frozenset[int] = frozenset()
    if search and folder is not None:
        matches = server_matches(installation().account(db(), account), folder, search)
    return ListQuery(folder.id if folder else None, search, sort if sort in SORTS else "date", direction != "asc",
                     after=request.args.get("after") or None, limit=min(max(shown, 0) + PAGE, 1000),
                     through=request.values.get("through") or None, server_matches=matches)


@bp.app_template_global()
def list_query_args(query: ListQuery | None) -> dict:
    """The URL parameters that keep the list's search and sort."""
    if query is None:
        return {}
    sort = query.sort + ("-desc" if query.descending else "-asc")
    return {"q": query.search or None, "sort": sort if sort != "date-desc" else None}


def inbox_view(account: Account, **extra) -> dict:
    """What the inbox shows: folders, the open folder's page, the selected message, the state."""
    folder_id = request.values.get("folder", type=int)
    folder = own(folder_of, folder_id) if folder_id is not None else folder_of(db(), account, None)
    query = list_query(account, folder)
    listing = page(db(), folder, query) if folder else Page(None, [], None)
    message_id = request.args.get("message", type=int)
    reading = reading_view(message_id) if message_id else {}
    failed = SyncState(account.sync_state).failed
    view = dict(folders=folders(db(), account), folder=folder, listing=listing, query=query,
                failure=explain_state(account) if failed else None,
                card_problem=sending_rule(current_user(), account.address),
                trash=special_folder(db(), account, Role.TRASH))
    return {**view, **reading, **extra}


@bp.route("/list")
@login_required
def more():
    """The next page of rows, for infinite scroll."""
    folder = own(folder_of, request.args.get("folder", type=int))
    query = list_query(current_account(), folder)
    return render("inbox/index.html", "rows", listing=page(db(), folder, query), folder=folder, query=query)


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
