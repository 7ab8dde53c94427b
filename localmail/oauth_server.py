"""An OAuth 2.0 / OpenID Connect authorization server on loopback, built from Authlib's server parts.

    issuer = LocalIssuer()                        # plain HTTP listener: introspection for Dovecot/SMTP
    lab = MailLab.start(workdir, oauth_introspection_url=issuer.introspection_url)
    issuer.serve_https(lab.tls_files)             # the issuer proper, with a certificate from the lab CA
    issuer.add_client("inkorg", "secret")         # redirect URIs: any loopback .../inbox/oauth/callback
    issuer.add_user("anna@inkorg.test", "pw")     # who may sign in on its sign-in page
    issuer.issuer                                 # https://localhost:<port>/realms/mail

It has what a real provider has: discovery (`/.well-known/openid-configuration`), a sign-in and
consent page a browser fills in, the authorization code grant with PKCE (S256, required) and an
OpenID Connect id_token (RS256, with nonce), refresh tokens (rotated on every use, as Microsoft
does), a JWKS, and token introspection (RFC 7662). Lifetimes are settable so a test can watch a
token expire. Introspection on the plain listener trusts its caller (a mail server on this
machine), as a resource server on a private network would be; on HTTPS it wants client auth.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

from .certs import TlsFiles

REALM = "/realms/mail"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass  # a line per request on stderr helps nobody in a test run
CALLBACK_PATH = "/inbox/oauth/callback"


@dataclass
class IssuerUser:
    email: str
    password: str = field(repr=False)
    sub: str = field(default_factory=lambda: secrets.token_hex(8))
    email_verified: bool | None = True  # None: the id_token says nothing about it

    def get_user_id(self) -> str:
        return self.sub


@dataclass
class IssuerClient(ClientMixin):
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    redirect_uris: tuple[str, ...] = ()  # empty: any loopback http(s) URI ending in CALLBACK_PATH

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        if self.redirect_uris:
            return redirect_uri in self.redirect_uris
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and _loopback(parts.hostname or "") and parts.path == CALLBACK_PATH

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none" if self.client_secret is None else method in ("client_secret_basic",
                                                                              "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class IssuedCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: IssuerUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


@dataclass
class IssuedToken(TokenMixin):
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    client_id: str
    scope: str
    user: IssuerUser
    lifetime: int  # the real one; the token response may claim another (advertised_lifetime)
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False  # the access token
    refresh_spent: bool = False  # the refresh token (rotated away, or revoked)

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.lifetime

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.lifetime

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> IssuerUser:
        return self.user

    def get_client(self):
        return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LocalIssuer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.access_lifetime = 3600
        self.advertised_lifetime: int | None = None  # what expires_in says, when it should lie
        self.rotate_refresh_tokens = True
        self.browser_over_http = False  # the demo: a browser that does not trust the lab CA
        self.users: dict[str, IssuerUser] = {}
        self.clients: dict[str, IssuerClient] = {}
        self.codes: dict[str, IssuedCode] = {}
        self.tokens: list[IssuedToken] = []
        self.token_requests: list[tuple[str, str]] = []  # (grant_type, "ok" or the error)
        self.introspections: list[tuple[str, bool]] = []  # (user or "", active)
        self.lock = threading.RLock()
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4), "use": "sig", "alg": "RS256"})
        self.app = self._make_app()
        self._servers = []
        self._http = self._serve(None)
        self.http_port = self._http.server_port
        self.https_port: int | None = None
        self.issuer = ""

    # --- listeners -------------------------------------------------------------------------------

    def _serve(self, ssl_context):
        server = make_server(self.host, 0, self.app, threaded=True, ssl_context=ssl_context,
                             request_handler=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, name="localmail-issuer", daemon=True)
        thread.start()
        self._servers.append((server, thread))
        return server

    def serve_https(self, tls: TlsFiles, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> str:
        """Start the HTTPS listener with a certificate from `tls`'s CA; the issuer URL."""
        cert = tls.issue(list(names), stem="issuer")
        server = self._serve(cert.server_context())
        self.https_port = server.server_port
        self.issuer = f"https://{names[0]}:{self.https_port}{REALM}"
        return self.issuer

    @property
    def introspection_url(self) -> str:
        """Where a mail server on this machine asks about a token (plain HTTP, as Dovecot's passdb does)."""
        return f"http://{self.host}:{self.http_port}{REALM}/introspect"

    @property
    def browser_base(self) -> str:
        return f"http://{self.host}:{self.http_port}" if self.browser_over_http else self.issuer.removesuffix(REALM)

    def stop(self) -> None:
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._servers = []

    # --- what a test sets up and observes --------------------------------------------------------

    def add_user(self, email: str, password: str) -> IssuerUser:
        with self.lock:
            self.users[email.lower()] = IssuerUser(email, password)
            return self.users[email.lower()]

    def add_client(self, client_id: str, client_secret: str | None = None,
                   redirect_uris: tuple[str, ...] = ()) -> IssuerClient:
        with self.lock:
            self.clients[client_id] = IssuerClient(client_id, client_secret, tuple(redirect_uris))
            return self.clients[client_id]

    def revoke(self, email: str) -> None:
        """Every token of this user stops working, as when consent is withdrawn or the password changed."""
        with self.lock:
            for token in self.tokens:
                if token.user.email.lower() == email.lower():
                    token.revoked = token.refresh_spent = True

    def expire_access_tokens(self, email: str) -> None:
        """The user's access tokens stop working now (their refresh tokens still do)."""
        with self.lock:
            for token in self.tokens:
                if token.user.email.lower() == email.lower():
                    token.revoked = True

    def grants_of(self, kind: str) -> list[tuple[str, str]]:
        return [entry for entry in self.token_requests if entry[0] == kind]

    def check_token(self, token: str) -> dict:
        """The introspection answer for an access token (what a resource server gets)."""
        with self.lock:
            found = next((t for t in self.tokens if secrets.compare_digest(t.access_token, token)), None)
            if found is None or found.is_expired() or found.is_revoked():
                self.introspections.append((found.user.email if found else "", False))
                return {"active": False}
            self.introspections.append((found.user.email, True))
            return {"active": True, "email": found.user.email, "username": found.user.email, "sub": found.user.sub,
                    "client_id": found.client_id, "scope": found.scope, "token_type": "Bearer",
                    "iat": int(found.issued_at), "exp": int(found.issued_at + found.lifetime), "iss": self.issuer}

    # --- the Flask app ---------------------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask("localmail-issuer")
        app.config["SECRET_KEY"] = secrets.token_hex(16)
        server = AuthorizationServer(app, query_client=lambda cid: self.clients.get(cid), save_token=self._save_token)
        server.register_token_generator("default", BearerTokenGenerator(
            lambda **_: secrets.token_urlsafe(32), lambda **_: secrets.token_urlsafe(40),
            lambda client, grant_type: self.advertised_lifetime or self.access_lifetime))
        issuer = self
        server.register_grant(_code_grant(issuer), [CodeChallenge(required=True), _openid(issuer)])
        server.register_grant(_refresh_grant(issuer))
        server.register_endpoint(_introspection(issuer))
        self.server = server

        @app.get(f"{REALM}/.well-known/openid-configuration")
        def discovery():
            return jsonify(self._discovery())

        @app.get(f"{REALM}/jwks")
        def jwks():
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.route(f"{REALM}/authorize", methods=["GET", "POST"])
        def authorize():
            return self._authorize()

        @app.post(f"{REALM}/token")
        def token():
            response = server.create_token_response()
            grant_type = request.form.get("grant_type", "")
            outcome = "ok" if response.status_code == 200 else (response.get_json(silent=True) or {}).get("error", "")
            with self.lock:
                self.token_requests.append((grant_type, outcome))
            return response

        @app.post(f"{REALM}/introspect")
        def introspect():
            if request.scheme == "http" and _loopback(request.remote_addr or ""):
                return jsonify(self.check_token(request.form.get("token", "")))  # a mail server on this machine
            return server.create_endpoint_response("introspection")

        return app

    def _discovery(self) -> dict:
        base = self.issuer
        return {
            "issuer": base, "authorization_endpoint": f"{self.browser_base}{REALM}/authorize",
            "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/jwks",
            "introspection_endpoint": f"{base}/introspect",
            "response_types_supported": ["code"], "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"], "scopes_supported": ["openid", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        }

    def _save_token(self, token: dict, oauth_request) -> None:
        with self.lock:
            self.tokens.append(IssuedToken(token["access_token"], token.get("refresh_token"),
                                           oauth_request.client.client_id, token.get("scope", ""),
                                           oauth_request.user, self.access_lifetime))

    def _authorize(self):
        try:
            grant = self.server.get_consent_grant(end_user=None)
        except OAuth2Error as exc:
            return _page("Sign-in refused", f"<p>{escape(exc.error)}: {escape(exc.description or '')}</p>"), 400
        if request.method == "GET":
            return _sign_in_page(grant.client.client_id, request.args.get("login_hint", ""), "")
        if request.form.get("decision") != "allow":
            return self.server.create_authorization_response(grant_user=None, grant=grant)
        with self.lock:
            user = self.users.get(request.form.get("email", "").strip().lower())
        if user is None or not secrets.compare_digest(user.password, request.form.get("password", "")):
            return _sign_in_page(grant.client.client_id, request.form.get("email", ""),
                                 "That email address or password is not right."), 200
        return self.server.create_authorization_response(grant_user=user, grant=grant)


# --- Authlib's parts, bound to one issuer ----------------------------------------------------------


def _code_grant(issuer: LocalIssuer):
    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        def save_authorization_code(self, code, oauth_request):
            payload = oauth_request.payload
            issued = IssuedCode(code, oauth_request.client.client_id, payload.redirect_uri, payload.scope,
                                oauth_request.user, payload.data.get("nonce"), payload.data.get("code_challenge"),
                                payload.data.get("code_challenge_method"))
            with issuer.lock:
                issuer.codes[code] = issued

        def query_authorization_code(self, code, client):
            with issuer.lock:
                found = issuer.codes.get(code)
            if found and found.client_id == client.client_id and time.time() - found.auth_time < 600:
                return found
            return None

        def delete_authorization_code(self, authorization_code):
            with issuer.lock:
                issuer.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    return CodeGrant


def _refresh_grant(issuer: LocalIssuer):
    class RefreshGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

        @property
        def INCLUDE_NEW_REFRESH_TOKEN(self):
            return issuer.rotate_refresh_tokens

        def authenticate_refresh_token(self, refresh_token):
            with issuer.lock:
                return next((t for t in issuer.tokens if t.refresh_token and not t.refresh_spent
                             and secrets.compare_digest(t.refresh_token, refresh_token)), None)

        def authenticate_user(self, refresh_token):
            return refresh_token.user

        def revoke_old_credential(self, refresh_token):
            if issuer.rotate_refresh_tokens:
                with issuer.lock:
                    refresh_token.refresh_spent = True

    return RefreshGrant


def _openid(issuer: LocalIssuer):
    class Code(OpenIDCode):
        def exists_nonce(self, nonce, oauth_request):
            with issuer.lock:
                return any(code.nonce == nonce for code in issuer.codes.values())

        def resolve_client_private_key(self, client):
            return issuer.key

        def get_client_algorithm(self, client):
            return "RS256"

        def get_encode_header(self, client):
            return {"alg": "RS256", "kid": issuer.key.kid}

        def get_client_claims(self, client):
            return {"iss": issuer.issuer, "aud": [client.get_client_id()], "exp": int(time.time()) + 600}

        def generate_user_info(self, user, scope):
            info = UserInfo(sub=user.sub, email=user.email, preferred_username=user.email)
            if user.email_verified is not None:
                info["email_verified"] = user.email_verified
            return info

    return Code(require_nonce=True)


def _introspection(issuer: LocalIssuer):
    class Introspection(IntrospectionEndpoint):
        CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def query_token(self, token_string, token_type_hint):
            with issuer.lock:
                return next((t for t in issuer.tokens if secrets.compare_digest(t.access_token, token_string)), None)

        def check_permission(self, token, client, oauth_request):
            return True

        def introspect_token(self, token):
            return issuer.check_token(token.access_token)

    return Introspection


_STYLE = ("body{font-family:system-ui,sans-serif;background:#eef1f5;margin:0}main{max-width:380px;margin:8vh auto;"
          "background:#fff;padding:2rem;border-radius:8px;box-shadow:0 2px 12px #0002}label{display:block;"
          "margin:.8rem 0 .2rem}input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}"
          ".error{color:#a00}.buttons{display:flex;gap:.5rem;margin-top:1.2rem}button{padding:.55rem 1rem;"
          "font-size:1rem}button[value=allow]{background:#2256a8;color:#fff;border:0;border-radius:4px}")


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>")


def _sign_in_page(client_id: str, email: str, error: str) -> str:
    """The local issuer's own sign-in and consent page (English only: it stands for a provider's)."""
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _page("Local sign-in", f"""
<h1>Local sign-in</h1>
<p><strong>{escape(client_id)}</strong> wants to read and send your email.</p>{problem}
<form method="post">
  <label for="email">Email address</label>
  <input id="email" name="email" type="email" value="{escape(email)}" autocomplete="username" required>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" autofocus>
  <div class="buttons"><button type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny" formnovalidate>Deny</button></div>
</form>""")
