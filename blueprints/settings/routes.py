"""Personal settings, Email options and the user's contact card (card.py renders the card)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, request, url_for
from flask_babel import gettext as _

from mailcore import services
from mailcore.account import settings_of
from mailcore.compose import rich, signature
from mailcore.contacts import sending_rule
from mailcore.crm import autoarchive
from mailcore.models import SignatureLogo, utcnow
from mailcore.zones import is_zone

from ..dates import forget_zone, zone_name
from ..explain import explain_state
from ..htmx import redirect_to, render
from ..security import download
from ..web import current_user, db, login_required, mail_service
from .blueprint import bp
from .card import card_page
from .forms import ConfirmForm, ContactEmailForm, GeneralOptionsForm, LanguageForm, LogoForm

OPTIONS = "settings/email_options.html"


@bp.route("/personal", methods=["GET", "POST"])
@login_required
def personal():
    user = current_user()
    form = LanguageForm(language=user.language or "en", signature=user.signature, timezone=zone_name())
    if form.validate_on_submit():
        user.language = form.language.data
        formatted = rich.clean(form.signature_html.data or "")
        if formatted and not rich.is_blank(formatted):  # from the editor: its text is written from it
            user.signature_html, user.signature = formatted, rich.plain_text(formatted).rstrip("\n")
        else:
            user.signature_html, user.signature = "", (form.signature.data or "").replace("\r\n", "\n")
        if "timezone" in request.form:  # a form without the field keeps the zone as it is
            user.timezone = form.timezone.data
        db().commit()
        forget_zone()
        return redirect_to(url_for("settings.personal", saved=1))
    if form.timezone.errors:
        form.timezone.data = zone_name()  # the list shows the zone still in use, not its first entry
    return _personal_page(form, 422 if form.errors else 200)


def _personal_page(form: LanguageForm, status: int = 200, logo_problem: str | None = None):
    user = current_user()
    logo = db().get(SignatureLogo, user.id)
    return render("settings/personal.html", "main", status, form=form, saved=bool(request.args.get("saved")),
                  signature_html=user.signature_html or rich.from_text(user.signature or ""), logo=logo,
                  logo_size=signature.shown_size(logo) if logo else None, logo_form=LogoForm(),
                  logo_problem=logo_problem)


@bp.route("/signature-logo", methods=["POST"])
@login_required
def upload_logo():
    """A new logo under the signature, or the page again saying why it was refused."""
    user = current_user()
    form = LogoForm()
    if not form.validate_on_submit():
        abort(400)
    file = form.logo.data
    data = file.read(signature.MAX_LOGO_BYTES + 1) if file else b""
    try:
        signature.keep_logo(db(), user, data)
    except signature.RefusedLogo:
        personal_form = LanguageForm(language=user.language or "en", signature=user.signature, timezone=zone_name())
        return _personal_page(personal_form, 422, _("Choose a PNG, JPEG or GIF image of at most 200 kB."))
    return redirect_to(url_for("settings.personal", saved=1))


@bp.route("/signature-logo/remove", methods=["POST"])
@login_required
def remove_logo():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    logo = db().get(SignatureLogo, current_user().id)
    if logo is not None:
        db().delete(logo)
        db().commit()
    return redirect_to(url_for("settings.personal", saved=1))


@bp.route("/signature-logo/<digest>")
@login_required
def signature_logo(digest: str):
    """The user's own logo, for their settings and their compose window; never another user's."""
    logo = db().get(SignatureLogo, current_user().id)
    if logo is None or logo.digest != digest:
        abort(404)
    return download(logo.data, logo.content_type, "logo." + logo.content_type.partition("/")[2], inline=True)


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
    if request.method == "GET":
        form.archive_visible.data = "all" if user.archive_visible_to_all else "me"
    if form.validate_on_submit():
        turned_on = form.archive_automatically.data and not user.archive_automatically
        for name in ("show_inline_images", "mark_read_in_preview", "save_sent_copy", "archive_automatically"):
            setattr(user, name, getattr(form, name).data)
        user.archive_visible_to_all = form.archive_visible.data != "me"
        user.never_archive = "\n".join(line.strip() for line in (form.never_archive.data or "").splitlines()
                                       if line.strip())
        if turned_on:
            autoarchive.start_over(db(), user.account)
        db().commit()
        return redirect_to(url_for("inbox.index"))
    account = user.account
    return render(OPTIONS, "dialog", 422 if form.errors else 200, form=form, tab=tab, account=account,
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
        flash(_("The email account was removed. Its mail is still on the server."))
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
