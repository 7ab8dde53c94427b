"""Limits every request meets before a view runs: how large it may be, how long a session lasts,
how many failed sign-ins are allowed; and the one place that writes the policy headers that keep
pages and downloads where they belong (htmx's own headers are htmx.py's)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlsplit

from flask import Flask, Response, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from mailcore.compose.message import MAX_ATTACHMENTS_BYTES
from mailcore.crm_signin import SessionLimits, SignInLimits

from .htmx import is_fragment_request, is_htmx_request, leave_for, render

# Before sign-in only the sign-in form can be posted: a few fields.
SIGNED_OUT_REQUEST_BYTES = 64 * 1024
HSTS = "max-age=31536000"


def session_limits() -> SessionLimits:
    config = current_app.config
    return SessionLimits(idle=timedelta(hours=config["SESSION_IDLE_HOURS"]),
                         longest=timedelta(days=config["SESSION_MAX_DAYS"]))


def signin_limits() -> SignInLimits:
    config = current_app.config
    return SignInLimits(per_account=config["SIGNIN_FAILURES_PER_ACCOUNT"],
                        per_client=config["SIGNIN_FAILURES_PER_ADDRESS"],
                        window=timedelta(minutes=config["SIGNIN_WINDOW_MINUTES"]),
                        first_delay=timedelta(seconds=config["SIGNIN_FIRST_DELAY_SECONDS"]),
                        password_method=config["PASSWORD_HASH"])


# Requests a page makes by itself (the list polling for changes): they need a live session but do
# not count as use, so an inbox left open still goes idle.
BACKGROUND_ENDPOINTS = frozenset({"inbox.changes"})


def is_background_request() -> bool:
    return request.endpoint in BACKGROUND_ENDPOINTS


def to_sign_in():
    """Where a request without a live session goes: the sign-in page, and back here afterwards. An
    htmx request (a session that ended while the page was open) takes the whole page there."""
    if is_htmx_request():
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "") or None
        return leave_for(url_for("auth.signin", next=back))
    return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))


def _limit_request_size() -> None:
    """Runs before the CSRF check parses the form: a body over the limit is refused from its
    Content-Length, without reading it (or, when chunked, as soon as it passes the limit)."""
    if g.get("user") is None:
        request.max_content_length = SIGNED_OUT_REQUEST_BYTES


def _too_large(error: RequestEntityTooLarge):
    if (g.get("user") is None and request.endpoint != "auth.signin"
            and (request.content_length or 0) <= current_app.config["MAX_CONTENT_LENGTH"]):
        # only the signed-out limit refused it (a session that ended): what is missing is a sign-in
        return to_sign_in()
    message = _("What you sent is larger than Inkorg accepts. Attachments may be up to %(mb)s MB in all.",
                mb=MAX_ATTACHMENTS_BYTES // 2**20)
    if is_fragment_request():
        # into the form that sent it, which stays as typed (static/js/app.js swaps this 413)
        return render("too_large.html", "problem", 413, retarget="this", reswap="afterbegin", message=message)
    return render_template("too_large.html", message=message), 413


def referrer_policy(response) -> str:
    """App pages send their own origin (Flask-WTF's CSRF check over HTTPS needs a same-origin
    Referer on every POST) and nothing to other sites; downloads and inline parts send nothing."""
    is_page = response.mimetype == "text/html" and "Content-Disposition" not in response.headers
    return "same-origin" if is_page else "no-referrer"


def page_policy() -> str:
    """The app page's Content-Security-Policy. Remote images are allowed only on the inbox's pages:
    the message frame is a srcdoc iframe, which inherits this policy on top of its own (whose
    img-src allows them only for a message the user allows); every other page needs none."""
    images = "'self' data: https: http:" if request.blueprint == "inbox" else "'self' data:"
    return (f"default-src 'self'; img-src {images}; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-src 'self'; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _policy_headers(response):
    """Every response's: HSTS when the page came over HTTPS (with BEHIND_PROXY=1, as the proxy's
    X-Forwarded-Proto says); no sniffing, framing or referrer to other sites; the page's CSP; and
    nothing of a signed-in user's kept in a cache. A response that set one itself keeps its own."""
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", referrer_policy(response))
    response.headers.setdefault("Content-Security-Policy", page_policy())
    if g.get("user") is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def download(payload: bytes, content_type: str, filename: str, inline: bool) -> Response:
    """A message's part as a file (or, inline, an image for the sandboxed frame): under its own name,
    never sniffed, run as nothing and kept in no shared cache."""
    response = Response(payload, content_type=content_type)
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
    response.headers["Content-Disposition"] = (
        f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def retry_after(answer: tuple, seconds: int) -> tuple:
    """A throttled answer (body, status), saying when to try again."""
    return (*answer, {"Retry-After": str(seconds)})


def init_app(app: Flask) -> None:
    """Register after web.init_app (which loads the signed-in user) and before CSRFProtect (which
    parses the form), so that the size limit knows who is asking and holds before any parsing."""
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_IDLE_HOURS"])
    app.before_request(_limit_request_size)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.after_request(_policy_headers)
