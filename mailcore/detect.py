"""Finding an address's server settings.

Sources are tried in rank order; each returns a Detection or None. New sources (autoconfig, SRV,
probing) join the list without the views noticing: they only ever call `Detector.detect`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.resolver

from .providers import Provider, ProviderList
from .settings import IMAP_PORTS, SMTP_PORTS, AccountSettings, ServerSettings, split_address

# Where the settings came from, as the dialog tells the user.
SOURCE_PROVIDER = "provider"
SOURCE_MX = "mx"
SOURCE_GUESS = "guess"


@dataclass(frozen=True)
class Detection:
    settings: AccountSettings | None  # None when the provider offers no IMAP (POP3 only)
    source: str
    provider: Provider | None = None


MxLookup = Callable[[str], list[str]]


def dns_mx_lookup(nameserver: str | None = None, timeout: float = 3.0) -> MxLookup:
    """MX hosts of a domain, best preference first; [] when there are none or DNS fails."""
    resolver = dns.resolver.Resolver(configure=nameserver is None)
    if nameserver:
        host, _, port = nameserver.rpartition(":") if ":" in nameserver else (nameserver, "", "53")
        resolver.nameservers = [host.strip("[]")]
        resolver.port = int(port)
    resolver.lifetime = timeout

    def lookup(domain: str) -> list[str]:
        try:
            answer = resolver.resolve(domain, "MX")
        except (dns.exception.DNSException, ValueError):
            return []
        records = sorted(answer, key=lambda r: r.preference)
        return [str(r.exchange).rstrip(".").lower() for r in records if str(r.exchange) != "."]

    return lookup


def _from_provider(address: str, provider: Provider, source: str) -> Detection:
    if provider.incoming is None or provider.outgoing is None:
        return Detection(None, source, provider)
    settings = AccountSettings(address, provider.incoming.for_address(address),
                               provider.outgoing.for_address(address))
    return Detection(settings, source, provider)


def guessed_settings(address: str) -> AccountSettings:
    """The conventional names, implicit TLS: what Advanced settings starts from when nothing is known."""
    _, domain = split_address(address)
    return AccountSettings(
        address,
        ServerSettings(f"imap.{domain}", IMAP_PORTS[True], True, address),
        ServerSettings(f"smtp.{domain}", SMTP_PORTS[True], True, address),
    )


class Detector:
    def __init__(self, providers: ProviderList, mx_lookup: MxLookup | None = None):
        self.providers = providers
        self.mx_lookup = mx_lookup
        self.sources: list[Callable[[str, str], Detection | None]] = [self._provider_list, self._mx]

    def detect(self, address: str) -> Detection:
        _, domain = split_address(address)
        for source in self.sources:
            found = source(address, domain)
            if found is not None:
                return found
        return Detection(guessed_settings(address), SOURCE_GUESS)

    def _provider_list(self, address: str, domain: str) -> Detection | None:
        provider = self.providers.by_domain(domain)
        return _from_provider(address, provider, SOURCE_PROVIDER) if provider else None

    def _mx(self, address: str, domain: str) -> Detection | None:
        if self.mx_lookup is None:
            return None
        provider = self.providers.by_mx(self.mx_lookup(domain))
        return _from_provider(address, provider, SOURCE_MX) if provider else None
