"""The reading pane, the message in a window of its own, printing, attachments and inline images."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort, request, url_for

from mailcore import errors
from mailcore.mailbox import folders, message_of
from mailcore.render import attachment_part, frame_document, inline_part
from mailcore.render import view as render_view

from ..htmx import render
from ..web import current_user, db, login_required, mail_account, own
from . import bp


@bp.route("/message/<int:message_id>")
@login_required
def message(message_id: int):
    return render("inbox/index.html", "reading", **reading_view(message_id))


@bp.route("/message/<int:message_id>/window")
@login_required
def message_window(message_id: int):
    return render("inbox/message.html", "reading", **reading_view(message_id))


@bp.route("/message/<int:message_id>/print")
@login_required
def message_print(message_id: int):
    return render("inbox/print.html", "content", **reading_view(message_id))


def reading_view(message_id: int) -> dict:
    """The selected message as the reading pane shows it; marked read if the user wants that. When
    the server cannot be reached the pane still shows what the list knows."""
    found = own(message_of, message_id)
    mail, user = mail_account(), current_user()
    allow_remote = user.show_inline_images or request.args.get("remote") == "1"
    try:
        raw = mail.raw_message(found)
    except errors.MailError:
        return dict(selected=found, shown=None, frame=None, allow_remote=allow_remote, move_targets=[])
    origin = request.host_url.rstrip("/")
    shown = render_view(raw, allow_remote=allow_remote, cid_url=lambda cid: origin + url_for(
        "inbox.inline_image", message_id=found.id, cid=cid))
    frame = frame_document(shown.html, app_origin=origin, allow_remote=allow_remote) if shown.html else None
    if user.mark_read_in_preview and not found.seen:
        try:
            mail.set_seen([found], True)
        except errors.MailError:
            db().rollback()  # stays unread here, as it is on the server
    return dict(selected=found, shown=shown, frame=frame, allow_remote=allow_remote,
                move_targets=folders(db(), mail.row))


@bp.route("/message/<int:message_id>/attachment/<int:index>")
@login_required
def attachment(message_id: int, index: int):
    item, payload = _part(message_id, lambda raw: attachment_part(raw, index))
    return _download(item, payload, inline=False)


@bp.route("/message/<int:message_id>/cid/<path:cid>")
@login_required
def inline_image(message_id: int, cid: str):
    item, payload = _part(message_id, lambda raw: inline_part(raw, cid))
    if not item.content_type.startswith("image/") or "svg" in item.content_type:
        abort(404)  # only plain images are shown inline; SVG can carry script
    return _download(item, payload, inline=True)


def _part(message_id: int, pick):
    picked = pick(mail_account().raw_message(own(message_of, message_id)))
    if picked is None:
        abort(404)
    return picked


def _download(item, payload: bytes, inline: bool) -> Response:
    response = Response(payload, content_type=item.content_type if inline else "application/octet-stream")
    ascii_name = item.filename.encode("ascii", "replace").decode().replace('"', "_")
    response.headers["Content-Disposition"] = (
        f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(item.filename)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
