"""The Set up email account dialog: address, what was found, the mailbox login with a password
(`mailbox_login`), Advanced settings. Its provider sign-in (OAuth) is setup/oauth.py's."""

from __future__ import annotations

from flask import request

from mailcore import errors
from mailcore.account import settings_of
from mailcore.connect import CheckResult
from mailcore.contacts import MISMATCH, sending_rule
from mailcore.discovery.detect import SOURCE_GUESS, Detection, guessed_settings
from mailcore.services import same_address
from mailcore.settings import AccountSettings, Credentials

from ..explain import explain, imap_only, provider_note
from ..htmx import render
from ..web import current_user, installation, login_required, mail_service
from . import bp
from .forms import AddressForm, AdvancedForm, PasswordForm
from .password_step import only_the_password, wrong_password_step
from .remembered import forget, recall, remember

SETUP = "setup/setup.html"


def _setup(step: str, status: int = 200, **context):
    user = current_user()
    address = context.get("address") or ""
    context.setdefault("card_mismatch", bool(address) and sending_rule(user, address) == MISMATCH)
    return render(SETUP, "dialog", status, step=step, **context)


def address_step():
    """The first step, with the user's own address filled in: most set up the account they sign in with."""
    return _setup("address", form=AddressForm(formdata=None, address=current_user().email))


@bp.route("", endpoint="address")
@login_required
def address_page():
    return address_step()


@bp.route("/next", methods=["POST"], endpoint="next")
@login_required
def next_step():
    form = AddressForm()
    if not form.validate_on_submit():
        return _setup("address", 422, form=form)
    try:
        found = _discover(form.address.data)
    except errors.RateLimited as exc:
        form.address.errors = [explain(exc).message]
        return _setup("address", 429, form=form)
    if found.settings is None and not found.pop3_only:
        advanced = AdvancedForm(formdata=None)
        advanced.fill(guessed_settings(form.address.data))
        return _advanced(advanced, not_found=True)
    return _password_step(PasswordForm(formdata=None, address=form.address.data), found)


def _discover(address: str) -> Detection:
    found = mail_service().discover(current_user(), address)
    remember(address, found)
    return found


def _password_step(form: PasswordForm, detection: Detection, status: int = 200, **extra):
    return _setup("password", status, form=form, detection=detection, address=form.address.data,
                  advice=provider_note(detection.provider), imap_only=imap_only(),
                  provider_signin=provider_signin_offer(detection.provider), **extra)


@bp.route("/login", methods=["POST"], endpoint="login")
@login_required
def mailbox_login():
    form = PasswordForm()
    if not form.address.validate(form):
        return _setup("address", 422, form=AddressForm(formdata=None, address=form.address.data))
    found = recall(form.address.data, installation().providers)
    if found is None:
        try:
            found = _discover(form.address.data)
        except errors.RateLimited as exc:
            return _advanced(_filled(guessed_settings(form.address.data)), 429, {"general": explain(exc)})
    if not form.validate_on_submit() or found.settings is None:
        return _password_step(form, found, 422)
    password = form.password.data
    credentials = Credentials(password, password)
    retry = wrong_password_step(form, found, _password_step)
    if found.source == SOURCE_GUESS:
        return _connect_guess(found, credentials, retry)
    return _connect(found.settings, credentials, found.provider, found.source, password_step=retry)


def _connect_guess(found: Detection, credentials: Credentials, retry=None):
    """Probed servers do not say which user name they want: the whole address first, then its local part."""
    first = _try(found.settings, credentials, found.provider, found.source)
    if not isinstance(first.incoming, errors.AuthenticationFailed):
        return _answer(first, found.settings, found.provider, password_step=retry)
    address = found.settings.address
    local = address.rpartition("@")[0]
    by_local = AccountSettings(address, found.settings.incoming.with_username(local),
                               found.settings.outgoing.with_username(local))
    second = _try(by_local, credentials, found.provider, found.source)
    if second.ok:
        return _answer(second, by_local, found.provider)
    return _answer(first, found.settings, found.provider, password_step=retry)


@bp.route("/advanced", methods=["GET", "POST"])
@login_required
def advanced():
    user = current_user()
    form = AdvancedForm()
    if request.method == "GET":
        address = (request.args.get("address") or "").strip()
        if user.account is not None and (not address or same_address(address, user.account.address)):
            form.fill(settings_of(user.account), user.account.smtp_same_login,
                      (user.account.imap_auth, user.account.smtp_auth))
        elif address and AddressForm(formdata=None, address=address, meta={"csrf": False}).validate():
            found = recall(address, installation().providers) or installation().detector.from_lists(address)
            form.fill(found.settings if found and found.settings else guessed_settings(address))
            preselect(form, found.provider if found else None)
        else:
            form.address.data = address
        return _advanced(form)
    if not form.validate_on_submit():
        return _advanced(form, status=422)
    if form.uses_oauth():
        return advanced_provider_signin(form)
    settings = form.settings()
    stored = passwords = None
    if user.account is not None and same_address(settings.address, user.account.address):
        stored, passwords = settings_of(user.account), mail_service().stored_credentials(user.account)
    credentials = form.credentials(stored, passwords)
    if credentials is None:
        return _advanced(form, status=422)
    found = recall(settings.address, installation().providers)
    return _connect(settings, credentials, found.provider if found else None, "manual", form)


def _advanced(form: AdvancedForm, status: int = 200, failures: dict | None = None, not_found: bool = False):
    user = current_user()
    editing = user.account is not None
    return _setup("advanced", status, form=form, failures=failures or {}, editing=editing,
                  address=form.address.data or "", not_found=not_found)


def _filled(settings: AccountSettings) -> AdvancedForm:
    form = AdvancedForm(formdata=None)
    form.fill(settings)
    return form


def _try(settings, credentials, provider, source) -> CheckResult:
    try:
        return mail_service().connect(current_user(), settings, credentials, with_first_page=True,
                                      provider_id=provider.id if provider else None, source=source)
    except errors.RateLimited as exc:
        return CheckResult(incoming=exc)


def _answer(result: CheckResult, settings, provider, form: AdvancedForm | None = None, password_step=None):
    """The inbox on success; a refused password on the password step; Advanced settings otherwise."""
    if result.ok:
        from ..inbox.listing import inbox_in_place  # the inbox blueprint opens this dialog: imported late

        forget()
        account = current_user().account
        shown = inbox_in_place(account)  # the first page, rendered before the first sync competes for the CPU
        installation().request_sync(account.id)
        return shown
    if password_step is not None and only_the_password(result):
        return password_step(explain(result.incoming or result.outgoing, provider))
    if isinstance(result.incoming, errors.RateLimited):
        failures = {"general": explain(result.incoming)}
    else:
        failures = {side: explain(exc, provider) for side, exc in
                    (("incoming", result.incoming), ("outgoing", result.outgoing)) if exc}
    return _advanced(form or _filled(settings), status=422, failures=failures)


def _connect(settings, credentials, provider, source, form: AdvancedForm | None = None, password_step=None):
    """Try the account for real and answer with the inbox or the reasons."""
    return _answer(_try(settings, credentials, provider, source), settings, provider, form, password_step)


from .oauth import (  # noqa: E402 (oauth.py builds on this module)
    advanced_provider_signin,
    preselect,
    provider_signin_offer,
)
