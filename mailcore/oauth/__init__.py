"""Connecting a mail account by authorising at its provider (OAuth 2.0 / OpenID Connect): the
provider clients and the authorization code flow (`client`), the authorisations under way
(`authorization`), and the tokens at rest and in use (`tokens`)."""
