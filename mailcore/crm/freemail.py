"""Free-mail domains: anyone can have an address there, so the domain names no company and is never
used to suggest one. Kept as data: a domain, or a name and ".*" for that name under any top-level
domain (gmx.* is gmx.de, gmx.net, gmx.co.uk ...)."""

from __future__ import annotations

from mailcore.addresses import domain_of, normalise_address

FREEMAIL_DOMAINS = (
    "gmail.com", "googlemail.com",
    "outlook.*", "hotmail.*", "live.*", "msn.com",
    "yahoo.*", "ymail.com", "rocketmail.com",
    "icloud.com", "me.com", "mac.com",
    "aol.com", "aim.com",
    "gmx.*", "web.de", "t-online.de", "freenet.de",
    "proton.me", "protonmail.com", "protonmail.ch", "pm.me",
    "tutanota.com", "tuta.io",
    "mail.com", "yandex.*", "mail.ru", "zoho.com",
    "fastmail.com", "hey.com",
    "telia.com", "spray.se", "bredband.net", "comhem.se",
)

_EXACT = frozenset(entry for entry in FREEMAIL_DOMAINS if not entry.endswith(".*"))
_ANY_TOP_LEVEL = frozenset(entry.removesuffix(".*") for entry in FREEMAIL_DOMAINS if entry.endswith(".*"))


def is_freemail(address_or_domain: str) -> bool:
    """Whether an address (or a bare domain) is at a free-mail provider."""
    if "@" in address_or_domain:
        domain = domain_of(address_or_domain)
    else:
        domain = normalise_address(address_or_domain).strip(".")
    if domain in _EXACT:
        return True
    name, dot, rest = domain.partition(".")
    return bool(dot and rest) and name in _ANY_TOP_LEVEL
