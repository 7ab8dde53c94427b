"""Archive email: the Document dialog (company, contact, Visible for, Create) for an open message, the
messages picked in the list, one attachment, or an email just sent with Send and archive; an unknown
sender goes through Add contact first. And an archived email opened from a card, in the same safe
preview as the inbox, only for those who may see it."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from mailcore.addresses import normalise_address
from mailcore.crm import archive, people, senders
from mailcore.models import ArchivedEmail, Company, Person
from mailcore.reading.mailbox import message_of
from mailcore.reading.render import attachment_part, frame_document
from mailcore.reading.render import view as render_view

from ..htmx import render, triggered
from ..security import download
from ..web import current_user, db, login_required, mail_account, own
from .blueprint import bp
from .cards import company_or_404, person_or_404
from .dialog import add_dialog
from .forms import AddContactForm

DOCUMENT = "contacts/document.html"
PREVIEW = "contacts/archived.html"
MOST_MESSAGES = 100  # messages archived in one go from the list


def _ids() -> list[int]:
    """The messages the dialog is for: ?message= (the open one) or the ids picked in the list."""
    ids = request.values.getlist("ids", type=int) or request.values.getlist("message", type=int)
    return list(dict.fromkeys(ids))[:MOST_MESSAGES]


def document_dialog(ids: list[int], *, attachment: int | None = None, archived: ArchivedEmail | None = None,
                    status: int = 200, sent: bool = False, **headers):
    """The Document dialog, prefilled from the first message's sender (or, for mail the user sent, its
    recipients); for Send and archive, from the email archived already."""
    user = current_user()
    if archived is not None:
        raw, what = archived.raw, archived.subject
    else:
        first = own(message_of, ids[0])
        raw = mail_account().raw_message(first)
        what = first.subject
        if attachment is not None:
            picked = attachment_part(raw, attachment)
            if picked is None:
                abort(404)
            what = picked[0].filename
    choice = archive.suggest(db(), user, archive.headers_of(raw))
    return render(DOCUMENT, "dialog", status, ids=ids, attachment=attachment, archived=archived, what=what,
                  more=len(ids) - 1, person=choice.person, company=choice.company, sent=sent, **headers)


def _unknown_sender(message_id: int):
    """The sender of the message when Add contact should come first (unknown, not declined, not the
    user), else None."""
    found = own(message_of, message_id)
    shown = render_view(mail_account().raw_message(found), allow_remote=False, part_url=lambda part: "")
    parties = senders.of_message(db(), current_user(), shown.from_name, shown.from_address, [], [])
    sender = parties.sender
    mine = archive.own_addresses(current_user())
    if sender is None or not sender.unknown or normalise_address(sender.address) in mine:
        return None
    return sender


@bp.route("/archive", methods=["GET"])
@login_required
def archive_email():
    """Archive email: the Document dialog for ?message= (with &attachment= one attachment), or Add
    contact first when the sender is unknown."""
    ids = _ids()
    if not ids:
        abort(404)
    attachment = request.args.get("attachment", type=int)
    if len(ids) == 1 and attachment is None:
        sender = _unknown_sender(ids[0])
        if sender is not None:
            first, last, company = people.guess_card(sender.name or "", sender.address)
            form = AddContactForm(formdata=None, address=sender.address, first_name=first, last_name=last,
                                  company_name=company)
            return add_dialog(form, then="archive")
    return document_dialog(ids, attachment=attachment)


@bp.route("/archive/picked", methods=["POST"])
@login_required
def archive_picked():
    """Archive email for the messages picked in the list (the multi-select bar): the dialog only."""
    ids = _ids()
    if not ids:
        return triggered("inkorg:done", {"toast": _("Select one or more messages first.")})
    return document_dialog(ids)


@bp.route("/archive/find")
@login_required
def archive_find():
    """The dialog's type-ahead: companies or contacts (?kind=) matching what the user types."""
    kind = request.args.get("kind")
    query = (request.args.get("q") or "").strip()[:200]
    found = people.search(db(), query, limit=8, viewer=current_user()) if query else None
    return render(DOCUMENT, "companies" if kind == "company" else "persons", found=found, q=query)


def _picked(cls, name: str):
    ident = request.form.get(name, type=int)
    if ident is None:
        return None
    return company_or_404(ident) if cls is Company else person_or_404(ident)


@bp.route("/archive", methods=["POST"])
@login_required
def archive_create():
    """Create: the messages (or the attachment, or the email sent) kept in the CRM with the contact,
    company and visibility chosen; archived before, only those change."""
    user = current_user()
    person: Person | None = _picked(Person, "person")
    company: Company | None = _picked(Company, "company")
    if request.form.get("visible") not in ("all", "me"):
        abort(400)
    visible = request.form.get("visible") == "all"
    archived_id = request.form.get("archived", type=int)
    if archived_id is not None:
        archive.change(db(), archive.mine(db(), user, archived_id) or abort(404), person=person, company=company,
                       visible_to_all=visible)
        return _archived_done(1)
    ids = _ids()
    if not ids:
        abort(400)
    mail, attachment = mail_account(), request.form.get("attachment", type=int)
    for message_id in ids:
        raw = mail.raw_message(own(message_of, message_id))
        part = None
        if attachment is not None:
            picked = attachment_part(raw, attachment)
            if picked is None:
                abort(404)
            part = (picked[0].filename, picked[0].content_type, picked[1])
        archive.archive(db(), user, raw, person=person, company=company, visible_to_all=visible, attachment=part,
                        commit=False)
    db().commit()
    return _archived_done(len(ids), attachment is not None)


def _archived_done(count: int, attachment: bool = False):
    said = _("The attachment was archived.") if attachment else ngettext(
        "The email was archived.", "%(num)d emails were archived.", count)
    return triggered("inkorg:done", {"toast": said})


@bp.route("/archived/<int:archived_id>")
@login_required
def archived(archived_id: int):
    """An archived email in the safe preview (sanitised, in a sandboxed frame, nothing from the
    internet); an archived attachment is downloaded. 404 for what the user may not see."""
    found = archive.find(db(), current_user(), archived_id) or abort(404)
    if found.filename is not None:
        return download(found.raw, "application/octet-stream", found.filename, False)
    shown = render_view(found.raw, allow_remote=False, part_url=lambda part: "about:blank")
    origin = request.host_url.rstrip("/")
    frame = frame_document(shown.html, app_origin=origin, allow_remote=False) if shown.html else None
    return render(PREVIEW, "preview", item=found, shown=shown, frame=frame,
                  back=request.referrer if request.referrer and request.referrer.startswith(origin) else
                  url_for("contacts.index"))


@bp.route("/archived/<int:archived_id>/attachment/<int:index>")
@login_required
def archived_attachment(archived_id: int, index: int):
    found = archive.find(db(), current_user(), archived_id) or abort(404)
    picked = attachment_part(found.raw, index) if found.filename is None else None
    if picked is None:
        abort(404)
    return download(picked[1], "application/octet-stream", picked[0].filename, False)
