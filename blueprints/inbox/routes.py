"""The inbox and its Set up email account dialog."""

from __future__ import annotations

from flask import current_app, request, url_for

from mailcore import errors
from mailcore.detect import Detection
from mailcore.services import same_address
from mailcore.settings import Credentials

from ..htmx import redirect_to, render
from ..web import current_user, login_required, mail_service
from . import bp
from .explain import explain, imap_only, provider_note
from .forms import AddressForm, AdvancedForm, PasswordForm

SETUP = "inbox/setup.html"


def _detect(address: str) -> Detection:
    return current_app.extensions["mail"]["detector"].detect(address)


def _provider(provider_id: str | None):
    return current_app.extensions["mail"]["providers"].by_id(provider_id)


def _setup(step: str, status: int = 200, **context):
    user = current_user()
    address = context.get("address") or ""
    context.setdefault("card_mismatch", bool(address) and not same_address(address, user.first_email))
    return render(SETUP, "dialog", status, step=step, **context)


@bp.route("/")
@login_required
def index():
    user = current_user()
    if user.account is None:
        return _setup("address", form=AddressForm())
    messages, failure = [], None
    try:
        messages = mail_service().read_inbox(user)
    except errors.MailError as exc:
        failure = explain(exc, _provider(user.account.provider_id))
    return render("inbox/index.html", "main", messages=messages, failure=failure,
                  can_send=same_address(user.account.address, user.first_email))


@bp.route("/setup")
@login_required
def setup():
    return _setup("address", form=AddressForm())


@bp.route("/setup/next", methods=["POST"])
@login_required
def setup_next():
    form = AddressForm()
    if not form.validate_on_submit():
        return _setup("address", 422, form=form)
    detection = _detect(form.address.data)
    password_form = PasswordForm(formdata=None, address=form.address.data)
    return _password_step(password_form, detection)


def _password_step(form: PasswordForm, detection: Detection, status: int = 200):
    return _setup("password", status, form=form, detection=detection, address=form.address.data,
                  advice=provider_note(detection.provider), imap_only=imap_only())


@bp.route("/setup/login", methods=["POST"])
@login_required
def setup_login():
    form = PasswordForm()
    if not form.validate_on_submit():
        if form.address.errors:
            return _setup("address", 422, form=AddressForm(formdata=None, address=form.address.data))
        return _password_step(form, _detect(form.address.data), 422)
    detection = _detect(form.address.data)
    if detection.settings is None:
        return _password_step(form, detection, 422)
    password = form.password.data
    credentials = Credentials(password, password)
    return _connect(detection.settings, credentials, detection.provider, detection.source)


@bp.route("/setup/advanced", methods=["GET", "POST"])
@login_required
def setup_advanced():
    user = current_user()
    form = AdvancedForm()
    if request.method == "GET":
        address = (request.args.get("address") or "").strip()
        if user.account is not None and (not address or same_address(address, user.account.address)):
            from mailcore.services import settings_of

            form.fill(settings_of(user.account), user.account.smtp_same_login)
        elif address and AddressForm(formdata=None, address=address, meta={"csrf": False}).validate():
            detection = _detect(address)
            if detection.settings:
                form.fill(detection.settings)
            else:
                form.address.data = address
        else:
            form.address.data = address
        return _advanced(form)
    if not form.validate_on_submit():
        return _advanced(form, status=422)
    settings = form.settings()
    stored = None
    if user.account is not None and same_address(settings.address, user.account.address):
        stored = mail_service().stored_credentials(user.account)
    credentials = form.credentials(stored)
    if credentials is None:
        form.imap_password.errors = [*form.imap_password.errors, _missing_password()]
        return _advanced(form, status=422)
    return _connect(settings, credentials, _detect(settings.address).provider, "manual", form)


def _missing_password() -> str:
    from flask_babel import gettext as _

    return _("Enter the password.")


def _advanced(form: AdvancedForm, status: int = 200, failures: dict | None = None):
    user = current_user()
    editing = user.account is not None
    return _setup("advanced", status, form=form, failures=failures or {}, editing=editing,
                  address=form.address.data or "")


def _connect(settings, credentials, provider, source, form: AdvancedForm | None = None):
    """Try the account for real; the inbox on success, Advanced settings with the reasons otherwise."""
    user = current_user()
    try:
        result = mail_service().connect(user, settings, credentials,
                                        provider_id=provider.id if provider else None, source=source)
    except errors.RateLimited as exc:
        failures = {"general": explain(exc)}
    else:
        if result.ok:
            return redirect_to(url_for("inbox.index"))
        failures = {side: explain(exc, provider) for side, exc in
                    (("incoming", result.incoming), ("outgoing", result.outgoing)) if exc}
    if form is None:
        form = AdvancedForm(formdata=None)
        form.fill(settings)
    return _advanced(form, status=422, failures=failures)
