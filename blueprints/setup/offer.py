"""What the password step offers for a provider that signs in with OAuth, and where Advanced settings
starts for one that accepts no password."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from mailcore.discovery.providers import Provider
from mailcore.oauth.client import NotConfigured
from mailcore.oauth.tokens import OAUTH2

from ..explain import Explanation, not_configured
from ..web import installation
from .forms import AdvancedForm


@dataclass(frozen=True)
class Offer:
    """What the password step offers for a provider that signs in with OAuth."""

    provider: Provider
    label: str
    ready: bool  # this installation has a client registration for it
    missing: Explanation | None  # what the administrator must configure, when not ready
    app_password: bool  # the provider still accepts an app password (Advanced settings, or here)


def provider_signin_offer(provider: Provider | None) -> Offer | None:
    if provider is None or provider.oauth2 is None:
        return None
    try:
        installation().oauth.client_for(provider)
    except NotConfigured as exc:
        return Offer(provider, provider.oauth2.label, False, not_configured(exc, url_for("oauth.help")),
                     provider.note == "app-password")
    return Offer(provider, provider.oauth2.label, True, None, provider.note == "app-password")


def preselect(form: AdvancedForm, provider: Provider | None) -> None:
    """Advanced settings for a provider that accepts no password (Microsoft) start at OAuth 2.0."""
    offer = provider_signin_offer(provider)
    if offer and offer.ready and provider.note == "oauth":
        form.imap_auth.data = form.smtp_auth.data = OAUTH2
