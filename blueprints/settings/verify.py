"""Verifying a contact-card address with a signed link mailed to it by the installation's own sender."""

from __future__ import annotations

import logging

from flask import abort, current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from mailcore import contacts, errors
from mailcore.models import User

from ..htmx import redirect_to, render
from ..web import current_user, db, installation, login_required
from .blueprint import bp
from .card import card_page, link_lifetime, links_available
from .forms import ConfirmForm

log = logging.getLogger(__name__)


@bp.route("/contact-card/<int:email_id>/send-link", methods=["POST"])
@login_required
def send_link(email_id: int):
    user = current_user()
    item = contacts.own_address(user, email_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if item is None:
        abort(404)
    if item.verified:
        return redirect_to(url_for("settings.contact_card", verified=item.id))
    # 422 for every refusal: htmx swaps it in place (base.html's responseHandling), so it is seen
    if not links_available():
        return card_page(status=422, problem=_("Verification links are not available here."))
    try:
        contacts.count_link(db(), user)
        _mail_link(user, item)
    except errors.RateLimited:
        return card_page(status=422, problem=_("Several links were sent just now. Wait a few minutes and try again."))
    except errors.MailError as exc:
        log.warning("verification link not sent: %s %s:%s", type(exc).__name__, exc.host, exc.port)
        return card_page(status=422, problem=_("The verification link could not be sent. Try again later."))
    return redirect_to(url_for("settings.contact_card", sent=item.id))


def _mail_link(user: User, item) -> None:
    sender = installation().system_mail
    token = contacts.link_token(current_app.config["SECRET_KEY"], user, item)
    # The configured address, never the request's Host header: a forged Host would mail a link to elsewhere.
    link = current_app.config["EXTERNAL_URL"].rstrip("/") + url_for("settings.verify_link", token=token)
    with force_locale(user.language or "en"):
        subject = _("Verify your email address")
        text = _("%(name)s (%(user)s) wants to add %(address)s to their contact card in the CRM.\n\n"
                 "If that is you, open this link while signed in as %(user)s, within %(hours)s hours:\n\n"
                 "%(link)s\n\n"
                 "If it is not you, ignore this email: nothing changes.",
                 name=user.name, user=user.email, address=item.address, link=link,
                 hours=f"{link_lifetime().total_seconds() / 3600:g}")
    message = contacts.link_message(sender.sender, item.address, subject, text + "\n")
    sender.send(message, installation().env)


@bp.route("/contact-card/verify/<token>", methods=["GET", "POST"])
@login_required
def verify_link(token: str):
    """GET asks, POST verifies: a mail scanner that opens the link changes nothing."""
    user = current_user()
    try:
        item = contacts.redeem(current_app.config["SECRET_KEY"], user, token, link_lifetime())
    except contacts.LinkInvalid:
        return render_template("error.html", title=_("The link cannot be used"),
                               message=_("The verification link has expired, or it was sent for another user. "
                                         "Send a new one from your contact card.")), 400
    if item.verified:
        return redirect_to(url_for("settings.contact_card", verified=item.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        contacts.confirm(db(), item)
        return redirect_to(url_for("settings.contact_card", verified=item.id))
    return render("settings/verify_address.html", "main", form=form, item=item)
