"""The compose window behind a form: opening one (new, reply, forward, or a saved draft), finding it
again from the key the form carries, and keeping the files a form brings along."""

from __future__ import annotations

from flask import abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from mailcore.account import MailAccount
from mailcore.compose import drafts, rich, signature
from mailcore.compose import message as compose
from mailcore.compose import uploads as pending_uploads
from mailcore.models import ComposeWindow, Folder, Role, SignatureLogo, User
from mailcore.reading.mailbox import message_of
from mailcore.reading.render import attachments_of, parse

from ..web import current_user, db, mail_account, own
from .forms import ComposeForm
from .wording import forward_block, quote_intro

CONTENT_FIELDS = ("to", "cc", "bcc", "subject", "body", "in_reply_to", "references", "html")


def title(mode: str | None) -> str:
    return {"reply": _("Reply"), "all": _("Reply all"), "forward": _("Forward")}.get(mode or "", _("New email"))


def content(form: ComposeForm) -> compose.Draft:
    """What the form holds, as the message will carry it (the signature's logo as an inline part)."""
    draft = compose.Draft(**{name: getattr(form, name).data or "" for name in CONTENT_FIELDS})
    logo = _logo(current_user())
    return signature.to_message(draft, logo, _logo_url(logo))


def _logo(user: User) -> SignatureLogo | None:
    return db().get(SignatureLogo, user.id)


def _logo_url(logo: SignatureLogo | None) -> str:
    return url_for("settings.signature_logo", digest=logo.digest) if logo else ""


def _with_signature(body: str, user: User) -> str:
    return f"\n\n-- \n{user.signature}{body}" if user.signature else body


def _signed(filled: compose.Draft, user: User, logo: SignatureLogo | None) -> None:
    """A formatted signature (or a logo) goes into the editor's HTML above a reply's quote."""
    if not (user.signature_html or logo):
        return
    quoted = filled.html.removeprefix("<div><br></div>") if filled.html else rich.from_text(filled.body.lstrip("\n"))
    filled.html = "<div><br></div>" + signature.block(user, logo, _logo_url(logo)) + (quoted if filled.body else "")


def quota() -> int:
    return int(current_app.config["UPLOAD_QUOTA_MB"] * 2**20)


def windows_allowed() -> int:
    return int(current_app.config["COMPOSE_WINDOWS_PER_USER"])


def open_form(mode: str | None, original_id: int | None,
              draft_id: int | None) -> tuple[ComposeForm, ComposeWindow | None]:
    """The form: empty, a reply, a forward (its attachments referred to, copied at Send), or a saved
    draft. A reply, forward or draft has a window, the same one each time it is opened again (so
    opening a link again stores nothing twice); a new email gets its window at its first POST."""
    user, mail = current_user(), mail_account()
    account = mail.row
    pending_uploads.expire(db())  # what closed tabs left
    picked = draft_id if draft_id else original_id if mode in ("reply", "all", "forward") else None
    window = None
    if picked:
        original = own(message_of, picked)  # not the user's: 404
        if draft_id and db().get(Folder, original.folder_id).role != Role.DRAFTS:
            abort(404)  # a draft must be in Drafts, whose UID the window will replace
        raw = mail.raw_message(original)
        answer = ("draft" if draft_id else mode, original.id)
        window = drafts.reused_window(db(), user, *answer)
        fresh = window is None
        if fresh:
            window = drafts.open_window(db(), user, answer=answer, most=windows_allowed())
    form = ComposeForm(formdata=None)
    logo = _logo(user)
    if draft_id:
        filled = drafts.from_message(db(), window, raw, keep_attachments=fresh, quota=quota())
        filled = signature.to_editor(filled, logo, _logo_url(logo))
        window.draft_uid = original.uid
        db().commit()
        mode = "draft"
    elif picked:
        filled = compose.answer(raw, mode, account.address, original.body_text or "", quote_intro, forward_block)
        _signed(filled, user, logo)
        filled.body = _with_signature(filled.body, user)
        if mode == "forward" and fresh:
            for item, _part in attachments_of(parse(raw)):
                if not item.inline:
                    pending_uploads.refer(db(), window, original.id, item.index, item.filename, item.content_type,
                                          item.size)
            db().commit()
    else:
        filled, mode = compose.Draft(), "new"
        _signed(filled, user, logo)
        filled.body = _with_signature("", user)
    for name in CONTENT_FIELDS:
        getattr(form, name).data = getattr(filled, name)
    form.mode.data, form.window.data = mode, window.key if window else ""
    form.saved.data = drafts.fingerprint(filled)
    return form, window


def originals(mail: MailAccount):
    """A forwarded message's bytes by its id, for Send and Save: only the user's own, else None."""
    def raw_of(message_id: int) -> bytes | None:
        found = message_of(db(), mail.row, message_id)
        return mail.raw_message(found) if found is not None else None
    return raw_of


def too_many_windows() -> str:
    return ngettext("You have %(num)s email open that is not sent. Send, save or discard it and try again.",
                    "You have %(num)s emails open that are not sent. Send, save or discard some of them and try "
                    "again.", windows_allowed())


def over_quota() -> str:
    return _("The attachments of your unsent emails would take more than %(limit)s MB. Send or discard some of "
             "those emails and try again.", limit=int(current_app.config["UPLOAD_QUOTA_MB"]))


def window_of(form: ComposeForm) -> ComposeWindow:
    """The form's window; a form that carries none (a new email, or a plain post) gets a new one."""
    if not form.window.data:
        window = drafts.open_window(db(), current_user(), most=windows_allowed())
        form.window.data = window.key
        return window
    window = drafts.window_of(db(), current_user(), form.window.data)
    if window is None:
        abort(404)  # another user's window, or one that expired
    return window


def too_large() -> str:
    return _("The attachments are larger than %(limit)s MB in all. Remove some and try again.",
             limit=compose.MAX_ATTACHMENTS_BYTES // 2**20)


def keep_files(window: ComposeWindow) -> str | None:
    """Store the files the request brought as the window's uploads; a problem to show, or None."""
    for file in request.files.getlist("attachments"):
        if not getattr(file, "filename", ""):
            continue
        try:
            pending_uploads.store(db(), window, file.filename, file.mimetype or "application/octet-stream",
                                  file.stream, quota=quota())
        except pending_uploads.TooLarge:
            return too_large()
        except pending_uploads.OverQuota:
            return over_quota()
        window.uploads_changed = True
        db().commit()
    return None
