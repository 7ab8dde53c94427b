"""What the list shows: the query from the URL (search, sort, how many rows), and the words of the
confirmation that follows an action."""

from __future__ import annotations

from flask import current_app, request

from mailcore.mailbox import PAGE, SORTS, ListQuery
from mailcore.search import server_matches

from ..web import db
from . import bp


def list_query(account, folder) -> ListQuery:  # noqa: ANN001
    """Search and sort come from the URL, so a reload or a link keeps them. A refresh says how far the
    list goes (`through`, the last row it shows; or `shown`, how many rows when it shows them all), so
    the answer has every row the user can scroll to, and the list merges instead of shrinking."""
    sort, _, direction = (request.values.get("sort") or "date-desc").partition("-")
    search = (request.values.get("q") or "").strip()[:200]
    shown = request.values.get("shown", type=int) or 0
    matches = frozenset()
    if search and folder is not None:
        mail = current_app.extensions["mail"]
        matches = server_matches(db(), account, folder, search, mail["env"], mail["box"])
    sort = sort if sort in SORTS else "date"
    return ListQuery(folder.id if folder else None, search, sort, direction != "asc",
                     after=_cursor(request.args.get("after"), sort), limit=min(shown + PAGE, 1000),
                     through=_cursor(request.values.get("through"), sort), server_matches=matches)


def _cursor(text: str | None, sort: str) -> str | None:
    """A list position from the URL ("id|value"), or None when it is not one."""
    from datetime import datetime

    last_id, bar, value = (text or "").partition("|")
    if not bar or not last_id.isdigit():
        return None
    if sort == "date":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return None
    return text


@bp.app_template_global()
def list_query_args(query) -> dict:  # noqa: ANN001
    """The URL parameters that keep the list's search and sort."""
    if query is None:
        return {}
    sort = query.sort + ("-desc" if query.descending else "-asc")
    return {"q": query.search or None, "sort": sort if sort != "date-desc" else None}
