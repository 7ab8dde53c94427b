"""Move, Delete (a move to Trash) and their Undo, each answered with the merged list and a short
confirmation that offers Undo. When the message in the reading pane moves, the answer brings the
pane the next one in the list as the user sees it (else the one before it, else none)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, request, url_for
from flask_babel import gettext as _

from mailcore import errors
from mailcore.account import MailAccount
from mailcore.models import Folder, Message, Role
from mailcore.reading.mailbox import Place, folder_of, place_of, special_folder, successor

from ..failures import action_failed
from ..htmx import render
from ..web import db, installation, login_required, mail_account, own
from .actions import chosen_messages
from .blueprint import bp
from .pages import inbox_view, list_query_args
from .reading import reading_view

MAX_UNDO = 1000  # as many as one action may choose


@dataclass
class Toast:
    text: str
    moved_to: int | None = None  # Undo: from this folder ...
    home: int | None = None  # ... back to this one ...
    uids: str = ""  # ... these messages (their UIDs where they are now)


def answer_move(mail: MailAccount, chosen: list[Message], target: Folder, deleted: bool = False):
    """Move on the server, then the list as it now is, with the confirmation (or the refusal)."""
    problem, toast = None, None
    open_id = request.form.get("open", type=int)  # the message in the reading pane, if any
    reading = next((place_of(m) for m in chosen if m.id == open_id), None)
    try:
        copied = mail.move(chosen, target)
    except errors.MailError as exc:
        problem = action_failed(db(), mail.row, exc)
    else:
        toast = _toast(chosen, target, copied, deleted)
    if problem is None or not problem.unreachable:  # a server that does not answer is tried on its schedule
        installation().request_sync(mail.row.id)
    view = inbox_view(mail.row, action_problem=problem, toast=toast)
    if problem or reading is None or reading.folder_id == target.id:
        return render("inbox/index.html", "listing", **view)  # the pane's message stays where it was
    view, url = _read_on(view, reading)
    return render("inbox/index.html", "listing", replace_url=url, **view)


def _read_on(view: dict, gone: Place) -> tuple[dict, str]:
    """The pane goes on from the message that left the list to the next one, whose row gets the focus
    (as if opened from the list: marked read if the user wants that), or to none; `url` says which."""
    folder, query = view["folder"], view["query"]
    shown = {m.id for m in view["listing"].messages}
    following = successor(db(), folder, query, gone, shown) if folder and folder.role != Role.DRAFTS else None
    reading = reading_view(following.id) if following else {"selected": None}
    url = url_for("inbox.index", message=following.id if following else None,
                  folder=folder.name if folder else None, **list_query_args(query))
    return {**view, **reading, "read_on": True, "focus_row": following.id if following else None}, url


def _toast(chosen: list[Message], target: Folder, copied: dict[int, dict[int, int]], deleted: bool) -> Toast:
    label = current_app.jinja_env.filters["folder_label"](target)
    count = len(chosen)
    if deleted:
        text = _("Message deleted.") if count == 1 else _("%(num)s messages deleted.", num=count)
    else:
        text = (_("Moved to %(folder)s.", folder=label) if count == 1 else
                _("%(num)s messages moved to %(folder)s.", num=count, folder=label))
    homes = {m.folder_id for m in chosen}
    if len(homes) != 1:
        return Toast(text)
    home = homes.pop()
    new_uids = [copied.get(home, {}).get(m.uid) for m in chosen]
    if not new_uids or None in new_uids:
        return Toast(text)  # the server did not say where they went: no Undo
    return Toast(text, target.id, home, ",".join(str(u) for u in new_uids))


@bp.route("/messages/move", methods=["POST"])
@login_required
def move_messages():
    mail = mail_account()
    chosen = chosen_messages()
    return answer_move(mail, chosen, own(folder_of, request.form.get("target", type=int)))


@bp.route("/messages/delete", methods=["POST"])
@login_required
def delete_messages():
    """Delete moves to Trash, where it can be taken back from."""
    mail = mail_account()
    chosen = chosen_messages()
    trash = special_folder(db(), mail.row, Role.TRASH)
    if trash is None:
        abort(404)
    return answer_move(mail, [m for m in chosen if m.folder_id != trash.id] or chosen, trash, deleted=True)


@bp.route("/messages/undo", methods=["POST"])
@login_required
def undo_move():
    """Undo a Move or Delete: the messages with these UIDs in the folder they went to go back home."""
    mail = mail_account()
    moved_to = own(folder_of, request.form.get("moved_to", type=int))
    home = own(folder_of, request.form.get("home", type=int))
    uids = [int(u) for u in (request.form.get("uids") or "").split(",") if u.isdigit()][:MAX_UNDO]
    if not uids:
        abort(404)
    problem, toast = None, None
    try:
        mail.move_back(moved_to, uids, home)
    except errors.MailError as exc:
        problem = action_failed(db(), mail.row, exc)
    else:
        toast = Toast(_("Undone."))
    if problem is None or not problem.unreachable:  # a server that does not answer is tried on its schedule
        installation().request_sync(mail.row.id)
    return render("inbox/index.html", "listing", **inbox_view(mail.row, action_problem=problem, toast=toast))
