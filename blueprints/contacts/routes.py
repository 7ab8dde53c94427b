"""Contacts: the search page, the person card and the company card (cards.py renders them)."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _

from mailcore.crm import people

from ..htmx import redirect_to, render
from ..web import current_user, db, login_required
from .blueprint import bp
from .cards import company_form, company_or_404, company_page, merge_step, person_form, person_or_404, person_page
from .forms import CompanyForm, MergeForm, PersonForm

LIMIT = 20  # persons, and companies, listed for what the user typed


@bp.route("/")
@login_required
def index():
    """Contacts: persons and companies found by name, address or domain as the user types."""
    query = (request.args.get("q") or "").strip()[:200]
    found = people.search(db(), query, limit=LIMIT, viewer=current_user()) if query else None
    addresses = people.first_addresses(db(), found.persons, current_user()) if found else {}
    block = "results" if request.headers.get("HX-Target") == "results" else "main"
    return render("contacts/index.html", block, q=query, found=found, addresses=addresses, limit=LIMIT)


@bp.route("/person/<int:person_id>")
@login_required
def person(person_id: int):
    return person_page(person_or_404(person_id))


@bp.route("/person/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit_person(person_id: int):
    found = person_or_404(person_id)
    owner = people.card_owner(db(), found)
    if owner is not None:  # a user's own card: only in their Settings > Contact card
        return redirect_to(url_for("settings.contact_card")) if owner.id == current_user().id else abort(403)
    form = PersonForm() if request.method == "POST" else person_form(found)
    if form.validate_on_submit():
        name = (form.company.data or "").strip()
        company = (people.company_named(db(), name) or people.save_company(db(), name=name)) if name else None
        card = people.Card(first_name=form.first_name.data or "", last_name=form.last_name.data or "",
                           title=form.title.data or "", phone=form.phone.data or "", emails=form.addresses)
        people.save_person(db(), card, found, company=company, editor=current_user())
        return redirect_to(url_for("contacts.person", person_id=found.id))
    return person_page(found, form, 422 if form.errors else 200)


@bp.route("/person/<int:person_id>/merge", methods=["GET", "POST"])
@login_required
def merge_person(person_id: int):
    """Pick another person (?q=), confirm (?other=), and the other's addresses move to this one."""
    found = person_or_404(person_id)
    if people.card_owner(db(), found) is not None:
        abort(403)
    form = MergeForm()
    if form.validate_on_submit():
        step = merge_step(found)  # the same checks as the confirmation: 404 for one that cannot go
        people.merge_persons(db(), found, step["other"], editor=current_user())
        return redirect_to(url_for("contacts.person", person_id=found.id))
    if request.method == "POST":
        abort(400)
    return person_page(found, merge=merge_step(found))


@bp.route("/company/<int:company_id>")
@login_required
def company(company_id: int):
    return company_page(company_or_404(company_id))


@bp.route("/company/<int:company_id>/edit", methods=["GET", "POST"])
@login_required
def edit_company(company_id: int):
    found = company_or_404(company_id)
    form = CompanyForm() if request.method == "POST" else company_form(found)
    if form.validate_on_submit():
        try:
            people.save_company(db(), found, name=form.name.data, domains=form.domain_list,
                                phone=form.phone.data or "", web=form.web.data or "")
            return redirect_to(url_for("contacts.company", company_id=found.id))
        except people.FreemailDomain as exc:
            db().rollback()
            form.domains.errors = [_("%(domain)s is a free email domain: anyone can have an address there.",
                                     domain=str(exc))]
    return company_page(found, form, 422 if form.errors else 200)
