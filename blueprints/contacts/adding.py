"""Add contact: the dialog an unknown address opens (the Unknown sender banner, an unknown To or Cc
address). It finds persons and companies as the user types, suggests companies by the address's
domain, creates a company and a contact, adds the address to a person, or remembers Do not add
contact (dialog.py renders it); after a change the inbox comes back with the message that was open."""

from __future__ import annotations

from flask import abort, request, url_for

from mailcore.crm import people
from mailcore.models import Folder
from mailcore.reading.mailbox import message_of

from ..htmx import redirect_to, render
from ..web import current_user, db, login_required, own
from .blueprint import bp
from .cards import company_or_404, person_or_404
from .dialog import DIALOG, add_dialog, found_for, requested_address
from .forms import AddContactForm, AddressForm


def _next(back: str):
    """After a change: the Document dialog when Add contact came before Archive email, else `back`."""
    message_id = request.values.get("message", type=int)
    if request.values.get("then") == "archive" and message_id is not None:
        from .archiving import document_dialog

        return document_dialog([message_id], retarget="#modal", reswap="innerHTML")
    return redirect_to(back)


def _back() -> str:
    """Where a change sends the user: the message the dialog was opened from (its list and pane show
    the change), else the Contacts page. Looked up before the change: someone else's message is a 404."""
    message_id = request.values.get("message", type=int)
    if message_id is None:
        return url_for("contacts.index")
    message = own(message_of, message_id)
    return url_for("inbox.index", folder=db().get(Folder, message.folder_id).name, message=message.id)


@bp.route("/add", methods=["GET", "POST"])
@login_required
def add():
    """GET: the dialog, the name and company guessed from the From header (?name=) and the domain. POST:
    Create new company and contact, or (company=id) a contact at a company listed."""
    address = requested_address()
    if request.method == "GET":
        first, last, company = people.guess_card(request.args.get("name", ""), address)
        form = AddContactForm(formdata=None, address=address, first_name=first, last_name=last, company_name=company)
        return add_dialog(form) if "@" in address else abort(404)
    form = AddContactForm()
    if form.validate_on_submit():
        back = _back()
        company_id = request.form.get("company", type=int)
        people.create_contact(db(), form.address.data, first_name=form.first_name.data or "",
                              last_name=form.last_name.data or "",
                              company=company_or_404(company_id) if company_id is not None else None,
                              new_company=form.company_name.data or "")
        return _next(back)
    return add_dialog(form, 422)


@bp.route("/add/find")
@login_required
def add_find():
    """The dialog's type-ahead: persons and companies as the user types."""
    return render(DIALOG, "found", address=requested_address(), message=request.args.get("message", type=int),
                  then="archive" if request.args.get("then") == "archive" else None,
                  **found_for(requested_address()))


@bp.route("/add/to/<int:person_id>", methods=["POST"])
@login_required
def add_to_person(person_id: int):
    """The address added to a person found in the dialog (never to a CRM user's own card)."""
    found = person_or_404(person_id)
    form = AddressForm()
    if not form.validate_on_submit():
        abort(400)
    if people.card_owner(db(), found) is not None:
        abort(403)
    back = _back()
    people.add_address(db(), found, form.address.data, editor=current_user())
    return _next(back)


@bp.route("/add/not", methods=["POST"])
@login_required
def do_not_add():
    """Do not add contact: this user is not asked about this address again."""
    form = AddressForm()
    if not form.validate_on_submit():
        abort(400)
    back = _back()
    people.do_not_add(db(), current_user(), form.address.data)
    return _next(back)
