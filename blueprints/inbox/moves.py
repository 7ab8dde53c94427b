"""Move, Delete (a move to Trash) and their Undo, each answered with the merged list and a short
confirmation that offers Undo."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, request
from flask_babel import gettext as _

from mailcore import errors
from mailcore.actions import move
from mailcore.mailbox import folder_of, special_folder
from mailcore.undo import move_back

from ..htmx import render
from ..web import current_account, db, login_required
from . import bp
from .explain import explain


@dataclass
class Toast:
    text: str
    moved_to: int | None = None  # Undo: from this folder ...
    home: int | None = None  # ... back to this one ...
    uids: str = ""  # ... these messages (their UIDs where they are now)


def answer_move(account, chosen: list, target, deleted: bool = False):  # noqa: ANN001
    from .routes import _inbox_view, start_sync

    mail = current_app.extensions["mail"]
    problem, toast = None, None
    try:
        copied = move(db(), account, chosen, target, mail["env"], mail["box"])
    except errors.MailError as exc:
        db().rollback()
        problem = explain(exc)
    else:
        toast = _toast(chosen, target, copied, deleted)
    start_sync(account.id)
    return render("inbox/index.html", "listing", action_problem=problem, toast=toast, **_inbox_view(account))


def _toast(chosen: list, target, copied: dict, deleted: bool) -> Toast:  # noqa: ANN001
    label = current_app.jinja_env.filters["folder_label"](target)
    count = len(chosen)
    text = (_("Message deleted.") if count == 1 else _("%(num)s messages deleted.", num=count)) if deleted else \
        (_("Moved to %(folder)s.", folder=label) if count == 1 else
         _("%(num)s messages moved to %(folder)s.", num=count, folder=label))
    homes = {m.folder_id for m in chosen}
    if len(homes) != 1:
        return Toast(text)
    home = homes.pop()
    new_uids = [copied.get(home, {}).get(m.uid) for m in chosen]
    if not new_uids or None in new_uids:
        return Toast(text)  # the server did not say where they went: no Undo
    return Toast(text, target.id, home, ",".join(str(u) for u in new_uids))


@bp.route("/messages/delete", methods=["POST"])
@login_required
def delete_messages():
    """Delete moves to Trash, where it can be taken back from."""
    from .routes import _chosen_messages

    account = current_account()
    chosen = _chosen_messages(account)
    trash = special_folder(db(), account, "trash")
    if trash is None:
        abort(404)
    return answer_move(account, [m for m in chosen if m.folder_id != trash.id] or chosen, trash, deleted=True)


@bp.route("/messages/undo", methods=["POST"])
@login_required
def undo_move():
    from .routes import _inbox_view, start_sync

    account = current_account()
    moved_to = folder_of(db(), account, request.form.get("moved_to", type=int))
    home = folder_of(db(), account, request.form.get("home", type=int))
    uids = [int(u) for u in (request.form.get("uids") or "").split(",") if u.isdigit()][:1000]
    if moved_to is None or home is None or not uids or None in (request.form.get("moved_to"), request.form.get("home")):
        abort(404)
    mail = current_app.extensions["mail"]
    problem, toast = None, None
    try:
        move_back(db(), account, moved_to, uids, home, mail["env"], mail["box"])
    except errors.MailError as exc:
        db().rollback()
        problem = explain(exc)
    else:
        toast = Toast(_("Undone."))
    start_sync(account.id)
    return render("inbox/index.html", "listing", action_problem=problem, toast=toast, **_inbox_view(account))
