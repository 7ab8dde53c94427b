"""The provider sign-in: connecting a mail account by OAuth 2.0 / OpenID Connect authorization at its
provider (never the CRM sign-in, mailcore.crm_signin): clients, discovery, the authorization code
flow with PKCE, and the id_token that proves whose mailbox it is.

Every provider goes through the same code: the built-in Microsoft and Google entries of
providers.json get their client registration from the installation's settings, an operator's own
issuer (MAIL_PROVIDERS_FILE) carries its own. Endpoints and keys come from the issuer's
`/.well-known/openid-configuration`, fetched over verified HTTPS from the one address the network
rule approved, with the installation's pinned HTTPS client (mailcore.https). The OAuth work is
Authlib's (`OAuth2Session`, on that client) and joserfc's.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from mailcore import errors
from mailcore.connect import MailEnvironment
from mailcore.discovery.providers import OAuthSpec, Provider, ProviderList
from mailcore.https import get, pinned_session
from mailcore.models import utcnow

MAX_DOCUMENT = 256 * 1024  # discovery documents and key sets are a few KB
METADATA_TTL = 3600.0  # seconds a discovery document and its keys are kept
_TENANT = re.compile(r"^[A-Za-z0-9.-]{1,100}$")

# The settings that carry the built-in providers' client registrations (see docs/oauth.md).
REGISTRATION_SETTINGS = {
    "microsoft": ("OAUTH_MICROSOFT_CLIENT_ID", "OAUTH_MICROSOFT_CLIENT_SECRET"),
    "google": ("OAUTH_GOOGLE_CLIENT_ID", "OAUTH_GOOGLE_CLIENT_SECRET"),
}


class ProviderSigninRefused(Exception):
    """A provider sign-in that cannot connect the account. `reason` names why, for the web layer to word:
    state (unknown, used or expired), denied (at the provider), token (the code exchange failed),
    id-token (not valid), identity (another account than the typed address), unreachable."""

    def __init__(self, reason: str, detail: str = "", identity: str = ""):
        super().__init__(reason)
        self.reason, self.detail, self.identity = reason, detail, identity


class NotConfigured(Exception):
    """The provider signs in with OAuth, but this installation has no client registration for it."""

    def __init__(self, spec: OAuthSpec):
        super().__init__(spec.client)
        self.spec = spec

    @property
    def settings(self) -> tuple[str, ...]:
        """The settings an administrator must fill (empty for an operator's own issuer)."""
        return REGISTRATION_SETTINGS.get(self.spec.client, ())


@dataclass(frozen=True)
class OAuthClient:
    """One provider's client registration, ready to sign in with."""

    provider_id: str
    label: str
    issuer: str
    client_id: str
    client_secret: str | None = field(repr=False)
    scopes: tuple[str, ...]
    authorize_params: tuple[tuple[str, str], ...] = ()

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)


@dataclass(frozen=True)
class Registration:
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    tenant: str = "common"


def registrations_from(config: Mapping) -> dict[str, Registration]:
    """The built-in providers' registrations from the settings; a provider without a client id has none."""
    found = {}
    tenant = (config.get("OAUTH_MICROSOFT_TENANT") or "common").strip()
    if not _TENANT.match(tenant):
        raise ValueError("OAUTH_MICROSOFT_TENANT must be a tenant id, a domain, common, organizations or consumers")
    for client, (id_setting, secret_setting) in REGISTRATION_SETTINGS.items():
        client_id = (config.get(id_setting) or "").strip()
        if client_id:
            found[client] = Registration(client_id, (config.get(secret_setting) or "").strip() or None,
                                         tenant if client == "microsoft" else "")
    return found


# --- HTTPS to the issuer -----------------------------------------------------------------------


def session_for(env: MailEnvironment, client: OAuthClient | None = None, **kwargs) -> OAuth2Session:
    """An Authlib OAuth2Session on the installation's pinned HTTPS client (mailcore.https): it can only
    reach what the network rule allows."""
    options = {}
    if client is not None:
        options = dict(client_id=client.client_id, client_secret=client.client_secret, scope=client.scope,
                       token_endpoint_auth_method="client_secret_post" if client.client_secret else "none")
    session = OAuth2Session(default_timeout=env.timeout, **options, **kwargs)
    return pinned_session(env.policy, env.tls_context(), session)


def _unreachable(exc: BaseException) -> ProviderSigninRefused:
    """The issuer could not be reached or refused the connection; never a token in the detail."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:  # the network rule's refusal, wherever requests wrapped it
        seen.add(id(cause))
        if isinstance(cause, errors.MailError):
            return ProviderSigninRefused("unreachable", f"{type(cause).__name__}: {cause.detail}".rstrip(": "))
        cause = cause.__context__ or cause.__cause__
    return ProviderSigninRefused("unreachable", type(exc).__name__)


_NETWORK = (requests.RequestException, errors.MailError, OSError)


# --- the registry --------------------------------------------------------------------------------


@dataclass
class _Cached:
    metadata: dict
    jwks: dict | None
    at: float


class OAuthRegistry:
    """Which providers sign in with OAuth, their clients, and their issuers' metadata (cached)."""

    def __init__(self, providers: ProviderList, registrations: Mapping[str, Registration], env: MailEnvironment):
        self.providers, self.registrations, self.env = providers, dict(registrations), env
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def client_for(self, provider: Provider) -> OAuthClient:
        """The provider's client; NotConfigured when this installation has no registration for it."""
        spec = provider.oauth2
        if spec is None:
            raise ValueError(f"provider {provider.id} has no oauth2 entry")
        registration = self.registrations.get(spec.client)
        client_id = spec.client_id or (registration.client_id if registration else None)
        if not client_id:
            raise NotConfigured(spec)
        secret = spec.client_secret if spec.client_id else (registration.client_secret if registration else None)
        issuer = spec.issuer.replace("{tenant}", (registration.tenant if registration else "") or "common")
        return OAuthClient(provider.id, spec.label, issuer, client_id, secret, spec.scopes, spec.authorize_params)

    def client_by_id(self, provider_id: str) -> OAuthClient:
        provider = self.providers.by_id(provider_id)
        if provider is None or provider.oauth2 is None:
            raise errors.SignInAgain("the provider's sign-in is no longer configured")
        try:
            return self.client_for(provider)
        except NotConfigured:
            raise errors.SignInAgain("the provider's sign-in is no longer configured") from None

    def for_servers(self, address_provider: Provider | None, hosts: tuple[str, ...]) -> Provider | None:
        """The provider whose sign-in serves these settings: the address's own, else one whose
        servers have these names (Advanced settings for a company domain on Microsoft 365, say)."""
        if address_provider is not None and address_provider.oauth2 is not None:
            return address_provider
        for provider in self.providers.providers:
            if provider.oauth2 is None:
                continue
            names = {t.host for t in (provider.incoming, provider.outgoing) if t}
            if any(host.lower() in names for host in hosts):
                return provider
        return None

    # --- discovery ------------------------------------------------------------------------------

    def metadata(self, client: OAuthClient) -> dict:
        return self._entry(client).metadata

    def jwks(self, client: OAuthClient, force: bool = False) -> dict:
        entry = self._entry(client)
        if entry.jwks is None or force:
            entry.jwks = self._get_json(entry.metadata["jwks_uri"])
            if not isinstance(entry.jwks.get("keys"), list):
                raise ProviderSigninRefused("unreachable", "the issuer's key set has no keys")
        return entry.jwks

    def _entry(self, client: OAuthClient) -> _Cached:
        with self._lock:
            entry = self._cache.get(client.issuer)
            if entry is not None and time.monotonic() - entry.at < METADATA_TTL:
                return entry
        metadata = self._get_json(client.issuer.rstrip("/") + "/.well-known/openid-configuration")
        _check_metadata(client.issuer, metadata)
        entry = _Cached(metadata, None, time.monotonic())
        with self._lock:
            self._cache[client.issuer] = entry
        return entry

    def _get_json(self, url: str) -> dict:
        try:
            with pinned_session(self.env.policy, self.env.tls_context()) as http:
                answer = get(http, url, MAX_DOCUMENT, "application/json", timeout=self.env.timeout)
        except _NETWORK as exc:
            raise _unreachable(exc) from None
        if answer.status != 200:
            raise ProviderSigninRefused("unreachable", f"HTTP {answer.status} from {urlsplit(url).hostname}")
        body = answer.body
        if len(body) > MAX_DOCUMENT:
            raise ProviderSigninRefused("unreachable", "the issuer's document is too large")
        try:
            data = json.loads(body)
        except ValueError:
            raise ProviderSigninRefused("unreachable", "the issuer's document is not JSON") from None
        if not isinstance(data, dict):
            raise ProviderSigninRefused("unreachable", "the issuer's document is not a JSON object")
        return data


def _issuer_pattern(issuer: str) -> re.Pattern:
    """Microsoft's multi-tenant documents name their issuer with "{tenantid}": any one tenant."""
    return re.compile("^" + re.escape(issuer).replace(re.escape("{tenantid}"), "[^/]+") + "$")


def _check_metadata(issuer: str, metadata: dict) -> None:
    named = str(metadata.get("issuer") or "")
    if not named or not (named == issuer or _issuer_pattern(named).match(issuer)):
        raise ProviderSigninRefused("unreachable", f"the discovery document names another issuer: {named}")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        url = str(metadata.get(key) or "")
        if key == "authorization_endpoint" and _loopback_http(url):
            continue  # only a browser on this machine goes there (the demo's and tests' issuer)
        if not url.startswith("https://"):
            raise ProviderSigninRefused("unreachable", f"the discovery document has no https {key}")


def _loopback_http(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return parts.hostname == "localhost"


# --- the authorization code flow -----------------------------------------------------------------


@dataclass(frozen=True)
class FlowSecrets:
    """What one sign-in must remember until its callback: kept sealed in the database."""

    state: str
    verifier: str
    nonce: str


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def begin(registry: OAuthRegistry, client: OAuthClient, redirect_uri: str, login_hint: str) -> tuple[str, FlowSecrets]:
    """The provider's sign-in URL for this flow (PKCE S256, a nonce, a fresh state) and its secrets."""
    metadata = registry.metadata(client)
    flow = FlowSecrets(secrets.token_urlsafe(32), secrets.token_urlsafe(64), secrets.token_urlsafe(24))
    with session_for(registry.env, client, redirect_uri=redirect_uri, code_challenge_method="S256") as oauth:
        url, _ = oauth.create_authorization_url(
            metadata["authorization_endpoint"], state=flow.state, code_verifier=flow.verifier,
            nonce=flow.nonce, login_hint=login_hint, **dict(client.authorize_params))
    return url, flow


@dataclass(frozen=True)
class Tokens:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime
    subject: str = ""
    identity: str = ""  # the address the provider vouches for (email or preferred_username)
    verified: bool = False  # the provider says the address is the user's own (a verified email)


def finish(registry: OAuthRegistry, client: OAuthClient, flow: FlowSecrets, redirect_uri: str,
           params: Mapping[str, str]) -> Tokens:
    """Exchange the callback's code (with the PKCE verifier) and verify the id_token it brings."""
    if params.get("error"):
        raise ProviderSigninRefused("denied", str(params.get("error_description") or params["error"])[:300])
    code = params.get("code")
    if not code:
        raise ProviderSigninRefused("token", "no code in the answer")
    metadata = registry.metadata(client)
    try:
        with session_for(registry.env, client, redirect_uri=redirect_uri) as oauth:
            token = oauth.fetch_token(metadata["token_endpoint"], grant_type="authorization_code", code=code,
                                      code_verifier=flow.verifier)
    except AuthlibBaseError as exc:
        raise ProviderSigninRefused("token", _oauth_error_text(exc)) from None
    except _NETWORK as exc:
        raise _unreachable(exc) from None
    if not token.get("access_token") or not token.get("id_token"):
        raise ProviderSigninRefused("token", "the answer lacks an access token or an id_token")
    claims = verify_id_token(registry, client, token, flow.nonce)
    microsoft, single_tenant = microsoft_registration(client.issuer)
    return Tokens(token["access_token"], token.get("refresh_token"), expiry_of(token),
                  str(claims.get("sub") or ""), identity_of(claims, microsoft, single_tenant),
                  identity_verified(claims, microsoft, single_tenant))


def expiry_of(token: Mapping) -> datetime:
    try:
        seconds = int(token.get("expires_in") or 3600)
    except (TypeError, ValueError):
        seconds = 3600
    return utcnow() + timedelta(seconds=max(0, seconds))


def _oauth_error_text(exc: AuthlibBaseError) -> str:
    text = exc.error or "error"
    if exc.description:
        text += f": {exc.description}"
    return text[:300]


def verify_id_token(registry: OAuthRegistry, client: OAuthClient, token: Mapping, nonce: str) -> dict:
    """Signature against the issuer's keys (fetched again once for an unknown key id), then iss, aud,
    exp, iat, nonce and at_hash (Authlib's CodeIDToken rules)."""
    metadata = registry.metadata(client)
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in algorithms if a != "none"] or ["RS256"]
    registry_ = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(token["id_token"], KeySet.import_key_set(registry.jwks(client)), registry=registry_)
        except JoseError:
            decoded = jwt.decode(token["id_token"], KeySet.import_key_set(registry.jwks(client, force=True)),
                                 registry=registry_)
        issuer = str(metadata["issuer"])
        pattern = _issuer_pattern(issuer)

        def issuer_ok(claims, value) -> bool:
            if "{tenantid}" in issuer:  # Microsoft: the tenant the token names, nothing else
                return value == issuer.replace("{tenantid}", str(claims.get("tid", ""))) and bool(pattern.match(value))
            return value == issuer

        options = {"iss": {"essential": True, "validate": issuer_ok},
                   "aud": {"essential": True, "values": [client.client_id]}}
        claims = CodeIDToken(decoded.claims, decoded.header, options,
                             {"nonce": nonce, "client_id": client.client_id, "access_token": token["access_token"]})
        claims.validate(leeway=120)
    except (JoseError, ValueError, KeyError) as exc:
        raise ProviderSigninRefused("id-token", type(exc).__name__ + (f": {exc}" if str(exc) else "")) from None
    if "nonce" not in claims:
        raise ProviderSigninRefused("id-token", "MissingClaimError: nonce")
    return dict(claims)


def microsoft_registration(issuer: str) -> tuple[bool, bool]:
    """Whether the issuer is Microsoft Entra's, and whether the registration is for one tenant only."""
    found = re.match(r"^https://login\.microsoftonline\.com/([^/]+)/", issuer)
    if not found:
        return False, False
    return True, found[1] not in ("common", "organizations", "consumers", "{tenantid}")


def _email_counts(claims: Mapping, microsoft: bool, single_tenant: bool) -> bool:
    """Whether the `email` claim names the user: not said to be unverified, and at Microsoft (where any
    tenant's administrator may set any email) only where the domain's owner vouches (`xms_edov`) or the
    registration admits one tenant only."""
    email = claims.get("email")
    if not (isinstance(email, str) and "@" in email) or claims.get("email_verified") is False:
        return False
    if microsoft:
        return single_tenant or claims.get("xms_edov") in (True, 1, "1", "true", "True")
    return True


def identity_of(claims: Mapping, microsoft: bool = False, single_tenant: bool = False) -> str:
    """The address the provider vouches for: the `email` where it counts, else `preferred_username`; none
    at all where the provider says the email is not verified."""
    if _email_counts(claims, microsoft, single_tenant):
        return str(claims["email"]).strip()
    if claims.get("email_verified") is False:
        return ""
    username = claims.get("preferred_username")
    return username.strip() if isinstance(username, str) and "@" in username else ""


def identity_verified(claims: Mapping, microsoft: bool = False, single_tenant: bool = False) -> bool:
    """Whether the sign-in proves the address is the user's (and so verifies it on the contact card): an
    email the provider says is verified (at Microsoft: one that counts, see _email_counts)."""
    if not _email_counts(claims, microsoft, single_tenant):
        return False
    return microsoft or claims.get("email_verified") is True


# --- refreshing ----------------------------------------------------------------------------------


class RefreshRefused(Exception):
    """The token endpoint refused the refresh token for good (invalid_grant)."""


def refresh(registry: OAuthRegistry, client: OAuthClient, refresh_token: str) -> Tokens:
    """A new access token (and, where the provider rotates them, a new refresh token)."""
    try:
        metadata = registry.metadata(client)
        with session_for(registry.env, client) as oauth:
            token = oauth.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
    except AuthlibBaseError as exc:
        if exc.error in ("invalid_grant", "interaction_required", "consent_required", "login_required"):
            raise RefreshRefused(_oauth_error_text(exc)) from None
        raise ProviderSigninRefused("token", _oauth_error_text(exc)) from None
    except _NETWORK as exc:
        raise _unreachable(exc) from None
    if not token.get("access_token"):
        raise ProviderSigninRefused("token", "the answer lacks an access token")
    rotated = token.get("refresh_token")
    return Tokens(token["access_token"], rotated if rotated and rotated != refresh_token else None,
                  expiry_of(token))
