"""The inbox page, rendered here: folders, the open folder's list (search, sort), the selected message
and the account's state. The inbox's routes and the setup dialog (which ends in the inbox) answer with it."""

from __future__ import annotations

from flask import abort, request, url_for
from sqlalchemy import select

from mailcore.contacts import sending_rule
from mailcore.crm.senders import companies_of_senders
from mailcore.models import Account, Folder, Message, Role, SyncState
from mailcore.reading.mailbox import (
    PAGE,
    SORTS,
    ListQuery,
    Page,
    folder_named,
    folder_of,
    folders,
    page,
    searched_folders,
    special_folder,
)
from mailcore.reading.search import server_matches
from mailcore.search.index import WHOLE
from mailcore.search.query import parse
from mailcore.sync.indexing import progress

from ..dates import date_locale, zone_name
from ..explain import explain_state
from ..failures import away_of, state_key
from ..htmx import page_in_place
from ..web import current_user, db, installation, request_env
from .blueprint import bp
from .notify import arrivals_view
from .reading import reading_view


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
    everywhere = bool(search) and request.values.get("all") == "1"
    matches: dict[int, frozenset[int]] = {}
    if search and folder is not None:
        matches = _server_matches(account, folder, everywhere, parse(search, date_locale()).free_text)
    return ListQuery(folder.id if folder else None, search, sort if sort in SORTS else "date", direction != "asc",
                     after=request.args.get("after") or None, limit=min(max(shown, 0) + PAGE, 1000),
                     through=request.values.get("through") or None, server_matches=matches,
                     everywhere=everywhere, locale=date_locale(), zone=zone_name(),
                     conversations=by_conversation(folder))


def by_conversation(folder: Folder | None) -> bool:
    """Whether the list shows a row per conversation: the user's choice, in every folder that is
    threaded (not Drafts, Junk or Trash)."""
    return bool(current_user().list_conversations and folder is not None
                and folder.role not in (Role.DRAFTS, Role.JUNK, Role.TRASH))


def _server_matches(account: Account, folder: Folder, everywhere: bool, texts: list[str]) -> dict[int, frozenset[int]]:
    """What the server's SEARCH finds in the folders (the open one, or all) that have messages whose
    body is not in the search index yet; none once every body is."""
    if not texts:
        return {}
    scope = searched_folders(folder) if everywhere else [folder.id]
    waiting = set(db().scalars(select(Message.folder_id).distinct().where(Message.folder_id.in_(scope),
                                                                          Message.search_state < WHOLE)))
    if not waiting:
        return {}
    mail = installation().account(db(), account, request_env)
    return {f.id: server_matches(mail, f, texts) for f in folders(db(), account) if f.id in waiting}


@bp.app_template_global()
def list_query_args(query: ListQuery | None) -> dict:
    """The URL parameters that keep the list's search and sort."""
    if query is None:
        return {}
    sort = query.sort + ("-desc" if query.descending else "-asc")
    return {"q": query.search or None, "sort": sort if sort != "date-desc" else None,
            "all": "1" if query.everywhere else None}


def indexing_progress(account: Account) -> dict[int, int]:
    """Per folder still being indexed, how far (percent); nothing where the search index is off."""
    if installation().settings.search_index_per_sync <= 0:
        return {}
    return progress(db(), account.id)


def sender_companies(folder: Folder | None, listing: Page) -> dict[int, str]:
    """The company beside each known sender of the page (one query); none in Sent and Drafts."""
    if folder is None or folder.role in ("sent", "drafts"):
        return {}
    return companies_of_senders(db(), current_user(), {m.id: m.sender_address for m in listing.messages})


def requested_folder(account: Account) -> Folder | None:
    """The folder a request names (`folder`, its path: ?folder=INBOX/Sub), else INBOX when it names
    none; None when it names one the account does not have. A link from before, with the folder's row
    id, still finds the folder while that row exists."""
    value = request.values.get("folder")
    if not value:
        return folder_of(db(), account, None)
    found = folder_named(db(), account, value)
    if found is None and value.isdigit():
        found = folder_of(db(), account, int(value))
    return found


def inbox_view(account: Account, **extra) -> dict:
    """What the inbox shows: folders, the open folder's page, the selected message, the state."""
    folder = requested_folder(account)
    if folder is None and request.values.get("folder"):
        abort(404)  # not the user's, or gone
    query = list_query(account, folder)
    listing = page(db(), folder, query) if folder else Page(None, [], None)
    message_id = request.args.get("message", type=int)
    reading = reading_view(message_id) if message_id else {}
    failed = SyncState(account.sync_state).failed and account.sync_state != SyncState.UNREACHABLE
    shown_folders = folders(db(), account)
    found_in = {f.id: f for f in shown_folders} if query.everywhere else {}
    view = dict(folders=shown_folders, folder=folder, found_in=found_in, listing=listing, query=query,
                failure=explain_state(account) if failed else None, away=away_of(account),
                state_key=state_key(account),
                card_problem=sending_rule(current_user(), account.address),
                trash=special_folder(db(), account, "trash"), companies=sender_companies(folder, listing),
                indexing=indexing_progress(account))
    return {**view, **arrivals_view(account, folder, shown_folders), **reading, **extra}

