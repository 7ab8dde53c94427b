"""The Add contact dialog, rendered here: the address, persons and companies found as the user types,
the companies its domain suggests, and the new contact's form. adding.py's routes answer with it."""

from __future__ import annotations

from flask import request

from mailcore.addresses import normalise_address
from mailcore.crm import people

from ..htmx import render
from ..web import current_user, db
from .forms import AddContactForm

DIALOG = "contacts/add.html"


def requested_address() -> str:
    return (request.values.get("address") or "").strip()[:320]


def found_for(address: str) -> dict:
    """What the dialog lists: the persons the address is on already, the companies of its domain, and
    persons and companies found by what the user typed (?q=)."""
    query = (request.values.get("q") or "").strip()[:200]
    user = current_user()
    holders = people.persons_for(db(), [address], viewer=user).get(normalise_address(address), [])
    return dict(q=query, holders=holders,
                suggested=people.companies_for(db(), address),
                found=people.search(db(), query, limit=8, viewer=user) if query else None)


def add_dialog(form: AddContactForm, status: int = 200, then: str | None = None):
    """The dialog; `then` ("archive") is what follows it: the Document dialog of Archive email."""
    then = then or (request.values.get("then") if request.values.get("then") == "archive" else None)
    return render(DIALOG, "dialog", status, form=form, address=form.address.data or "", then=then,
                  message=request.values.get("message", type=int),
                  **found_for(form.address.data or ""))
