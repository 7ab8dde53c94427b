"""The reading pane, the message in a window of its own, printing, attachments and inline images."""

from __future__ import annotations

from flask import Response, abort, current_app, request, session, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from mailcore import crm_signin as signin
from mailcore import errors
from mailcore.crm import senders
from mailcore.models import Account, Folder, Role, User
from mailcore.reading.mailbox import conversation_of, folders, message_of, special_folder
from mailcore.reading.render import Attachment, attachment_part, frame_document
from mailcore.reading.render import inline_image as image_part
from mailcore.reading.render import view as render_view

from ..explain import explain
from ..failures import note_failure
from ..htmx import render
from ..security import download, session_limits
from ..web import current_account, current_user, db, installation, login_required, mail_account, own, request_env
from .blueprint import bp

INLINE_IMAGE_LIFETIME = 3600  # seconds an inline image's address works; the pane is reloaded long before


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
    except errors.MailError as exc:
        db().rollback()
        problem = explain(exc).message if isinstance(exc, errors.ServerBusy) else None
        if problem is None:
            note_failure(mail.row, exc)  # the list's poll shows the server's state from now on
            db().commit()
        return dict(selected=found, home=db().get(Folder, found.folder_id), shown=None, frame=None,
                    allow_remote=allow_remote, move_targets=[], trash=None, problem=problem)
    origin = request.host_url.rstrip("/")
    live_session = signin.session_key(session.get("token"))
    shown = render_view(raw, allow_remote=allow_remote, part_url=lambda part: origin + url_for(
        "inbox.inline_image", token=_inline_signer().dumps([user.id, found.id, part.index, live_session])))
    frame = frame_document(shown.html, app_origin=origin, allow_remote=allow_remote) if shown.html else None
    conversation = conversation_view(found)  # as it was: its unread messages open
    unread = [m for m in (found, *conversation.get("before", ()), *conversation.get("after", ())) if not m.seen]
    if user.mark_read_in_preview and unread:
        try:
            mail.set_seen(unread, True)  # the conversation has been read, as the pane shows it
        except errors.MailError:
            db().rollback()  # stays unread here, as it is on the server
    parties = senders.of_message(db(), user, shown.from_name, shown.from_address, shown.to, shown.cc)
    return dict(selected=found, home=db().get(Folder, found.folder_id), shown=shown, frame=frame,
                allow_remote=allow_remote, parties=parties,
                move_targets=folders(db(), mail.row), trash=special_folder(db(), mail.row, Role.TRASH),
                **conversation)


def conversation_view(found) -> dict:
    """The open message's conversation, when the list shows conversations: the messages before it and
    after it (every folder but Junk, Trash and Drafts), each a line that opens in place; unread ones open."""
    if not current_user().list_conversations or found.conversation_id is None:
        return {}
    whole = conversation_of(db(), current_account(), found)
    if len(whole) < 2:
        return {}
    place = next(i for i, m in enumerate(whole) if m.id == found.id)
    names = {f.id: f for f in folders(db(), current_account())}
    return dict(before=whole[:place], after=whole[place + 1:], conversation_folders=names,
                opened_unread={m.id for m in whole if not m.seen})


@bp.route("/message/<int:message_id>/in-conversation")
@login_required
def message_in_conversation(message_id: int):
    """One message of the open conversation, opened in place: its text (HTML only in the sandboxed
    frame), with a link that opens it on its own (its actions)."""
    found = own(message_of, message_id)
    try:
        raw = mail_account().raw_message(found)
    except errors.MailError:
        return render("inbox/_conversation.html", "part", part=found, part_folder=db().get(Folder, found.folder_id),
                      shown=None, frame=None)
    shown = render_view(raw, allow_remote=False, part_url=lambda part: "")
    origin = request.host_url.rstrip("/")
    frame = frame_document(shown.html, app_origin=origin, allow_remote=False) if shown.html else None
    return render("inbox/_conversation.html", "part", part=found, part_folder=db().get(Folder, found.folder_id),
                  shown=shown, frame=frame)


@bp.route("/message/<int:message_id>/attachment/<int:index>")
@login_required
def attachment(message_id: int, index: int):
    item, payload = _part(message_id, lambda raw: attachment_part(raw, index))
    return _download(item, payload, inline=False)


def _inline_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="inline-image")


@bp.route("/image/<token>")
def inline_image(token: str):
    """A message's own inline image, for the sandboxed frame. The frame has no origin, so the browser
    sends no session cookie: the address itself, signed and short-lived, names the user, the message,
    the part and the session it was made for, and works only while that session is live (not after
    sign-out). Nothing else can be reached through it; the access log leaves it out (AccessLogger)."""
    try:
        user_id, message_id, index, key = _inline_signer().loads(token, max_age=INLINE_IMAGE_LIFETIME)
    except (BadSignature, ValueError, TypeError):
        abort(404)
    if not signin.session_live(db(), user_id, key, session_limits()):
        abort(404)
    user = db().get(User, user_id)
    account: Account | None = user.account if user else None
    found = message_of(db(), account, message_id) if account else None
    if found is None:
        abort(404)
    picked = image_part(installation().account(db(), account, lambda: request_env(user.id)).raw_message(found), index)
    if picked is None:
        abort(404)
    return _download(*picked, inline=True)


def _part(message_id: int, pick):
    picked = pick(mail_account().raw_message(own(message_of, message_id)))
    if picked is None:
        abort(404)
    return picked


def _download(item: Attachment, payload: bytes, inline: bool) -> Response:
    return download(payload, item.content_type if inline else "application/octet-stream", item.filename, inline)
