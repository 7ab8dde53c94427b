"""TLS material for the lab: one trusted CA and one CA nobody trusts."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
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

    @classmethod
    def create(cls, directory: Path, hostname: str) -> TlsFiles:
        directory.mkdir(parents=True, exist_ok=True)
        trusted_ca = trustme.CA(organization_name="localmail trusted CA")
        rogue_ca = trustme.CA(organization_name="localmail untrusted CA")
        ca_bundle = directory / "ca.pem"
        trusted_ca.cert_pem.write_to_path(str(ca_bundle))
        rogue_ca.cert_pem.write_to_path(str(directory / "untrusted-ca.pem"))
        return cls(
            ca_bundle=ca_bundle,
            trusted=_issue(trusted_ca, hostname, directory / "server"),
            untrusted=_issue(rogue_ca, hostname, directory / "untrusted"),
        )

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_bundle))


def _issue(ca: trustme.CA, hostname: str, stem: Path) -> ServerCert:
    leaf = ca.issue_cert(hostname)
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
