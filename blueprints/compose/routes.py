"""New email, reply, reply all and forward; sending with the contact-card rule; saving and
discarding the window's one draft. dialog.py renders the compose dialog."""

from __future__ import annotations

from email.policy import SMTP

from flask import flash, request, url_for
from flask_babel import gettext as _

from mailcore import contacts, errors
from mailcore.account import MailAccount
from mailcore.compose import drafts
from mailcore.compose import message as compose
from mailcore.compose import uploads as pending_uploads
from mailcore.models import Role
from mailcore.reading.mailbox import special_folder
from mailcore.services import can_send
from mailcore.sync import appended, sentcopies

from ..contacts.archiving import document_dialog
from ..explain import Explanation
from ..failures import note_failure, said
from ..htmx import is_fragment_request, redirect_to, render, triggered
from ..web import current_user, db, login_required, mail_account
from .blueprint import bp
from .dialog import TEMPLATE, compose_page
from .forms import ComposeForm
from .windows import content, keep_files, open_form, originals, over_quota, too_large, too_many_windows, window_of


@bp.route("/", methods=["GET"])
@login_required
def new():
    if current_user().account is None:
        return redirect_to(url_for("inbox.index"))
    try:
        form, window = open_form(request.args.get("mode"), request.args.get("of", type=int),
                                 request.args.get("draft", type=int))
    except drafts.TooManyWindows:
        return _refused(too_many_windows())
    except pending_uploads.OverQuota:
        db().rollback()
        return _refused(over_quota())
    return compose_page(form, window)


def _refused(said: str):
    """The compose window cannot open: why, as a notice over the page (htmx) or as a page."""
    if is_fragment_request():
        return render("error.html", "notice", 422, retarget="#notice", reswap="innerHTML",
                      title=_("The email could not be opened"), explained=Explanation(said))
    return render("error.html", "main", 422, title=_("The email could not be opened"), explained=Explanation(said))


@bp.route("/", methods=["POST"])
@login_required
def send():
    user, mail = current_user(), mail_account()
    account = mail.row
    form = ComposeForm()
    try:
        window = window_of(form)
    except drafts.TooManyWindows:
        return compose_page(form, None, 422, too_many_windows())
    problem = keep_files(window)
    if problem is None and pending_uploads.total_size(db(), window) > compose.MAX_ATTACHMENTS_BYTES:
        problem = too_large()  # forwarded or reopened attachments count too
    if not form.validate_on_submit() or problem:
        return compose_page(form, window, 422, upload_problem=problem)
    if not can_send(user):
        return compose_page(form, window, 422, card_rule=contacts.sending_rule(user, account.address))
    try:
        message, recipients = compose.build_message(user.name, account.address,
                                                    drafts.with_uploads(db(), window, content(form),
                                                                        originals(mail)))
    except compose.InvalidRecipients as exc:
        return compose_page(form, window, 422, _("These recipients are not valid email addresses: %(bad)s",
                                          bad=", ".join(exc.bad)) if exc.bad else _("Enter at least one recipient."))
    except (compose.InvalidHeader, ValueError):
        return compose_page(form, window, 422,
                     _("The subject or a name contains a line break, which an email header cannot carry."))
    try:
        mail.send(message, recipients)
    except errors.MailError as exc:
        return compose_page(form, window, 422, _("The email was not sent.") + " " + said(exc).message)
    filed = _file_in_sent(mail, message)
    archived = _archive(user, message, recipients) if "archive" in request.form else None
    try:
        drafts.sent(mail, window, special_folder(db(), account, Role.DRAFTS))
    except errors.MailError:
        db().rollback()  # sent; the draft stays behind until the user deletes it
    if archived is not None and is_fragment_request():  # Send and archive: the Document dialog follows
        return document_dialog([], archived=archived, sent=True, retarget="#modal", reswap="innerHTML")
    if not filed:
        return _done(_("Your email was sent. The copy could not be put in Sent yet: it is kept, and filed in "
                       "Sent when the server answers."))
    return _done(_("Your email was sent."))


def _file_in_sent(mail: MailAccount, message) -> bool:
    """The copy in Sent, listed at once: it is ours, no sync needs to find it. When the incoming server
    cannot be reached, the copy is kept and the next sync that reaches it files it (False)."""
    if not current_user().save_sent_copy or compose.files_sent_itself(mail.row):
        return True
    sent = special_folder(db(), mail.row, Role.SENT)
    if sent is None:
        return True
    try:
        uid = mail.file_copy(message, sent.name, (b"\\Seen",))
    except errors.MailError as exc:
        db().rollback()
        sentcopies.keep(db(), mail.row, message.as_bytes(policy=SMTP), str(message.get("Message-ID", "")))
        note_failure(mail.row, exc)
        db().commit()
        return False
    appended.list_message(db(), sent, uid, message)
    return True


def _done(said: str):
    """The form goes away and a short confirmation shows; without htmx, the inbox with it."""
    if not is_fragment_request():
        flash(said)
        return redirect_to(url_for("inbox.index"))
    return triggered("inkorg:done", {"toast": said})


@bp.route("/draft", methods=["POST"])
@login_required
def save_draft():
    """Saves what is written to Drafts, replacing the window's previous save; nothing when unchanged."""
    user, mail = current_user(), mail_account()
    form = ComposeForm()
    try:
        window = window_of(form)
    except drafts.TooManyWindows:
        return render(TEMPLATE, "draft_state", 422, form=form, saved=False)
    drafts_folder = special_folder(db(), mail.row, Role.DRAFTS)
    if not form.validate_on_submit() or drafts_folder is None:
        return render(TEMPLATE, "draft_state", 422, form=form, saved=False)
    written = content(form)
    if drafts.fingerprint(written) != form.saved.data or window.uploads_changed:
        message = compose.draft_message(user.name, mail.row.address, drafts.with_uploads(db(), window, written,
                                                                                         originals(mail)))
        try:
            drafts.save(mail, window, message, drafts_folder)
        except errors.MailError:
            db().rollback()
            return render(TEMPLATE, "draft_state", 200, form=form, saved=False)
        window.uploads_changed = False
        db().commit()
        form.saved.data = drafts.fingerprint(written)
    if request.args.get("closing"):
        drafts.closed(db(), window)
        if window.draft_uid is None:
            return "", 204  # nothing was written: no draft, nothing to say
        return triggered("inkorg:toast", {"toast": _("Draft saved.")})  # the form is gone; the draft is in Drafts
    if not is_fragment_request():  # the Save draft button without script: the form again, saying so
        return compose_page(form, window, saved=window.draft_uid is not None)
    return render(TEMPLATE, "draft_state", 200, form=form, saved=window.draft_uid is not None)


@bp.route("/discard", methods=["POST"])
@login_required
def discard():
    """Discard: the draft leaves Drafts and the attachments are deleted."""
    mail = mail_account()
    window = window_of(ComposeForm())
    try:
        drafts.discard(mail, window, special_folder(db(), mail.row, Role.DRAFTS))
    except errors.MailError:
        db().rollback()  # the draft stays in Drafts, where the user can delete it
    return _done(_("The draft was discarded."))


def _archive(user, message, recipients: list[str]):
    return contacts.archive(db(), user, message, recipients, message.as_bytes(policy=SMTP))

