"""How email addresses compare: the one normalisation every lookup, index and comparison uses."""

from __future__ import annotations

import unicodedata


def normalise_address(address: str) -> str:
    """The form addresses are matched in: Unicode NFKC, surrounding whitespace removed, case folded.

    Stored next to the address as typed (PersonEmail.normalised), so that a lookup is an indexed
    equality; local parts are folded too: no provider in use tells "Anna" from "anna".
    """
    return unicodedata.normalize("NFKC", address).strip().casefold()


def same_address(a: str | None, b: str | None) -> bool:
    return bool(a and b) and normalise_address(a) == normalise_address(b)


def domain_of(address: str) -> str:
    """The normalised domain of an address ("" when it has none)."""
    local, at, domain = normalise_address(address).rpartition("@")
    return domain.strip(".") if at and local else ""
