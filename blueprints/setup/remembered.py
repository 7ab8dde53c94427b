"""What Next found, kept in the signed session so that Log in need not search again."""

from __future__ import annotations

from flask import session

from mailcore.addresses import same_address
from mailcore.discovery.detect import Detection
from mailcore.discovery.providers import ProviderList
from mailcore.settings import AccountSettings, ServerSettings

_KEY = "detected"


def remember(address: str, found: Detection) -> None:
    settings = found.settings
    session[_KEY] = {
        "address": address, "source": found.source, "name": found.display_name, "pop3": found.pop3_only,
        "provider": found.provider.id if found.provider else None,
        "servers": [[s.host, s.port, s.ssl, s.username] for s in (settings.incoming, settings.outgoing)]
        if settings else None,
    }


def recall(address: str, providers: ProviderList) -> Detection | None:
    saved = session.get(_KEY)
    if not saved or not same_address(saved.get("address"), address):
        return None
    settings = None
    if saved["servers"]:
        incoming, outgoing = (ServerSettings(h, int(p), bool(t), u) for h, p, t, u in saved["servers"])
        settings = AccountSettings(saved["address"], incoming, outgoing)
    return Detection(settings, saved["source"], providers.by_id(saved["provider"]), saved["name"], saved["pop3"])


def forget() -> None:
    session.pop(_KEY, None)
