"""A push service and a browser's side of Web Push, for the tests: an HTTPS endpoint on loopback that
takes messages as a push service does (RFC 8030), checks their VAPID signature (RFC 8292) and
decrypts them with the subscription's keys as the browser would (RFC 8291), written here from the
RFCs with `cryptography` alone, not with the library the app sends with."""

from __future__ import annotations

import base64
import json
import os
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hmac import HMAC


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hmac(key: bytes, data: bytes) -> bytes:
    mac = HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with SHA-256, one block (every length here is at most 32)."""
    return _hmac(_hmac(salt, ikm), info + b"\x01")[:length]


@dataclass
class BrowserKeys:
    """A browser's keys of one subscription: its P-256 key pair and the 16-byte auth secret."""

    private: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.X962,
                                                      serialization.PublicFormat.UncompressedPoint)

    def subscription(self, endpoint: str) -> dict:
        """What PushSubscription.toJSON() gives the page."""
        return {"endpoint": endpoint, "keys": {"p256dh": b64(self.public), "auth": b64(self.auth)}}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 (Web Push message encryption) over RFC 8188's aes128gcm, one record."""
        salt, size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        sender = body[21:21 + id_length]
        record = body[21 + id_length:]
        assert len(record) <= size, "one record expected"
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender)
        shared = self.private.exchange(ec.ECDH(), peer)
        ikm = _hkdf(self.auth, shared, b"WebPush: info\x00" + self.public + sender, 32)
        key = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(key).decrypt(nonce, record, None)
        text = padded.rstrip(b"\x00")
        assert text.endswith(b"\x02"), "the last record ends with the delimiter 2"
        return text[:-1]


def check_vapid(authorization: str, audience: str) -> dict:
    """The claims of a valid `vapid t=<JWT>, k=<key>` header for `audience`; AssertionError otherwise."""
    scheme, _, rest = authorization.partition(" ")
    assert scheme.lower() == "vapid", authorization
    parts = dict(item.strip().split("=", 1) for item in rest.split(","))
    header_b64, claims_b64, signature_b64 = parts["t"].split(".")
    header = json.loads(unb64(header_b64))
    assert header == {"typ": "JWT", "alg": "ES256"} or (header["alg"] == "ES256"), header
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(parts["k"]))
    raw = unb64(signature_b64)
    assert len(raw) == 64, "ES256 signatures are r||s, 64 bytes"
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the VAPID signature does not verify") from None
    claims = json.loads(unb64(claims_b64))
    assert claims["aud"] == audience, claims
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600 + 60, claims  # at most 24 h (RFC 8292)
    assert claims["sub"].startswith(("mailto:", "https:")), claims
    claims["k"] = parts["k"]
    return claims


@dataclass
class Push:
    path: str
    headers: dict  # names in lower case
    body: bytes


class PushService:
    """An HTTPS push service on 127.0.0.1 with a certificate of the lab's CA. Each path is one
    subscription's endpoint; `gone` paths answer 410 as for an expired subscription."""

    def __init__(self, tls_files) -> None:
        cert = tls_files.issue(["127.0.0.1"], stem="push")
        self.received: list[Push] = []
        self.gone: set[str] = set()
        self.arrived = threading.Condition()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = 410 if self.path in service.gone else 201
                with service.arrived:
                    service.received.append(Push(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    service.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert.cert, cert.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.origin = f"https://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="push-service")
        self.thread.start()

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def wait(self, count: int, timeout: float = 15.0) -> list[Push]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
