"""How email addresses compare: the domain case-insensitively; local parts are kept as typed."""

from __future__ import annotations


def normalise_address(address: str) -> str:
    """Addresses compare case-insensitively in the domain; local parts are kept as typed."""
    local, at, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if at else address.strip()


def same_address(a: str | None, b: str | None) -> bool:
    return bool(a and b) and normalise_address(a).lower() == normalise_address(b).lower()
