"""CRM passwords: hashed with werkzeug's scrypt (or PBKDF2) at the cost the installation sets
(`PASSWORD_HASH`), and checked so that a user name nobody has costs what a real one does."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from werkzeug.security import check_password_hash, generate_password_hash

DEFAULT_METHOD = "scrypt:32768:8:1"  # werkzeug's own default: about 0.1 s and 32 MB per hash
_SCRYPT = re.compile(r"scrypt:(\d+):(\d+):(\d+)")
_PBKDF2 = re.compile(r"pbkdf2:(sha256|sha512):(\d+)")

# The hash of a random password nobody knows, at the default cost, written out because making one
# costs every process start 0.1 s and 32 MB.
_DEFAULT_DUMMY = ("scrypt:32768:8:1$cLPHbPiWajcpLwfw$007b617e58198fc70f20e90e70537e5317627d70423b5ebb74ce108f4f3c0326"
                  "0dc531e000967b5be665c44828c3fbce374305af0ebbe8a054f8f021110bb2ff")


def valid_method(method: str) -> bool:
    """scrypt:N:r:p (N a power of two from 128, the least werkzeug's memory bound allows, and at most
    1 GB of memory) or pbkdf2:sha256|sha512:iterations; every number at least 1."""
    scrypt, pbkdf2 = _SCRYPT.fullmatch(method), _PBKDF2.fullmatch(method)
    if scrypt:
        n, r, p = (int(x) for x in scrypt.groups())
        return n >= 128 and n & (n - 1) == 0 and r >= 1 and p >= 1 and 128 * n * r <= 2**30
    return bool(pbkdf2) and int(pbkdf2.group(2)) >= 1


def weaker_than_default(method: str) -> bool:
    scrypt, pbkdf2 = _SCRYPT.fullmatch(method), _PBKDF2.fullmatch(method)
    if scrypt:
        n, r, _p = (int(x) for x in scrypt.groups())
        return n * r < 32768 * 8
    return not pbkdf2 or int(pbkdf2.group(2)) < 600_000  # OWASP's figure for PBKDF2-HMAC-SHA256


def hash_password(password: str, method: str = DEFAULT_METHOD) -> str:
    return generate_password_hash(password, method=method)


@lru_cache(maxsize=4)
def _dummy(method: str) -> str:
    return _DEFAULT_DUMMY if method == DEFAULT_METHOD else hash_password(secrets.token_urlsafe(16), method)


def password_matches(stored: str | None, password: str, method: str = DEFAULT_METHOD) -> bool:
    """Whether the password is the one `stored` was made from; with nothing stored (no such user), a
    hash of the installation's cost is checked all the same, and the answer is no."""
    if stored is None:
        check_password_hash(_dummy(method), password)
        return False
    return check_password_hash(stored, password)
