"""Value types for an account's server settings (the installation's own settings are mailcore.config)."""

from __future__ import annotations

from dataclasses import dataclass, replace

IMAP_PORTS = {True: 993, False: 143}
SMTP_PORTS = {True: 465, False: 587}


@dataclass(frozen=True)
class ServerSettings:
    """One side of an account. `ssl` True is implicit TLS; False is STARTTLS, always required."""

    host: str
    port: int
    ssl: bool
    username: str

    def with_username(self, username: str) -> ServerSettings:
        return replace(self, username=username)


@dataclass(frozen=True)
class AccountSettings:
    address: str
    incoming: ServerSettings
    outgoing: ServerSettings


@dataclass(frozen=True)
class Credentials:
    """What logs each side in: a password, or a Bearer access token for a side that uses OAuth."""

    incoming_password: Secret
    outgoing_password: Secret

    def __repr__(self) -> str:  # never let a password reach a log through repr()
        return "Credentials(<hidden>)"


@dataclass(frozen=True)
class Bearer:
    """An OAuth 2.0 access token, used where a password would be (SASL XOAUTH2 / OAUTHBEARER)."""

    token: str

    def __repr__(self) -> str:  # never let a token reach a log through repr()
        return "Bearer(<hidden>)"


Secret = str | Bearer  # what logs a side in: its password, or an access token


def split_address(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return local, domain.lower()
