"""New email, reply, reply all and forward; sending with the contact-card rule."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _

from mailcore import compose, contacts, errors
from mailcore.account import MailAccount
from mailcore.mailbox import message_of, special_folder
from mailcore.services import can_send
from mailcore.uploads import read_attachments

from ..explain import explain
from ..htmx import redirect_to, render
from ..web import current_user, db, login_required, mail_account, own
from . import bp
from .forms import ComposeForm

TEMPLATE = "compose/compose.html"


def _page(form: ComposeForm, status: int = 200, problem: str | None = None, card_rule: str | None = None,
          kept: list | None = None):
    suggestions = contacts.suggestions(db(), current_user())
    return render(TEMPLATE, "dialog", status, form=form, problem=problem, card_rule=card_rule,
                  suggestions=suggestions, kept=kept or [], limit_mb=compose.MAX_ATTACHMENTS_BYTES // 2**20)


@bp.route("/", methods=["GET"])
@login_required
def new():
    user = current_user()
    if user.account is None:
        return redirect_to(url_for("inbox.index"))
    form = ComposeForm(formdata=None)
    mode = request.args.get("mode")
    original_id = request.args.get("of", type=int)
    kept = []
    if mode in ("reply", "all", "forward") and original_id:
        original = own(message_of, original_id)
        raw = mail_account().raw_message(original)
        draft = compose.answer(raw, mode, user.account.address, original.body_text or "",
                               lambda when, who: _("On %(date)s, %(who)s wrote:", date=when, who=who))
        for name in ("to", "cc", "subject", "in_reply_to", "references"):
            getattr(form, name).data = getattr(draft, name)
        form.body.data = _with_signature(draft.body, user)
        if mode == "forward":
            form.forward_of.data = str(original.id)
            kept = [a.filename for a in draft.attachments]
    else:
        form.body.data = _with_signature("", user)
    return _page(form, kept=kept)


def _with_signature(body: str, user) -> str:
    return f"\n\n-- \n{user.signature}{body}" if user.signature else body


@bp.route("/", methods=["POST"])
@login_required
def send():
    user, mail = current_user(), mail_account()
    account = mail.row
    form = ComposeForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    if not can_send(user):
        return _page(form, 422, card_rule=contacts.sending_rule(user, account.address))
    try:
        draft = _draft_from(form, mail)
        message, recipients = compose.build_message(user.name, account.address, draft)
    except compose.InvalidRecipients as exc:
        return _page(form, 422, _("These recipients are not valid email addresses: %(bad)s", bad=", ".join(exc.bad))
                     if exc.bad else _("Enter at least one recipient."))
    except compose.AttachmentsTooLarge:
        return _page(form, 422, _("The attachments are larger than %(limit)s MB in all. Remove some and try again.",
                                  limit=compose.MAX_ATTACHMENTS_BYTES // 2**20))
    except (compose.InvalidHeader, ValueError):
        return _page(form, 422, _("The subject or a name contains a line break, which an email header cannot carry."))
    try:
        mail.send(message, recipients)
    except errors.MailError as exc:
        return _page(form, 422, _("The email was not sent.") + " " + explain(exc).message)
    if user.save_sent_copy and not compose.files_sent_itself(account):
        sent = special_folder(db(), account, "sent")
        if sent is not None:
            try:
                mail.file_copy(message, sent.name, (b"\\Seen",))
            except errors.MailError:
                pass  # the email is sent; only the copy is missing, and the next sync shows Sent as it is
    if "archive" in request.form:
        _archive(user, message, recipients)
    drafts = special_folder(db(), account, "drafts")
    if drafts is not None and (form.draft_uid.data or "").isdigit():
        try:
            mail.delete_draft(drafts.name, int(form.draft_uid.data))
        except errors.MailError:
            pass  # sent; the draft stays behind until the user deletes it
    return redirect_to(url_for("inbox.index"))


@bp.route("/draft", methods=["POST"])
@login_required
def save_draft():
    """Saves what is written to Drafts, replacing the previous save; answers with the draft's UID."""
    user, mail = current_user(), mail_account()
    account = mail.row
    form = ComposeForm()
    drafts = special_folder(db(), account, "drafts")
    if not form.validate_on_submit() or drafts is None:
        return render(TEMPLATE, "draft_state", 422, form=form, saved=False)
    draft = compose.Draft(to=form.to.data or "", cc=form.cc.data or "", bcc=form.bcc.data or "",
                          subject=form.subject.data or "", body=form.body.data or "")
    previous = int(form.draft_uid.data) if (form.draft_uid.data or "").isdigit() else None
    try:
        uid = mail.save_draft(compose.draft_message(user.name, account.address, draft), drafts.name, previous)
    except errors.MailError:
        return render(TEMPLATE, "draft_state", 200, form=form, saved=False)
    form.draft_uid.data = str(uid) if uid else ""
    if request.args.get("closing"):
        return "", 204  # the form is gone; the draft is in Drafts
    return render(TEMPLATE, "draft_state", 200, form=form, saved=True)


def _draft_from(form: ComposeForm, mail: MailAccount) -> compose.Draft:
    forwarded = []
    if form.forward_of.data and form.forward_of.data.isdigit():
        raw = mail.raw_message(own(message_of, int(form.forward_of.data)))
        forwarded = compose.answer(raw, "forward", mail.row.address, "").attachments
    budget = compose.MAX_ATTACHMENTS_BYTES - sum(len(u.data) for u in forwarded)
    uploads = forwarded + read_attachments(form.attachments.data or [], budget)
    return compose.Draft(to=form.to.data or "", cc=form.cc.data or "", bcc=form.bcc.data or "",
                         subject=form.subject.data or "", body=form.body.data or "",
                         in_reply_to=form.in_reply_to.data or "", references=form.references.data or "",
                         attachments=uploads)


def _archive(user, message, recipients: list[str]) -> None:
    from email.policy import SMTP

    contacts.archive(db(), user, message, recipients, message.as_bytes(policy=SMTP))
