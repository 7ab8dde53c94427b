"""The provider sign-in flow: connecting an account by OAuth 2.0 authorization at its provider (not
the CRM sign-in, mailcore.crm_signin): the provider sign-ins under way, and what a finished one stores.

A sign-in under way is a database row keyed by the hash of its `state`, holding the PKCE verifier,
the nonce and what to connect, sealed to the user and the state. The callback claims the row by
deleting it, so a state works once, in whichever process, and only for the user who started it.
The identity the provider vouches for must be the address being connected. Like a password, the
fresh access token is tried on both servers before anything is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailcore.account import settings_of
from mailcore.addresses import same_address
from mailcore.connect import CheckResult, check_account
from mailcore.crypto import SecretBoxError
from mailcore.models import Account, OAuthFlow, SyncState, User, utcnow
from mailcore.oauth import client as oauth
from mailcore.oauth.tokens import OAUTH2, PASSWORD, aware
from mailcore.services import MailService
from mailcore.settings import AccountSettings, Bearer, Credentials, ServerSettings

if TYPE_CHECKING:
    from mailcore.installation import Installation

FLOW_LIFETIME = timedelta(minutes=15)
FLOWS_PER_USER = 5


@dataclass(frozen=True)
class Pending:
    """What to connect once the provider has said yes."""

    provider_id: str
    settings: AccountSettings
    auth: tuple[str, str] = (OAUTH2, OAUTH2)  # incoming, outgoing
    password: str | None = None  # for a side that keeps a password (Advanced settings)
    source: str = "provider"
    again: bool = False  # Sign in again: keep the account and its mail, renew the grant

    def __repr__(self) -> str:
        return f"Pending({self.provider_id}, {self.settings.address}, {self.auth})"

    def as_json(self) -> dict:
        return {"provider": self.provider_id, "address": self.settings.address, "auth": list(self.auth),
                "servers": [[s.host, s.port, s.ssl, s.username] for s in (self.settings.incoming,
                                                                           self.settings.outgoing)],
                "password": self.password, "source": self.source, "again": self.again}

    @classmethod
    def from_json(cls, data: dict) -> Pending:
        incoming, outgoing = (ServerSettings(h, int(p), bool(t), u) for h, p, t, u in data["servers"])
        return cls(data["provider"], AccountSettings(data["address"], incoming, outgoing), tuple(data["auth"]),
                   data.get("password"), data.get("source", "provider"), bool(data.get("again")))


@dataclass
class Outcome:
    result: CheckResult
    pending: Pending


def _context(user: User, state_hash: str) -> str:
    return f"oauth-flow:user:{user.id}:{state_hash}"


@dataclass
class ProviderSignin:
    """The provider sign-in of one request: `start` sends the user to the provider, `complete` takes the
    callback and connects (or, for Sign in again, renews) the account."""

    db: Session
    installation: Installation
    mail: MailService

    @property
    def registry(self) -> oauth.OAuthRegistry:
        return self.installation.oauth

    def start(self, user: User, pending: Pending, redirect_uri: str) -> tuple[str, str]:
        """The provider's sign-in URL and the flow's state; NotConfigured or ProviderSigninRefused otherwise."""
        provider = self.installation.providers.by_id(pending.provider_id)
        client = self.registry.client_for(provider)
        url, flow = oauth.begin(self.registry, client, redirect_uri, pending.settings.address)
        self.db.execute(delete(OAuthFlow).where(OAuthFlow.created_at < utcnow() - FLOW_LIFETIME))
        older = list(self.db.scalars(select(OAuthFlow.id).where(OAuthFlow.user_id == user.id)
                                     .order_by(OAuthFlow.created_at.desc()).offset(FLOWS_PER_USER - 1)))
        if older:
            self.db.execute(delete(OAuthFlow).where(OAuthFlow.id.in_(older)))
        digest = oauth.state_hash(flow.state)
        payload = json.dumps({"verifier": flow.verifier, "nonce": flow.nonce, "redirect_uri": redirect_uri,
                              "pending": pending.as_json()})
        self.db.add(OAuthFlow(user_id=user.id, state_hash=digest,
                              payload=self.installation.box.seal(payload, _context(user, digest))))
        self.db.commit()
        return url, flow.state

    def _claim(self, user: User, state: str) -> tuple[oauth.FlowSecrets, str, Pending]:
        """The flow of this state, deleted as it is read: a second callback finds nothing."""
        digest = oauth.state_hash(state)
        row = self.db.scalar(select(OAuthFlow).where(OAuthFlow.user_id == user.id, OAuthFlow.state_hash == digest))
        if row is None:
            raise oauth.ProviderSigninRefused("state")
        claimed = self.db.execute(delete(OAuthFlow).where(OAuthFlow.id == row.id)).rowcount
        self.db.commit()
        if claimed != 1 or aware(row.created_at) < utcnow() - FLOW_LIFETIME:
            raise oauth.ProviderSigninRefused("state")
        try:
            data = json.loads(self.installation.box.open(row.payload, _context(user, digest)))
        except (SecretBoxError, ValueError):
            raise oauth.ProviderSigninRefused("state") from None
        return (oauth.FlowSecrets(state, data["verifier"], data["nonce"]), data["redirect_uri"],
                Pending.from_json(data["pending"]))

    def pending_of(self, user: User, state: str) -> Pending | None:
        """What a flow was for, without claiming it (to show a refusal beside the right provider)."""
        row = self.db.scalar(select(OAuthFlow).where(OAuthFlow.user_id == user.id,
                                                     OAuthFlow.state_hash == oauth.state_hash(state)))
        if row is None:
            return None
        try:
            data = json.loads(self.installation.box.open(row.payload, _context(user, row.state_hash)))
        except (SecretBoxError, ValueError):
            return None
        return Pending.from_json(data["pending"])

    def complete(self, user: User, state: str, params: dict) -> Outcome:
        """Finish the sign-in of `state` and connect (or renew) the account; ProviderSigninRefused otherwise."""
        secrets_, redirect_uri, pending = self._claim(user, state)
        provider = self.installation.providers.by_id(pending.provider_id)
        try:
            client = self.registry.client_for(provider)
        except oauth.NotConfigured:
            raise oauth.ProviderSigninRefused("unreachable", "the provider's sign-in is no longer configured") from None
        tokens = oauth.finish(self.registry, client, secrets_, redirect_uri, params)
        if not same_address(tokens.identity, pending.settings.address):
            raise oauth.ProviderSigninRefused("identity", identity=tokens.identity or "?")
        bearer = Bearer(tokens.access_token)
        credentials = Credentials(*(bearer if auth == OAUTH2 else (pending.password or "") for auth in pending.auth))
        account = user.account
        if pending.again and account is not None and same_address(account.address, pending.settings.address):
            return Outcome(self._renew(account, pending, tokens, credentials), pending)
        result = self.mail.check(user, pending.settings, credentials)
        if result.ok:
            account = self.mail.store(user, pending.settings, credentials, provider_id=provider.id,
                                      source=pending.source, proven=tokens.verified)
            self.installation.tokens.store(self.db, account, provider.id, tokens)
            self.db.commit()
        return Outcome(result, pending)

    def _renew(self, account: Account, pending: Pending, tokens: oauth.Tokens, credentials: Credentials) -> CheckResult:
        """Sign in again: the account, its folders and messages stay; the grant and the state are new."""
        settings = settings_of(account)
        if account.imap_auth != OAUTH2:
            credentials = Credentials(self.mail.stored_credentials(account).incoming_password,
                                      credentials.outgoing_password)
        if account.smtp_auth != OAUTH2:
            credentials = Credentials(credentials.incoming_password,
                                      self.mail.stored_credentials(account).outgoing_password)
        result = check_account(settings, credentials, self.mail.env() if self.mail.env else self.installation.env)
        if result.ok:
            self.installation.tokens.store(self.db, account, pending.provider_id, tokens)
            account.sync_state, account.sync_failures = SyncState.NEW, 0
            account.last_error_kind = account.last_error_side = account.last_error_detail = None
            account.next_sync_at, account.last_login_at = utcnow(), utcnow()
            self.db.commit()
        return result


def pending_for(provider_id: str, settings: AccountSettings, auth: tuple[str, str] = (OAUTH2, OAUTH2),
                password: str | None = None, source: str = "provider", again: bool = False) -> Pending:
    return Pending(provider_id, settings, tuple(a if a in (OAUTH2, PASSWORD) else PASSWORD for a in auth),
                   password, source, again)
