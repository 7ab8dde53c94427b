"""The contact card, rendered here with what just happened to one of its addresses (a link sent, an
address verified, a refusal). The card's routes and the verification routes answer with it."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask_babel import gettext as _

from mailcore import contacts
from mailcore.models import User

from ..htmx import render
from ..web import current_user, db, installation
from .forms import ConfirmForm, ContactEmailForm

CARD = "settings/contact_card.html"


def card_page(form: ContactEmailForm | None = None, status: int = 200, problem: str | None = None):
    """The contact card, with what just happened to one of its addresses (?sent=id, ?verified=id)."""
    user = current_user()
    return render(CARD, "card", status, form=form or ContactEmailForm(formdata=None), action=ConfirmForm(),
                  archived=contacts.archived_for(db(), user), links=links_available(), notice=notice(user),
                  problem=problem)


def links_available() -> bool:
    """Links need a sender of the installation's own and an address people open the app at."""
    return bool(installation().system_mail and current_app.config.get("EXTERNAL_URL"))


def link_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["VERIFICATION_LINK_HOURS"])


def notice(user: User) -> str | None:
    """What the card says about the address a link was just sent to or verified."""
    for key, sentence in (("sent", _("A verification link was sent to %(address)s. Open it within %(hours)s hours.")),
                          ("verified", _("%(address)s is verified."))):
        item = contacts.own_address(user, request.args.get(key, type=int) or 0)
        if item is not None:
            return sentence % {"address": item.address, "hours": f"{link_lifetime().total_seconds() / 3600:g}"}
    return None
