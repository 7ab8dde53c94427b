"""Acting on messages from the list or the reading pane: mark as read/unread, subscribe (Move,
Delete and Undo are in moves.py). Changes go to the server first; a refusal is shown in the list,
which shows the true state."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, abort, request, url_for

from mailcore import errors
from mailcore.account import MailAccount
from mailcore.models import SyncState
from mailcore.reading.mailbox import conversation_in_folder, folder_of, message_of

from ..failures import action_failed
from ..htmx import redirect_to, render
from ..web import current_account, current_user, db, installation, login_required, mail_account, own
from .blueprint import bp
from .pages import inbox_view


def _listing(mail: MailAccount, change: Callable[[], None]) -> Response:
    problem = None
    try:
        change()
    except errors.MailError as exc:
        problem = action_failed(db(), mail.row, exc)
    else:
        if SyncState(mail.row.sync_state).failed:
            installation().request_sync(mail.row.id)  # the server answers again: the state follows
    return render("inbox/index.html", "listing", **inbox_view(mail.row, action_problem=problem))


@bp.route("/messages/seen", methods=["POST"])
@login_required
def mark_seen():
    """Mark as read (seen=1) or unread (seen=0); the list answers with the true state either way."""
    mail = mail_account()
    chosen = chosen_messages()
    return _listing(mail, lambda: mail.set_seen(chosen, request.form.get("seen") == "1"))


@bp.route("/folders/<int:folder_id>/subscribe", methods=["POST"])
@login_required
def subscribe_folder(folder_id: int):
    mail = mail_account()
    folder = own(folder_of, folder_id)
    mail.subscribe(folder)  # a refusal is explained by the app's MailError handler
    installation().request_sync(mail.row.id)
    return redirect_to(url_for("inbox.index", folder=folder.name))


@bp.route("/list/conversations", methods=["POST"])
@login_required
def list_by_conversation():
    """The list's choice of a row per conversation or per message, remembered for the user."""
    current_user().list_conversations = request.form.get("conversations") == "1"
    db().commit()
    return render("inbox/index.html", "listing", **inbox_view(current_account()))


def chosen_messages() -> list:
    """The messages chosen; a row of the list by conversation (`conversations`=1) stands for its
    conversation's messages in that folder."""
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:1000]
    chosen = [own(message_of, i) for i in ids]
    if not chosen:
        abort(404)  # none chosen: nothing is done
    if request.form.get("conversations") == "1":
        whole: dict[int, object] = {}
        for message in chosen:
            whole.update((m.id, m) for m in conversation_in_folder(db(), message))
        chosen = list(whole.values())[:1000]
    return chosen
