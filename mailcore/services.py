"""What the views ask of the domain: users, contact cards, and connecting a mail account.

Every function that reads or changes a user's data takes that user; nothing here looks a row up by
id alone, so one user can never reach another's account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailcore.account import credentials_of, seal_credentials
from mailcore.addresses import normalise_address, same_address
from mailcore.attempts import count_attempt
from mailcore.connect import CheckResult, MailEnvironment, check_account
from mailcore.contacts import MANUAL, UNPROVEN, login_proves, sending_rule, verify_proven
from mailcore.discovery.detect import Detection
from mailcore.models import Account, AttemptKind, ContactEmail, User, utcnow
from mailcore.oauth.tokens import OAUTH2, PASSWORD
from mailcore.passwords import DEFAULT_METHOD, hash_password, password_matches
from mailcore.settings import AccountSettings, Bearer, Credentials
from mailcore.sync import sentcopies
from mailcore.sync.firstpage import read_first_page, store_first_page

if TYPE_CHECKING:
    from mailcore.installation import Installation

class UserExists(Exception):
    pass


class InvalidContactEmail(Exception):
    pass


# --- users -----------------------------------------------------------------------------------


def user_by_email(db: Session, email: str) -> User | None:
    """The user whose sign-in address this is, compared as addresses compare (case-insensitively)."""
    return db.scalar(select(User).where(func.lower(User.email) == normalise_address(email)))


def create_user(db: Session, email: str, password: str, name: str, language: str | None = None,
                password_method: str = DEFAULT_METHOD) -> User:
    email = email.strip()
    if user_by_email(db, email) is not None:
        raise UserExists(email)
    user = User(email=email, name=name, password_hash=hash_password(password, password_method), language=language)
    user.contact_emails.append(ContactEmail(position=0, address=email, verified_at=utcnow()))  # the operator's word
    db.add(user)
    db.commit()
    return user


def authenticate(db: Session, email: str, password: str, password_method: str = DEFAULT_METHOD) -> User | None:
    """The user when the password is theirs; an unknown user costs the same (`password_method`'s hash)."""
    user = user_by_email(db, email)
    return user if password_matches(user.password_hash if user else None, password, password_method) else None


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.email)))


# --- contact card ------------------------------------------------------------------------------


def _renumber(user: User) -> None:
    for position, item in enumerate(user.contact_emails):
        item.position = position


def add_contact_email(db: Session, user: User, address: str) -> None:
    address = address.strip()
    if any(same_address(address, e.address) for e in user.contact_emails):
        raise InvalidContactEmail(address)
    user.contact_emails.append(ContactEmail(position=len(user.contact_emails), address=address))
    verify_proven(user)  # unverified, unless it is an address the user has already proven
    db.commit()


def _own_contact_email(user: User, email_id: int) -> ContactEmail | None:
    return next((e for e in user.contact_emails if e.id == email_id), None)


def remove_contact_email(db: Session, user: User, email_id: int) -> bool:
    item = _own_contact_email(user, email_id)
    if item is None:
        return False
    user.contact_emails.remove(item)
    _renumber(user)
    db.commit()
    return True


def move_contact_email(db: Session, user: User, email_id: int, offset: int) -> bool:
    item = _own_contact_email(user, email_id)
    if item is None:
        return False
    items = list(user.contact_emails)
    old = items.index(item)
    new = max(0, min(len(items) - 1, old + offset))
    items.insert(new, items.pop(old))
    user.contact_emails[:] = items  # keeps the relationship's order in step with positions
    _renumber(user)
    db.commit()
    return True


def can_send(user: User) -> bool:
    """The guide's rule: sending needs the account's address first on the contact card, verified."""
    return user.account is not None and sending_rule(user, user.account.address) is None


# --- mail account ------------------------------------------------------------------------------


@dataclass
class MailService:
    """Connecting, reading and removing a user's account, with one installation's environment."""

    db: Session
    installation: Installation
    attempts_per_window: int = 10
    attempt_window: timedelta = timedelta(minutes=5)
    discoveries_per_minute: int = 6
    env: Callable[[], MailEnvironment] | None = None  # the environment of a request a person waits on

    def discover(self, user: User, address: str) -> Detection:
        """Find settings for an address; a user may start only a few discoveries a minute."""
        count_attempt(self.db, user.id, AttemptKind.DISCOVERY, self.discoveries_per_minute, timedelta(minutes=1))
        return self.installation.detector.detect(address)

    def check(self, user: User, settings: AccountSettings, credentials: Credentials,
              with_first_page: bool = False) -> CheckResult:
        count_attempt(self.db, user.id, AttemptKind.LOGIN, self.attempts_per_window, self.attempt_window)
        return check_account(settings, credentials, self.env() if self.env else self.installation.env,
                             then=read_first_page if with_first_page else None)

    def connect(self, user: User, settings: AccountSettings, credentials: Credentials, *,
                provider_id: str | None = None, source: str = "manual", with_first_page: bool = False) -> CheckResult:
        """Test both sides for real; store the account only when both work. Replaces any earlier one.
        `with_first_page`: INBOX's newest messages are read in the same session and stored with it."""
        result = self.check(user, settings, credentials, with_first_page)
        if not result.ok:
            return result
        account = self.store(user, settings, credentials, provider_id=provider_id, source=source)
        self.db.commit()
        if result.first_page is not None:
            store_first_page(self.db, account, result.first_page)
        return result

    def store(self, user: User, settings: AccountSettings, credentials: Credentials, *,
              provider_id: str | None = None, source: str = "manual", proven: bool | None = None) -> Account:
        """The user's account with these (tested) settings, replacing any earlier one; the caller
        commits. A side whose credential is an OAuth access token signs in with OAuth from now on.
        `proven`: whether the sign-in proved the address (OAuth); else whether the login does (login_proves)."""
        if source != MANUAL:
            if proven is None:
                provider = self.installation.providers.by_id(provider_id) if provider_id else None
                proven = login_proves(settings.address, settings.incoming.username,
                                      provider.domains if provider else None)
            if not proven:
                source = UNPROVEN  # the mailed link proves it
        kept: list[tuple[str, bytes]] = []
        if user.account is not None:
            if same_address(user.account.address, settings.address.strip()):  # the same mailbox: its unfiled
                kept = sentcopies.taken_from(self.db, user.account)  # Sent copies still go to its Sent
            self.db.delete(user.account)
            self.db.flush()
        account = Account(
            user_id=user.id, address=settings.address.strip(), provider_id=provider_id,
            settings_source=source,
            imap_host=settings.incoming.host, imap_port=settings.incoming.port,
            imap_ssl=settings.incoming.ssl, imap_username=settings.incoming.username, imap_password=b"",
            smtp_host=settings.outgoing.host, smtp_port=settings.outgoing.port,
            smtp_ssl=settings.outgoing.ssl, smtp_username=settings.outgoing.username, smtp_password=b"",
            smtp_same_login=(settings.incoming.username == settings.outgoing.username
                             and credentials.incoming_password == credentials.outgoing_password),
            imap_auth=OAUTH2 if isinstance(credentials.incoming_password, Bearer) else PASSWORD,
            smtp_auth=OAUTH2 if isinstance(credentials.outgoing_password, Bearer) else PASSWORD,
            last_login_at=utcnow(),
        )
        self.db.add(account)
        self.db.flush()  # the id binds the ciphertexts to this row
        for message_id, raw in kept:
            sentcopies.keep(self.db, account, raw, message_id)
        seal_credentials(account, self.installation.box, credentials)
        user.account = account
        verify_proven(user)  # logging in with found settings proves the address
        return account

    def stored_credentials(self, account: Account) -> Credentials:
        return credentials_of(account, self.installation.box)

    def remove(self, user: User) -> bool:
        """Forget the account, its sealed passwords and all that is cached for it."""
        if user.account is None:
            return False
        self.db.delete(user.account)
        user.account = None
        self.db.commit()
        return True
