"""The Set up email account dialog's routes: address, what was found, the mailbox login with a password
(`mailbox_login`), Advanced settings; its provider sign-in (OAuth) is setup/oauth.py's.
steps.py renders each step."""

from __future__ import annotations

from flask import request

from mailcore import errors
from mailcore.account import settings_of
from mailcore.addresses import same_address
from mailcore.connect import CheckResult
from mailcore.discovery.detect import SOURCE_GUESS, Detection, guessed_settings
from mailcore.settings import AccountSettings, Credentials

from ..explain import explain
from ..inbox.pages import inbox_in_place
from ..web import current_user, installation, login_required, mail_service
from .blueprint import bp
from .forms import AddressForm, AdvancedForm, PasswordForm
from .oauth import advanced_provider_signin
from .offer import preselect
from .password_step import only_the_password, wrong_password_step
from .remembered import forget, recall, remember
from .steps import address_step, advanced_step, password_step


@bp.route("", endpoint="address")
@login_required
def address_page():
    return address_step()


@bp.route("/next", methods=["POST"], endpoint="next")
@login_required
def next_step():
    form = AddressForm()
    if not form.validate_on_submit():
        return address_step(form, 422)
    try:
        found = _discover(form.address.data)
    except errors.RateLimited as exc:
        form.address.errors = [explain(exc).message]
        return address_step(form, 429)
    if found.settings is None and not found.pop3_only:
        advanced = AdvancedForm(formdata=None)
        advanced.fill(guessed_settings(form.address.data))
        return advanced_step(advanced, not_found=True)
    return password_step(PasswordForm(formdata=None, address=form.address.data), found)


def _discover(address: str) -> Detection:
    found = mail_service().discover(current_user(), address)
    remember(address, found)
    return found


@bp.route("/login", methods=["POST"], endpoint="login")
@login_required
def mailbox_login():
    form = PasswordForm()
    if not form.address.validate(form):
        return address_step(AddressForm(formdata=None, address=form.address.data), 422)
    found = recall(form.address.data, installation().providers)
    if found is None:
        try:
            found = _discover(form.address.data)
        except errors.RateLimited as exc:
            return advanced_step(_filled(guessed_settings(form.address.data)), 429, {"general": explain(exc)})
    if not form.validate_on_submit() or found.settings is None:
        return password_step(form, found, 422)
    password = form.password.data
    credentials = Credentials(password, password)
    retry = wrong_password_step(form, found, password_step)
    if found.source == SOURCE_GUESS:
        return _connect_guess(found, credentials, retry)
    return _connect(found.settings, credentials, found.provider, found.source, retry=retry)


def _connect_guess(found: Detection, credentials: Credentials, retry=None):
    """Probed servers do not say which user name they want: the whole address first, then its local part."""
    first = _try(found.settings, credentials, found.provider, found.source)
    if not isinstance(first.incoming, errors.AuthenticationFailed):
        return _answer(first, found.settings, found.provider, retry=retry)
    address = found.settings.address
    local = address.rpartition("@")[0]
    by_local = AccountSettings(address, found.settings.incoming.with_username(local),
                               found.settings.outgoing.with_username(local))
    second = _try(by_local, credentials, found.provider, found.source)
    if second.ok:
        return _answer(second, by_local, found.provider)
    return _answer(first, found.settings, found.provider, retry=retry)


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
        return advanced_step(form)
    if not form.validate_on_submit():
        return advanced_step(form, status=422)
    if form.uses_oauth():
        return advanced_provider_signin(form)
    settings = form.settings()
    stored = passwords = None
    if user.account is not None and same_address(settings.address, user.account.address):
        stored, passwords = settings_of(user.account), mail_service().stored_credentials(user.account)
    credentials = form.credentials(stored, passwords)
    if credentials is None:
        return advanced_step(form, status=422)
    found = recall(settings.address, installation().providers)
    return _connect(settings, credentials, found.provider if found else None, "manual", form)


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


def _answer(result: CheckResult, settings, provider, form: AdvancedForm | None = None, retry=None):
    """The inbox on success; a refused password on the password step; Advanced settings otherwise."""
    if result.ok:
        forget()
        account = current_user().account
        shown = inbox_in_place(account)  # the first page, rendered before the first sync competes for the CPU
        installation().request_sync(account.id)
        return shown
    if retry is not None and only_the_password(result):
        return retry(explain(result.incoming or result.outgoing, provider))
    if isinstance(result.incoming, errors.RateLimited):
        failures = {"general": explain(result.incoming)}
    else:
        failures = {side: explain(exc, provider) for side, exc in
                    (("incoming", result.incoming), ("outgoing", result.outgoing)) if exc}
    return advanced_step(form or _filled(settings), status=422, failures=failures)


def _connect(settings, credentials, provider, source, form: AdvancedForm | None = None, retry=None):
    """Try the account for real and answer with the inbox or the reasons."""
    return _answer(_try(settings, credentials, provider, source), settings, provider, form, retry)

