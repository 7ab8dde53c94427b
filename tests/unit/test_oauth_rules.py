"""The OAuth rules that need no server: client registrations from the settings, the provider entries,
discovery documents, and every check of the id_token (signed here with keys made for the test)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from mailcore.connect import MailEnvironment
from mailcore.discovery.providers import ProviderList
from mailcore.netpolicy import NetworkPolicy
from mailcore.oauth import client as oauth

ISSUER = "https://id.example.com/realms/mail"
MS_ISSUER = "https://login.microsoftonline.com/{tenantid}/v2.0"


def registry(config: dict | None = None) -> oauth.OAuthRegistry:
    env = MailEnvironment(NetworkPolicy(lookup=lambda host: []))  # nothing is reachable from here
    return oauth.OAuthRegistry(ProviderList.load(), oauth.registrations_from(config or {}), env)


def test_microsoft_and_google_come_from_the_settings_with_the_issues_scopes():
    reg = registry({"OAUTH_MICROSOFT_CLIENT_ID": "m-id", "OAUTH_MICROSOFT_CLIENT_SECRET": "m-secret",
                    "OAUTH_MICROSOFT_TENANT": "contoso.onmicrosoft.com", "OAUTH_GOOGLE_CLIENT_ID": "g-id"})
    microsoft = reg.client_for(reg.providers.by_id("microsoft365"))
    assert microsoft.issuer == "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
    assert microsoft.scope == ("https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send "
                               "offline_access openid email")
    assert (microsoft.client_id, microsoft.client_secret, microsoft.label) == ("m-id", "m-secret", "Microsoft")
    assert reg.client_for(reg.providers.by_id("outlook")).client_id == "m-id"
    google = reg.client_for(reg.providers.by_id("gmail"))
    assert google.issuer == "https://accounts.google.com" and google.scope == "https://mail.google.com/ openid email"
    assert dict(google.authorize_params) == {"access_type": "offline", "prompt": "consent"}
    assert google.client_secret is None  # a public client: PKCE alone


def test_the_default_tenant_is_common_and_a_missing_client_is_said():
    reg = registry({"OAUTH_MICROSOFT_CLIENT_ID": "m-id"})
    assert reg.client_for(reg.providers.by_id("outlook")).issuer == "https://login.microsoftonline.com/common/v2.0"
    with pytest.raises(oauth.NotConfigured) as missing:
        reg.client_for(reg.providers.by_id("gmail"))
    assert missing.value.settings == ("OAUTH_GOOGLE_CLIENT_ID", "OAUTH_GOOGLE_CLIENT_SECRET")
    with pytest.raises(ValueError):
        oauth.registrations_from({"OAUTH_MICROSOFT_TENANT": "evil/../x"})


def test_a_company_domain_on_microsoft_365_is_served_by_its_hosts():
    reg = registry()
    found = reg.for_servers(None, ("outlook.office365.com", "smtp.office365.com"))
    assert found is not None and found.oauth2.client == "microsoft"
    assert reg.for_servers(None, ("imap.example.org", "smtp.example.org")) is None


def test_an_operators_entry_carries_its_own_client(tmp_path: Path):
    path = tmp_path / "providers.json"
    path.write_text('{"version": 1, "providers": [{"id": "acme", "name": "Acme Mail", "domains": ["acme.example"],'
                    '"incoming": {"host": "imap.acme.example", "port": 993, "ssl": true},'
                    '"outgoing": {"host": "smtp.acme.example", "port": 465, "ssl": true},'
                    '"oauth2": {"issuer": "https://id.acme.example/realms/mail", "client_id": "inkorg",'
                    '"scopes": ["openid", "email", "offline_access"]}}]}')
    providers = ProviderList.load(path)
    client = oauth.OAuthRegistry(providers, {}, MailEnvironment(NetworkPolicy())).client_for(providers.by_id("acme"))
    assert (client.issuer, client.client_id, client.client_secret, client.label) == (
        "https://id.acme.example/realms/mail", "inkorg", None, "Acme Mail")
    path.write_text(path.read_text().replace('"https://id.acme', '"http://id.acme'))
    with pytest.raises(ValueError, match="https issuer"):
        ProviderList.load(path)


@pytest.mark.parametrize("metadata, fine", [
    ({"issuer": ISSUER, "authorization_endpoint": ISSUER + "/auth", "token_endpoint": ISSUER + "/token",
      "jwks_uri": ISSUER + "/jwks"}, True),
    ({"issuer": "https://other.example.com", "authorization_endpoint": ISSUER + "/auth",
      "token_endpoint": ISSUER + "/token", "jwks_uri": ISSUER + "/jwks"}, False),
    ({"issuer": ISSUER, "authorization_endpoint": ISSUER + "/auth", "token_endpoint": "http://id.example.com/token",
      "jwks_uri": ISSUER + "/jwks"}, False),
    ({"issuer": ISSUER, "authorization_endpoint": "http://127.0.0.1:8080/auth", "token_endpoint": ISSUER + "/token",
      "jwks_uri": ISSUER + "/jwks"}, True),  # only a browser on this machine goes there
    ({"issuer": ISSUER, "authorization_endpoint": "http://id.example.com/auth", "token_endpoint": ISSUER + "/token",
      "jwks_uri": ISSUER + "/jwks"}, False),
])
def test_discovery_documents_must_name_their_issuer_and_use_https(metadata, fine):
    if fine:
        oauth._check_metadata(ISSUER, metadata)
    else:
        with pytest.raises(oauth.ProviderSigninRefused):
            oauth._check_metadata(ISSUER, metadata)


def test_microsofts_multi_tenant_document_names_any_tenant():
    oauth._check_metadata("https://login.microsoftonline.com/common/v2.0", {
        "issuer": MS_ISSUER, "authorization_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        "token_endpoint": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "jwks_uri": "https://login.microsoftonline.com/common/discovery/v2.0/keys"})


# --- the id_token ---------------------------------------------------------------------------------

KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
ROGUE = RSAKey.generate_key(2048, parameters={"kid": "k1"})
CLIENT = oauth.OAuthClient("acme", "Acme", ISSUER, "inkorg", None, ("openid", "email"))


def issued(issuer: str = ISSUER) -> oauth.OAuthRegistry:
    reg = registry()
    metadata = {"issuer": issuer, "authorization_endpoint": ISSUER + "/auth", "token_endpoint": ISSUER + "/token",
                "jwks_uri": ISSUER + "/jwks", "id_token_signing_alg_values_supported": ["RS256"]}
    reg._cache[CLIENT.issuer] = oauth._Cached(metadata, KeySet([KEY]).as_dict(private=False), time.monotonic())
    reg._get_json = lambda url: KeySet([KEY]).as_dict(private=False)  # a fetch of the keys finds the same
    return reg


def token(key=KEY, **changes) -> dict:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "inkorg", "sub": "u1", "iat": now, "exp": now + 300, "nonce": "n-1",
              "email": "anna@acme.example", "email_verified": True}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return {"access_token": "at-1", "id_token": jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)}


def test_a_good_id_token_gives_the_address():
    claims = oauth.verify_id_token(issued(), CLIENT, token(), "n-1")
    assert oauth.identity_of(claims) == "anna@acme.example"


@pytest.mark.parametrize("bad", [
    {"key": ROGUE}, {"aud": "someone-else"}, {"iss": "https://evil.example.com"}, {"nonce": "n-2"},
    {"nonce": None}, {"exp": int(time.time()) - 600}, {"iat": None},
])
def test_a_bad_id_token_is_refused(bad):
    key = bad.pop("key", KEY)
    with pytest.raises(oauth.ProviderSigninRefused) as refused:
        oauth.verify_id_token(issued(), CLIENT, token(key, **bad), "n-1")
    assert refused.value.reason == "id-token"


def test_microsoft_id_tokens_name_their_own_tenant():
    tid = "9188040d-6c67-4c5b-b112-36a304b66dad"
    reg = issued(MS_ISSUER)
    good = token(iss=f"https://login.microsoftonline.com/{tid}/v2.0", tid=tid, email=None,
                 preferred_username="kim@outlook.com")
    assert oauth.identity_of(oauth.verify_id_token(reg, CLIENT, good, "n-1")) == "kim@outlook.com"
    other = token(iss="https://login.microsoftonline.com/another-tenant/v2.0", tid=tid)
    with pytest.raises(oauth.ProviderSigninRefused):
        oauth.verify_id_token(reg, CLIENT, other, "n-1")


def test_an_unverified_email_is_not_the_identity():
    """Where the provider says the email is not verified, neither it nor preferred_username names the user."""
    assert oauth.identity_of({"email": "x@evil.example", "email_verified": False,
                              "preferred_username": "kim@acme.example"}) == ""
    assert oauth.identity_of({"preferred_username": "not-an-address"}) == ""
    assert oauth.identity_of({"preferred_username": "kim@acme.example"}) == "kim@acme.example"
    assert not oauth.identity_verified({"preferred_username": "kim@acme.example"})
    assert not oauth.identity_verified({"email": "kim@acme.example"})  # not said to be verified
    assert oauth.identity_verified({"email": "kim@acme.example", "email_verified": True})


def test_a_microsoft_email_counts_only_with_xms_edov_or_for_one_tenant():
    """Any Entra tenant's administrator can set any email on a user: it names the user only where the
    domain's owner vouches for it (xms_edov) or the registration admits one tenant; else the sign-in name."""
    claims = {"email": "ceo@victim.example", "preferred_username": "mallory@evil.onmicrosoft.com"}
    common, _ = oauth.microsoft_registration("https://login.microsoftonline.com/common/v2.0")
    assert (common, _) == (True, False)
    assert oauth.identity_of(claims, microsoft=True) == "mallory@evil.onmicrosoft.com"
    assert not oauth.identity_verified(claims, microsoft=True)
    assert oauth.identity_of({**claims, "xms_edov": True}, microsoft=True) == "ceo@victim.example"
    assert oauth.identity_verified({**claims, "xms_edov": True}, microsoft=True)
    assert oauth.microsoft_registration("https://login.microsoftonline.com/contoso.example/v2.0") == (True, True)
    assert oauth.identity_of(claims, microsoft=True, single_tenant=True) == "ceo@victim.example"
    assert oauth.microsoft_registration("https://accounts.google.com") == (False, False)


def test_the_issuer_is_reached_only_where_the_network_rule_allows():
    reg = registry()
    with pytest.raises(oauth.ProviderSigninRefused) as refused:
        reg.metadata(CLIENT)  # the lookup finds no address: nothing is connected to
    assert refused.value.reason == "unreachable" and "HostNotFound" in refused.value.detail
    env = MailEnvironment(NetworkPolicy(lookup=lambda host: ["10.1.2.3"]))
    private = oauth.OAuthRegistry(ProviderList.load(), {}, env)
    with pytest.raises(oauth.ProviderSigninRefused) as refused:
        private.metadata(CLIENT)
    assert "HostNotAllowed" in refused.value.detail
