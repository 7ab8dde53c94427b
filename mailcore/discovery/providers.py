"""Provider knowledge as data: `providers.json`, plus the operator's MAIL_PROVIDERS_FILE."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mailcore.settings import ServerSettings

BUILTIN_FILE = Path(__file__).with_name("providers.json")

# Advice a provider's entry can point at; the web layer words them.
NOTES = frozenset({"app-password", "enable-imap", "bridge", "oauth"})


@dataclass(frozen=True)
class ServerTemplate:
    host: str
    port: int
    ssl: bool
    username: str  # "address" or "local"

    def for_address(self, address: str) -> ServerSettings:
        local, _, domain = address.rpartition("@")
        host = self.host.lower().replace("%emaildomain%", domain.lower())  # hosts are kept lower-case
        return ServerSettings(host, self.port, self.ssl, address if self.username == "address" else local)


@dataclass(frozen=True)
class OAuthSpec:
    """How a provider's accounts sign in with OAuth 2.0 / OpenID Connect (its "oauth2" object).

    `client` names where the client registration comes from: "microsoft" or "google" for the
    built-in entries (OAUTH_MICROSOFT_* / OAUTH_GOOGLE_* settings), the provider's id when the entry
    carries its own `client_id` (an operator's own issuer). `issuer` may hold "{tenant}".
    """

    client: str
    label: str  # the name on the "Sign in with ..." button
    issuer: str
    scopes: tuple[str, ...]
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    authorize_params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    domains: frozenset[str]
    mx: tuple[str, ...]
    incoming: ServerTemplate | None
    outgoing: ServerTemplate | None
    note: str | None = None
    pop3_only: bool = False
    oauth2: OAuthSpec | None = None

    def matches_mx(self, mx_host: str) -> bool:
        host = mx_host.lower().rstrip(".")
        return any(host.endswith(p) if p.startswith(".") else host == p for p in self.mx)


def _template(raw: dict | None) -> ServerTemplate | None:
    if not raw:
        return None
    username = raw.get("username", "address")
    if username not in ("address", "local"):
        raise ValueError(f"username must be 'address' or 'local', not {username!r}")
    return ServerTemplate(str(raw["host"]).lower(), int(raw["port"]), bool(raw["ssl"]), username)


def _oauth(raw: dict | None, provider_id: str, name: str) -> OAuthSpec | None:
    if not raw:
        return None
    if not raw.get("issuer", "").startswith("https://"):
        raise ValueError(f"provider {provider_id}: oauth2 needs an https issuer")
    scopes = raw.get("scopes") or ["openid", "email", "offline_access"]
    if "openid" not in scopes:
        raise ValueError(f"provider {provider_id}: oauth2 scopes must include openid (the address is checked "
                         "against the id_token)")
    client = str(raw.get("client") or provider_id)
    return OAuthSpec(client=client, label=str(raw.get("label") or name), issuer=str(raw["issuer"]),
                     scopes=tuple(str(s) for s in scopes), client_id=raw.get("client_id") or None,
                     client_secret=raw.get("client_secret") or None,
                     authorize_params=tuple(sorted((str(k), str(v)) for k, v in
                                                   (raw.get("authorize_params") or {}).items())))


def _provider(raw: dict) -> Provider:
    note = raw.get("note")
    if note is not None and note not in NOTES:
        raise ValueError(f"provider {raw.get('id')}: unknown note {note!r}")
    return Provider(
        id=str(raw["id"]),
        name=str(raw["name"]),
        domains=frozenset(d.lower() for d in raw.get("domains", ())),
        mx=tuple(m.lower().rstrip(".") for m in raw.get("mx", ())),
        incoming=_template(raw.get("incoming")),
        outgoing=_template(raw.get("outgoing")),
        note=note,
        pop3_only=bool(raw.get("pop3_only", False)),
        oauth2=_oauth(raw.get("oauth2"), str(raw["id"]), str(raw["name"])),
    )


class ProviderList:
    """Looks providers up by address domain and by MX host; earlier entries win."""

    def __init__(self, providers: list[Provider]):
        self.providers = providers
        self._by_domain: dict[str, Provider] = {}
        for provider in providers:
            for domain in provider.domains:
                self._by_domain.setdefault(domain, provider)

    @classmethod
    def load(cls, extra_file: Path | None = None) -> ProviderList:
        """The operator's file first, so it can override a built-in entry."""
        files = ([extra_file] if extra_file else []) + [BUILTIN_FILE]
        providers: list[Provider] = []
        for path in files:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            providers.extend(_provider(raw) for raw in data["providers"])
        return cls(providers)

    def by_domain(self, domain: str) -> Provider | None:
        return self._by_domain.get(domain.lower())

    def by_mx(self, mx_hosts: list[str]) -> Provider | None:
        for host in mx_hosts:
            for provider in self.providers:
                if provider.mx and provider.matches_mx(host):
                    return provider
        return None

    def by_id(self, provider_id: str | None) -> Provider | None:
        return next((p for p in self.providers if p.id == provider_id), None)
