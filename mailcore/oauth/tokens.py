"""An OAuth account's tokens at rest and in use.

The refresh token and the latest access token are sealed like passwords (AES-GCM, bound to their
row and kind). An access token is used until shortly before it expires (`margin`), and refreshed
then, or once when a server refuses it. Refreshes of one account are serialised by the `REFRESH`
lease on its grant row (mailcore/leases.py), so two threads or processes never spend the same
refresh token (Microsoft rotates them and honours only the newest); whoever waited uses the token
the other one fetched. A rotated refresh token is written in the same UPDATE as the access token
that came with it. When the provider refuses the refresh token for good, both tokens are
forgotten: nothing is retried until the user signs in again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from mailcore import errors, leases
from mailcore.crypto import SecretBox, SecretBoxError
from mailcore.models import Account, OAuthGrant, utcnow
from mailcore.oauth import client as oauth

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=30)
OAUTH2 = "oauth2"
PASSWORD = "password"


def _context(grant: OAuthGrant, kind: str) -> str:
    return f"oauth-grant:{grant.id}:account:{grant.account_id}:{kind}"


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they are UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@dataclass
class TokenKeeper:
    sessions: sessionmaker[Session]
    box: SecretBox
    registry: oauth.OAuthRegistry
    margin: timedelta = timedelta(seconds=120)
    wait: float = 20.0  # seconds to wait for another process's refresh

    # --- storing ---------------------------------------------------------------------------------

    def store(self, db: Session, account: Account, provider_id: str, tokens: oauth.Tokens) -> OAuthGrant:
        """The account's grant after a sign-in (created or replaced), in db's transaction."""
        grant = db.scalar(select(OAuthGrant).where(OAuthGrant.account_id == account.id))
        if grant is None:
            grant = OAuthGrant(account_id=account.id, provider_id=provider_id, generation=0)
            db.add(grant)
            db.flush()  # the id binds the ciphertexts to this row
        grant.provider_id, grant.subject = provider_id, tokens.subject[:255]
        grant.refresh_token = self.box.seal(tokens.refresh_token, _context(grant, "refresh")) \
            if tokens.refresh_token else None
        grant.access_token = self.box.seal(tokens.access_token, _context(grant, "access"))
        grant.access_expires_at = tokens.expires_at
        grant.generation = (grant.generation or 0) + 1
        grant.refresh_owner = grant.refresh_until = None
        grant.updated_at = utcnow()
        return grant

    def _open(self, grant: OAuthGrant, kind: str) -> str | None:
        sealed = grant.refresh_token if kind == "refresh" else grant.access_token
        if not sealed:
            return None
        try:
            return self.box.open(sealed, _context(grant, kind))
        except SecretBoxError:
            raise errors.SecretUnreadable() from None

    # --- using -----------------------------------------------------------------------------------

    def access_token(self, account_id: int, rejected: str | None = None) -> str:
        """A current access token for the account; a new one when the stored one is about to expire
        or is `rejected` (a server just refused it). SignInAgain when only a new sign-in helps."""
        lease = leases.RowLease(leases.REFRESH, LEASE)
        deadline = time.monotonic() + self.wait
        while True:
            with self.sessions() as db:
                grant = db.scalar(select(OAuthGrant).where(OAuthGrant.account_id == account_id))
                current = self._usable(grant, rejected)
                if current is not None:
                    return current
                taken = lease.take(db, grant.id)  # the loaded row is read again anyway
                db.commit()
                if taken:
                    break
            if time.monotonic() > deadline:
                raise errors.SignInServiceFailed("another refresh of this account's token did not finish")
            time.sleep(0.05)
        try:
            return self._refresh(account_id, rejected)
        finally:
            with self.sessions() as db:
                lease.release(db, OAuthGrant.account_id == account_id)
                db.commit()

    def _usable(self, grant: OAuthGrant | None, rejected: str | None) -> str | None:
        """The stored access token if it may still be used; None when a refresh is needed."""
        if grant is None:
            raise errors.SignInAgain("no sign-in is stored for this account")
        current = self._open(grant, "access")
        expires = aware(grant.access_expires_at)
        if current and current != rejected and expires is not None and expires - self.margin > utcnow():
            return current
        if grant.refresh_token is None:
            raise errors.SignInAgain("the provider's sign-in has ended")
        return None

    def _refresh(self, account_id: int, rejected: str | None) -> str:
        with self.sessions() as db:
            grant = db.scalar(select(OAuthGrant).where(OAuthGrant.account_id == account_id))
            current = self._usable(grant, rejected)  # another worker may have refreshed meanwhile
            if current is not None:
                return current
            client = self.registry.client_by_id(grant.provider_id)
            try:
                tokens = oauth.refresh(self.registry, client, self._open(grant, "refresh"))
            except oauth.RefreshRefused as exc:
                db.execute(update(OAuthGrant).where(OAuthGrant.id == grant.id).values(
                    refresh_token=None, access_token=None, access_expires_at=None, updated_at=utcnow()))
                db.commit()
                log.info("account %s: the provider refused the refresh token; sign in again needed", account_id)
                raise errors.SignInAgain(exc.args[0] if exc.args else "") from None
            except oauth.ProviderSigninRefused as exc:
                raise errors.SignInServiceFailed(exc.detail) from None
            values = {"access_token": self.box.seal(tokens.access_token, _context(grant, "access")),
                      "access_expires_at": tokens.expires_at, "generation": OAuthGrant.generation + 1,
                      "updated_at": utcnow()}
            if tokens.refresh_token:  # rotated: the old one is spent, so it is replaced in the same write
                values["refresh_token"] = self.box.seal(tokens.refresh_token, _context(grant, "refresh"))
            # written whoever holds the lease now: these are the provider's newest tokens
            db.execute(update(OAuthGrant).where(OAuthGrant.id == grant.id).values(**values))
            db.commit()
            return tokens.access_token
