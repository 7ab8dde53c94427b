"""Device cookies (OWASP's defence against lockout): a browser that has signed in as a user name keeps
a signed cookie saying so, with a random nonce per name. Its sign-ins as that name are not held back by
anyone else's failures (mailcore/crm_signin.py), only by its own."""

from __future__ import annotations

import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from mailcore import crm_signin

COOKIE = "inkorg_device"
LIFETIME = 365 * 24 * 3600  # seconds
MOST_NAMES = 5  # user names one browser remembers


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="device-cookie")


def _known() -> dict[str, str]:
    value = request.cookies.get(COOKIE)
    if not value:
        return {}
    try:
        known = _signer().loads(value, max_age=LIFETIME)
    except (BadSignature, ValueError, TypeError):
        return {}
    return {k: v for k, v in known.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(known, dict) else {}


def nonce_for(user_name: str) -> str | None:
    """This browser's nonce for the user name, if it has signed in as that name before."""
    return _known().get(crm_signin.account_key(user_name))


def remember(response: Response, user_name: str) -> Response:
    """After a right password: this browser is known for the name (a fresh nonce each time)."""
    known = _known()
    key = crm_signin.account_key(user_name)
    known.pop(key, None)
    known[key] = secrets.token_urlsafe(16)
    known = dict(list(known.items())[-MOST_NAMES:])
    response.set_cookie(COOKIE, _signer().dumps(known), max_age=LIFETIME, httponly=True, samesite="Lax",
                        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
                        path="/signin")
    return response
