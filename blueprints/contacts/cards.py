"""The Contacts page, the person card and the company card, rendered here (view, edit and merge); the
routes answer with them."""

from __future__ import annotations

from flask import abort, request

from mailcore.crm import people
from mailcore.models import Company, Person

from ..htmx import render
from ..web import current_user, db
from .forms import CompanyForm, MergeForm, PersonForm

PERSON = "contacts/person.html"
COMPANY = "contacts/company.html"


def person_or_404(person_id: int) -> Person:
    """Persons are the installation's: any of them, else 404."""
    return db().get(Person, person_id) or abort(404)


def company_or_404(company_id: int) -> Company:
    return db().get(Company, company_id) or abort(404)


def person_page(person: Person, form: PersonForm | None = None, status: int = 200, merge: dict | None = None):
    """The person card; with `form`, its Edit form (as the user typed it after a refusal); with
    `merge`, the merge step (another person to pick, or the one picked to confirm)."""
    owner = people.card_owner(db(), person)
    user = current_user()
    return render(PERSON, "card", status, person=person, form=form, merge=merge, owner=owner,
                  is_own=owner is not None and owner.id == user.id,
                  emails=people.visible_emails(db(), person, user), merge_form=MergeForm(formdata=None),
                  archived=people.archived_with(db(), user, person=person))


def person_form(person: Person) -> PersonForm:
    return PersonForm(formdata=None, first_name=person.first_name, last_name=person.last_name, title=person.title,
                      phone=person.phone, company=person.company.name if person.company else "",
                      emails="\n".join(item.address for item in people.visible_emails(db(), person, current_user())))


def merge_step(person: Person) -> dict:
    """Persons to merge into this one (found by ?q=), or the one picked (?other=) to confirm."""
    other_id = request.values.get("other", type=int)
    if other_id is not None:
        other = person_or_404(other_id)
        if other.id == person.id or people.card_owner(db(), other) is not None:
            abort(404)
        return {"other": other, "emails": people.visible_emails(db(), other, current_user())}
    query = (request.args.get("q") or "").strip()[:200]
    found = people.search(db(), query, viewer=current_user()).persons if query else []
    owners = {p.id for p in found if people.card_owner(db(), p) is not None}
    return {"q": query, "found": [p for p in found if p.id != person.id and p.id not in owners]}


def company_page(company: Company, form: CompanyForm | None = None, status: int = 200):
    return render(COMPANY, "card", status, company=company, form=form, persons=people.persons_at(db(), company),
                  archived=people.archived_with(db(), current_user(), company=company))


def company_form(company: Company) -> CompanyForm:
    return CompanyForm(formdata=None, name=company.name, phone=company.phone, web=company.web,
                       domains="\n".join(item.domain for item in company.domains))
