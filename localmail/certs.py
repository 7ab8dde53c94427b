"""TLS material for the lab: one trusted CA and one CA nobody trusts."""

from __future__ import annotations

import itertools
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import trustme


@dataclass(frozen=True)
class ServerCert:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


@dataclass(frozen=True)
class TlsFiles:
    ca_bundle: Path
    trusted: ServerCert
    untrusted: ServerCert
    # The trusted CA itself (in memory only), for issue(); None if built by hand.
    trusted_ca: trustme.CA | None = field(default=None, repr=False, compare=False)
    _serial: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1), repr=False, compare=False
    )

    @classmethod
    def create(cls, directory: Path, hostname: str | Sequence[str]) -> TlsFiles:
        """A fresh trusted CA (written to ca.pem) and a rogue one, each with a server
        certificate for `hostname`: one name, or several SANs (exact names,
        wildcards like "*.example.test", IP addresses)."""
        names = _names(hostname)
        directory.mkdir(parents=True, exist_ok=True)
        trusted_ca = trustme.CA(organization_name="localmail trusted CA")
        rogue_ca = trustme.CA(organization_name="localmail untrusted CA")
        ca_bundle = directory / "ca.pem"
        trusted_ca.cert_pem.write_to_path(str(ca_bundle))
        rogue_ca.cert_pem.write_to_path(str(directory / "untrusted-ca.pem"))
        return cls(
            ca_bundle=ca_bundle,
            trusted=_issue(trusted_ca, names, directory / "server"),
            untrusted=_issue(rogue_ca, names, directory / "untrusted"),
            trusted_ca=trusted_ca,
        )

    def issue(self, names: str | Sequence[str], stem: str = "extra") -> ServerCert:
        """Another server certificate from the trusted CA (so ca_bundle verifies it),
        for arbitrary SANs; written next to ca.pem as <stem>-<n>-cert.pem / -key.pem."""
        if self.trusted_ca is None:
            raise RuntimeError("this TlsFiles has no trusted CA in memory (use TlsFiles.create)")
        path = self.ca_bundle.parent / f"{stem}-{next(self._serial)}"
        return _issue(self.trusted_ca, _names(names), path)

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_bundle))


def _names(names: str | Sequence[str]) -> list[str]:
    result = [names] if isinstance(names, str) else list(names)
    if not result or not all(isinstance(name, str) and name for name in result):
        raise ValueError(f"a certificate needs at least one non-empty name, got {names!r}")
    return result


def _issue(ca: trustme.CA, names: Sequence[str], stem: Path) -> ServerCert:
    leaf = ca.issue_cert(*names)
    cert = stem.with_name(stem.name + "-cert.pem")
    key = stem.with_name(stem.name + "-key.pem")
    with cert.open("wb") as out:
        for blob in leaf.cert_chain_pems:
            out.write(blob.bytes())
    # Dovecot reads the key as root (config process), so owner-only is enough.
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(leaf.private_key_pem.bytes())
    return ServerCert(cert=cert, key=key)
