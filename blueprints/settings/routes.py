"""Personal settings, Email options and the user's contact card (card.py renders the card)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, request, url_for
from flask_babel import gettext as _

from mailcore import services
from mailcore.account import settings_of
from mailcore.contacts import sending_rule
from mailcore.models import utcnow
from mailcore.zones import is_zone

from ..dates import forget_zone, zone_name
from ..explain import explain_state
from ..htmx import redirect_to, render
from ..web import current_user, db, login_required, mail_service
from .blueprint import bp
from .card import card_page
from .forms import ConfirmForm, ContactEmailForm, GeneralOptionsForm, LanguageForm

OPTIONS = "settings/email_options.html"


@bp.route("/personal", methods=["GET", "POST"])
@login_required
def personal():
    user = current_user()
    form = LanguageForm(language=user.language or "en", signature=user.signature, timezone=zone_name())
    if form.validate_on_submit():
        user.language = form.language.data
        user.signature = (form.signature.data or "").replace("\r\n", "\n")
        if "timezone" in request.form:  # a form without the field keeps the zone as it is
            user.timezone = form.timezone.data
        db().commit()
        forget_zone()
        return redirect_to(url_for("settings.personal", saved=1))
    if form.timezone.errors:
        form.timezone.data = zone_name()  # the list shows the zone still in use, not its first entry
    return render("settings/personal.html", "main", 422 if form.errors else 200, form=form,
                  saved=bool(request.args.get("saved")))


@bp.route("/browser-zone", methods=["POST"])
@login_required
def browser_zone():
    """The page reports the browser's time zone while the user has none: kept as theirs (until they
    choose another in Personal settings); a zone they have is never replaced. An unknown name is refused."""
    name = request.form.get("zone", "")
    if not is_zone(name):
        return "", 400
    user = current_user()
    if user.timezone is None:
        user.timezone = name
        db().commit()
        forget_zone()
    return "", 204


@bp.route("/email-options", methods=["GET", "POST"])
@login_required
def email_options():
    user = current_user()
    tab = request.args.get("tab", "general")
    if tab not in ("general", "account"):
        abort(404)
    form = GeneralOptionsForm(obj=user)
    if form.validate_on_submit():
        form.populate_obj(user)
        db().commit()
        return redirect_to(url_for("inbox.index"))
    account = user.account
    return render(OPTIONS, "dialog", form=form, tab=tab, account=account,
                  settings=settings_of(account) if account else None,
                  state=explain_state(account) if account else None,
                  watch_paused=_watch_paused(account),
                  card_mismatch=sending_rule(user, account.address) if account else None)


@bp.route("/email-account/remove", methods=["GET", "POST"])
@login_required
def remove_account():
    user = current_user()
    form = ConfirmForm()
    if user.account is None:
        return redirect_to(url_for("inbox.index"))
    if form.validate_on_submit():
        mail_service().remove(user)
        return redirect_to(url_for("inbox.index"))
    return render("settings/remove_account.html", "dialog", form=form, account=user.account)


@bp.route("/contact-card", methods=["GET", "POST"])
@login_required
def contact_card():
    user = current_user()
    form = ContactEmailForm()
    if form.validate_on_submit():
        try:
            services.add_contact_email(db(), user, form.address.data)
            return redirect_to(url_for("settings.contact_card"))
        except services.InvalidContactEmail:
            form.address.errors.append(_("This address is already on your contact card."))
    return card_page(form, 422 if form.errors else 200)


@bp.route("/contact-card/<int:email_id>/<any(up, down, remove):change>", methods=["POST"])
@login_required
def change_contact_email(email_id: int, change: str):
    user = current_user()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if change == "remove":
        found = services.remove_contact_email(db(), user, email_id)
    else:
        found = services.move_contact_email(db(), user, email_id, -1 if change == "up" else 1)
    if not found:
        abort(404)
    return redirect_to(url_for("settings.contact_card"))


def _watch_paused(account) -> datetime | None:
    """Until when new mail is not watched for, where the server said too much in IDLE (mailcore/sync/watch.py)."""
    until = account.watch_paused_until if account else None
    if until is None:
        return None
    if until.tzinfo is None:  # SQLite keeps no zone: stored as UTC
        until = until.replace(tzinfo=UTC)
    return until if until > utcnow() else None
