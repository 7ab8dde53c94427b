"""The installation's settings: every one, with its default, in one typed object.

`Settings.from_env(os.environ)` reads the environment once (the web app's `app.Config`, and through
it every CLI command and worker); `Settings.from_mapping(app.config)` reads the same names from a
Flask configuration or a test's dict, where values may already be typed. Each setting's environment
name is its field name in capitals (`mail_timeout` is `MAIL_TIMEOUT`); an empty value counts as
unset. A value that cannot be read stops the start with a message naming the setting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mailcore.passwords import DEFAULT_METHOD, valid_method
from mailcore.zones import is_zone

# embedded: threads in the web process; external: `flask sync worker` polls the database;
# queue: Dramatiq on Redis; inline: inside the request (tests)
SYNC_MODES = ("embedded", "external", "queue", "inline")
DEFAULT_INSTANCE = Path(__file__).resolve().parent.parent / "instance"


class SettingError(ValueError):
    """A setting whose value cannot be used; the message names the setting and what it takes."""


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SettingError(f"{name} must be text, not {value!r}")
    return value


def _whole(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SettingError(f"{name} must be a whole number, not {value!r}")
    try:
        return int(value)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, not {value!r}") from None


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SettingError(f"{name} must be a number, not {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise SettingError(f"{name} must be a number, not {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise SettingError(f"{name} must be a finite number, not {value!r}")
    return number


def _positive(read: Callable[[str, Any], float]) -> Callable[[str, Any], float]:
    def positive(name: str, value: Any) -> float:
        number = read(name, value)
        if number <= 0:
            raise SettingError(f"{name} must be more than 0, not {value!r}")
        return number
    return positive


def _port(name: str, value: Any) -> int:
    port = _whole(name, value)
    if not 0 < port < 65536:
        raise SettingError(f"{name} must be a port from 1 to 65535, not {value!r}")
    return port


def _flag(name: str, value: Any) -> bool:
    """`1` is on; anything else in the environment is off (as it always was); a dict may give a bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value == "1"
    raise SettingError(f"{name} must be 1 (on) or empty (off), not {value!r}")


def _path(name: str, value: Any) -> Path:
    if not isinstance(value, (str, Path)):
        raise SettingError(f"{name} must be a path, not {value!r}")
    return Path(value)


def _zone(name: str, value: Any) -> str:
    zone = _text(name, value)
    if not is_zone(zone):
        raise SettingError(f"{name} must be an IANA time zone such as Europe/Stockholm or UTC, not {value!r}")
    return zone


def _https_base(name: str, value: Any) -> str:
    """An https:// URL, or "" (off)."""
    url = _text(name, value).strip()
    if url and not url.startswith("https://"):
        raise SettingError(f"{name} must be an https:// URL, or empty to turn the lookup off, not {value!r}")
    return url


def _password_method(name: str, value: Any) -> str:
    method = _text(name, value)
    if not valid_method(method):
        raise SettingError(f"{name} must be scrypt:N:r:p (N a power of two, at least 128) or pbkdf2:sha256:iterations, "
                           f"not {value!r}")
    return method


def _setting(default: Any, read: Callable[[str, Any], Any], doc: str, empty_is_value: bool = False) -> Any:
    """empty_is_value: an empty value is the setting's value (for instance "off"), not its default."""
    return field(default=default, metadata={"read": read, "doc": doc, "empty": empty_is_value})


@dataclass(frozen=True)
class Settings:
    """Every setting of an installation; the README's configuration table says the same for operators."""

    instance_path: Path = _setting(DEFAULT_INSTANCE, _path,
                                   "where the generated keys and the SQLite database live")
    secret_key: str | None = _setting(None, _text, "signs sessions and CSRF tokens; None: generated into "
                                                   "the instance folder's secret_key")
    database_url: str = _setting("", _text, "any SQLAlchemy URL; empty: SQLite in the instance folder")
    host: str = _setting("127.0.0.1", _text, "the address the development and demo servers listen on")
    port: int = _setting(5000, _port, "the HTTP port of the development and demo servers")
    mail_ca_bundle: Path | None = _setting(None, _path, "PEM file of extra CA certificates for mail and "
                                                        "HTTPS servers; the system store is trusted too")
    mail_providers_file: Path | None = _setting(None, _path, "extra provider entries (providers.json's format)")
    mail_allowed_networks: str = _setting("", _text, "CIDRs, comma-separated, allowed besides public addresses")
    mail_allowed_ports: str = _setting("", _text, "ports allowed besides the mail ports and the providers'")
    mail_encryption_key: str | None = _setting(None, _text, "the key sealing mail passwords and tokens; None: "
                                                            "generated into the instance folder's mail.key")
    mail_timeout: float = _setting(15.0, _positive(_number), "seconds for each connection step to a server")
    mail_deadline: float = _setting(120.0, _positive(_number), "seconds a mail server has to finish each answer")
    mail_request_budget: float = _setting(20.0, _positive(_number), "seconds a request a person waits on (opening "
                                                                    "a message, Save, Send) may spend with the "
                                                                    "mail servers in all")
    mail_requests_per_user: int = _setting(3, _positive(_whole), "such requests of one user that may talk to "
                                                                 "the user's servers at once; more are told to wait")
    mail_dns_server: str | None = _setting(None, _text, "host:port of the DNS server; None: the system's")
    mail_autoconfig_port: int | None = _setting(None, _port, "the HTTPS port of autoconfig documents; None: 443")
    mail_ispdb_url: str = _setting("https://autoconfig.thunderbird.net/v1.1/", _https_base,
                                   "the central ISPDB asked for a domain's settings (only the domain is sent); "
                                   "empty: never asked", empty_is_value=True)
    mail_discovery_budget: float = _setting(8.0, _positive(_number), "seconds one discovery may take in all")
    mail_discoveries_per_minute: int = _setting(6, _whole, "discoveries a user may start in a minute")
    mail_tests_per_5_minutes: int = _setting(10, _whole, "connection tests a user may start in five minutes")
    system_mail_url: str | None = _setting(None, _text, "the installation's own sender: smtps:// or smtp:// URL")
    system_mail_from: str | None = _setting(None, _text, "From of system mail; None: the URL's user name")
    verification_link_hours: float = _setting(24.0, _positive(_number), "how long a verification link works")
    sync_mode: str = _setting("embedded", _text, "where syncs run: one of SYNC_MODES (`flask check` "
                                                 "reports any other)")
    sync_workers: int = _setting(2, _whole, "sync threads of the embedded mode and of `flask sync worker`")
    search_index_per_sync: int = _setting(500, _whole, "bodies a sync pass fetches for the search index (newest "
                                                       "first); 0: no search index (search reads the list's "
                                                       "fields and asks the server)")
    queue_url: str = _setting("redis://127.0.0.1:6379/0", _text, "the Redis that carries sync jobs in queue mode")
    watch_lease: float = _setting(45.0, _positive(_number), "seconds a watcher's hold on an account lasts "
                                                            "unless renewed")
    behind_proxy: bool = _setting(False, _flag, "trust one reverse proxy's X-Forwarded-For/-Proto/-Host")
    external_url: str | None = _setting(None, _text, "how browsers reach the app: OAuth redirects, mailed links")
    oauth_microsoft_client_id: str | None = _setting(None, _text, "the app's registration at Microsoft Entra ID")
    oauth_microsoft_client_secret: str | None = _setting(None, _text, "its secret")
    oauth_microsoft_tenant: str | None = _setting(None, _text, "the Entra tenant; None: common")
    oauth_google_client_id: str | None = _setting(None, _text, "the app's OAuth client at Google Cloud")
    oauth_google_client_secret: str | None = _setting(None, _text, "its secret")
    oauth_refresh_margin: float = _setting(120.0, _number, "seconds before expiry an access token is refreshed")
    session_cookie_secure: bool = _setting(False, _flag, "force the session cookie's Secure flag (it is set "
                                                         "anyway over HTTPS)")
    session_idle_hours: float = _setting(12.0, _positive(_number), "a session unused this long ends")
    session_max_days: float = _setting(14.0, _positive(_number), "a session ends this long after sign-in")
    signin_failures_per_account: int = _setting(5, _whole, "failed CRM sign-ins per user name in the window")
    signin_failures_per_address: int = _setting(20, _whole, "failed CRM sign-ins per client address in the window")
    compose_windows_per_user: int = _setting(20, _positive(_whole), "compose windows one user may have open "
                                                                     "(unsent, kept a day)")
    upload_quota_mb: float = _setting(100.0, _positive(_number), "megabytes of unsent attachments one user may "
                                                                 "keep, all compose windows together")
    default_timezone: str = _setting("UTC", _zone, "the time zone dates are shown in for a user who has "
                                                   "chosen none and whose browser has not said its own")
    signin_first_delay_seconds: float = _setting(30.0, _positive(_number), "the first wait past the failures "
                                                                           "allowed per user name; each next "
                                                                           "one is twice as long")
    password_hash: str = _setting(DEFAULT_METHOD, _password_method, "how CRM passwords are hashed (werkzeug's "
                                  "method: scrypt:N:r:p or pbkdf2:sha256:iterations); `flask check` warns of a "
                                  "weaker one than the default")
    signin_window_minutes: float = _setting(15.0, _positive(_number), "the window of the two sign-in limits")
    notifications: bool = _setting(True, _flag, "desktop notifications of new mail (in open tabs and Web "
                                                "Push); 0 switches them off for every user")
    vapid_private_key: str | None = _setting(None, _text, "the Web Push signing key (PEM, or the raw P-256 "
                                                          "key in base64url); None: generated into the "
                                                          "instance folder's vapid_private.pem")
    vapid_subject: str | None = _setting(None, _text, "the contact push services are given (mailto: or "
                                                      "https: URL); None: EXTERNAL_URL, else the system "
                                                      "mail sender")

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.instance_path / 'inkorg.db'}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """The settings from environment variables (text); what is unset or empty keeps its default."""
        return cls._read(environ)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> Settings:
        """The settings from a Flask configuration or a dict: the same names, values text or already typed;
        other keys are ignored."""
        return cls._read(config)

    @classmethod
    def _read(cls, source: Mapping[str, Any]) -> Settings:
        found = {}
        for item in fields(cls):
            value = source.get(item.name.upper())
            if value is None or (value == "" and not item.metadata.get("empty")):
                continue
            found[item.name] = item.metadata["read"](item.name.upper(), value)
        return cls(**found)

    def as_config(self) -> dict[str, Any]:
        """The settings under their environment names, as the Flask configuration holds them (paths as text)."""
        return {name.upper(): str(value) if isinstance(value, Path) else value
                for name, value in asdict(self).items()}
