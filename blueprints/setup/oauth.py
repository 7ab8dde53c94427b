"""The provider sign-in (OAuth 2.0 authorization at the mail provider, mailcore.oauth) in the Set up
email account dialog: its Sign in with Microsoft/Google step, Advanced settings with OAuth 2.0,
Sign in again, and the provider's way back (`/inbox/oauth/callback`). The CRM sign-in is
blueprints/auth's."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length, Optional

from mailcore import errors
from mailcore.account import settings_of
from mailcore.addresses import same_address
from mailcore.discovery.detect import Detection
from mailcore.oauth.authorization import Pending, ProviderSignin, pending_for
from mailcore.oauth.client import NotConfigured, ProviderSigninRefused
from mailcore.oauth.tokens import OAUTH2, PASSWORD

from ..explain import Explanation, explain, explain_provider_signin, not_configured
from ..htmx import is_fragment_request, leave_for, render
from ..web import current_user, db, installation, login_required, mail_service
from .blueprint import oauth_bp
from .forms import AddressForm, AdvancedForm, PasswordForm, email_address
from .remembered import forget, recall
from .steps import address_step, advanced_step, password_step

_STATES = "oauth_states"  # the states this browser session started: a callback must bring one of them


class ProviderSigninForm(FlaskForm):
    address = HiddenField(validators=[DataRequired(), Length(max=320), email_address])
    again = HiddenField(validators=[Optional()])


def provider_signin() -> ProviderSignin:
    return ProviderSignin(db(), installation(), mail_service())


def redirect_uri() -> str:
    """Exactly what is registered at the provider: EXTERNAL_URL's, else this request's host."""
    base = current_app.config.get("EXTERNAL_URL")
    return base.rstrip("/") + url_for("oauth.callback") if base else url_for("oauth.callback", _external=True)


def navigate(url: str, label: str):
    """A whole-page navigation to the provider: htmx is told to leave the page; a plain form post
    gets a page that goes on by itself (a redirect would meet the page's form-action rule)."""
    if is_fragment_request():
        return leave_for(url)
    return make_response(render_template("setup/leaving.html", url=url, label=label))


def _begin(pending: Pending, show_problem):
    try:
        url, state = provider_signin().start(current_user(), pending, redirect_uri())
    except NotConfigured as exc:
        return show_problem(not_configured(exc, url_for("oauth.help")))
    except ProviderSigninRefused as exc:
        return show_problem(explain_provider_signin(exc, _label(pending.provider_id), pending.settings.address))
    session[_STATES] = [*session.get(_STATES, [])[-4:], state]
    return navigate(url, _label(pending.provider_id))


def _label(provider_id: str | None) -> str:
    provider = installation().providers.by_id(provider_id) if provider_id else None
    return provider.oauth2.label if provider and provider.oauth2 else _("your email provider")


def _pending_password_step(pending: Pending, status: int, problem: Explanation):
    provider = installation().providers.by_id(pending.provider_id)
    detection = Detection(pending.settings, pending.source if pending.source != "manual" else "provider", provider)
    form = PasswordForm(formdata=None, address=pending.settings.address)
    return password_step(form, detection, status, provider_signin_problem=problem, again=pending.again)


@oauth_bp.route("/start", methods=["POST"])
@login_required
def start():
    form = ProviderSigninForm()
    if not form.validate_on_submit():
        return address_step(AddressForm(formdata=None, address=form.address.data), 422)
    pending = _again(form.address.data) if form.again.data else _first(form.address.data)
    if pending is None:
        return address_step(AddressForm(formdata=None, address=form.address.data), 422)
    return _begin(pending, lambda problem: _pending_password_step(pending, 502, problem))


def _first(address: str) -> Pending | None:
    found = recall(address, installation().providers) or installation().detector.from_lists(address)
    if found is None or found.settings is None or found.provider is None or found.provider.oauth2 is None:
        return None
    return pending_for(found.provider.id, found.settings, source=found.source)


def _again(address: str) -> Pending | None:
    account = current_user().account
    if account is None or account.oauth_grant is None or not same_address(account.address, address):
        return None
    return pending_for(account.oauth_grant.provider_id, settings_of(account), (account.imap_auth, account.smtp_auth),
                       source=account.settings_source, again=True)


def advanced_provider_signin(form: AdvancedForm):
    """Advanced settings saved with OAuth 2.0 on a side: sign in at the provider that serves them."""
    settings = form.settings()
    found = recall(settings.address, installation().providers) or installation().detector.from_lists(settings.address)
    provider = installation().oauth.for_servers(found.provider if found else None,
                                                (settings.incoming.host, settings.outgoing.host))
    if provider is None:
        field = form.imap_auth if form.imap_auth.data == OAUTH2 else form.smtp_auth
        field.errors = [*field.errors, _("No OAuth 2.0 sign-in is known for these servers. Choose Password, or ask "
                                         "your administrator to add the provider's sign-in.")]
        return advanced_step(form, status=422)
    auth = (form.imap_auth.data, form.smtp_auth.data)
    password = None
    if PASSWORD in auth:
        password = _typed_or_stored(form, settings.address, incoming=auth[0] == PASSWORD)
        if not password:
            return advanced_step(form, status=422)
    pending = pending_for(provider.id, settings, auth, password, "manual")
    return _begin(pending, lambda problem: advanced_step(form, 502, {"general": problem}))


def _typed_or_stored(form: AdvancedForm, address: str, incoming: bool) -> str:
    """The password side's typed password, or the stored one if that side is unchanged."""
    account = current_user().account
    stored = passwords = None
    if account is not None and same_address(account.address, address):
        stored, passwords = settings_of(account), mail_service().stored_credentials(account)
    return form.password_for(incoming, stored, passwords)


@oauth_bp.route("/callback")
@login_required
def callback():
    """Where the provider sends the browser back: the account connected, or a clear refusal."""
    state = request.args.get("state", "")
    user = current_user()
    service = provider_signin()
    started_here = state in session.get(_STATES, [])
    pending = service.pending_of(user, state) if started_here else None
    if not started_here:  # another browser's, a forged or a replayed state: never exchanged
        return _refused(ProviderSigninRefused("state"), None)
    session[_STATES] = [s for s in session.get(_STATES, []) if s != state]
    try:
        outcome = service.complete(user, state, request.args.to_dict())
    except ProviderSigninRefused as exc:
        return _refused(exc, pending)
    except errors.RateLimited as exc:
        return _refused(exc, pending)
    if outcome.result.ok:
        forget()
        installation().request_sync(user.account.id)
        flash(_("Your email account %(address)s is connected.", address=user.account.address))
        return redirect(url_for("inbox.index"), 303)
    provider = installation().providers.by_id(outcome.pending.provider_id)
    failures = {side: explain(exc, provider) for side, exc in
                (("incoming", outcome.result.incoming), ("outgoing", outcome.result.outgoing)) if exc}
    form = AdvancedForm(formdata=None)
    form.fill(outcome.pending.settings)
    form.imap_auth.data, form.smtp_auth.data = outcome.pending.auth
    return advanced_step(form, 422, failures)


def _refused(exc: Exception, pending: Pending | None):
    if isinstance(exc, errors.MailError):
        problem = explain(exc)
    else:
        problem = explain_provider_signin(exc, _label(pending.provider_id if pending else None),
                                  pending.settings.address if pending else "")
    if pending is not None:
        return _pending_password_step(pending, 403, problem)
    return address_step(AddressForm(formdata=None), 403, provider_signin_problem=problem)


@oauth_bp.route("/help", endpoint="help")
@login_required
def operator_help():
    """How an administrator registers this installation with Microsoft, Google or their own issuer,
    for the "not set up" message to point at; with the exact redirect URI to register."""
    return render("setup/oauth_help.html", "main", redirect_uri=redirect_uri())
