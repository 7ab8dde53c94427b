"""The installation's settings: one typed object with every default, read from the environment once."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import Config
from mailcore.config import DEFAULT_INSTANCE, SettingError, Settings


def test_an_empty_environment_gives_every_default():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.instance_path == DEFAULT_INSTANCE
    assert settings.database_url == f"sqlite:///{DEFAULT_INSTANCE / 'inkorg.db'}"
    assert (settings.mail_timeout, settings.mail_deadline, settings.mail_discovery_budget) == (15.0, 120.0, 8.0)
    assert (settings.sync_mode, settings.sync_workers, settings.watch_lease) == ("embedded", 2, 45.0)
    assert (settings.port, settings.host, settings.queue_url) == (5000, "127.0.0.1", "redis://127.0.0.1:6379/0")
    assert settings.mail_autoconfig_port is None and settings.mail_ca_bundle is None
    assert settings.behind_proxy is False and settings.session_cookie_secure is False


def test_the_environment_is_read_into_typed_values():
    settings = Settings.from_env({
        "INSTANCE_PATH": "/srv/inkorg", "MAIL_TIMEOUT": "2.5", "SYNC_WORKERS": "8", "BEHIND_PROXY": "1",
        "MAIL_AUTOCONFIG_PORT": "8443", "MAIL_CA_BUNDLE": "/etc/ca.pem", "SESSION_COOKIE_SECURE": "yes",
        "MAIL_DNS_SERVER": "", "UNRELATED": "x"})
    assert settings.instance_path == Path("/srv/inkorg")
    assert settings.database_url == "sqlite:////srv/inkorg/inkorg.db"  # follows the instance folder
    assert (settings.mail_timeout, settings.sync_workers, settings.mail_autoconfig_port) == (2.5, 8, 8443)
    assert settings.behind_proxy is True
    assert settings.session_cookie_secure is False  # only 1 turns a flag on, as before
    assert settings.mail_ca_bundle == Path("/etc/ca.pem")
    assert settings.mail_dns_server is None  # empty is unset


def test_a_flask_configuration_with_typed_values_reads_the_same():
    from_env = Settings.from_env({"MAIL_TIMEOUT": "3", "MAIL_AUTOCONFIG_PORT": "8443", "BEHIND_PROXY": "1"})
    from_dict = Settings.from_mapping({"MAIL_TIMEOUT": 3, "MAIL_AUTOCONFIG_PORT": 8443, "BEHIND_PROXY": True,
                                       "TESTING": True, "SECRET_KEY": None})
    assert from_dict == from_env
    assert Settings.from_mapping(from_env.as_config()) == from_env  # the app's configuration holds them all


def test_the_app_configuration_holds_every_setting_under_its_environment_name():
    config = Config({"MAIL_DEADLINE": "30", "EXTERNAL_URL": "https://crm.example"})
    settings = Settings.from_env({"MAIL_DEADLINE": "30", "EXTERNAL_URL": "https://crm.example"})
    for name, value in settings.as_config().items():
        assert getattr(config, name) == value, name
    assert config.INSTANCE_PATH == str(DEFAULT_INSTANCE)  # text, as Flask's instance_path wants it


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MAIL_TIMEOUT", "fast", "MAIL_TIMEOUT must be a number, not 'fast'"),
    ("MAIL_DEADLINE", "0", "MAIL_DEADLINE must be more than 0"),
    ("MAIL_DISCOVERY_BUDGET", "nan", "MAIL_DISCOVERY_BUDGET must be a finite number"),
    ("SYNC_WORKERS", "2.5", "SYNC_WORKERS must be a whole number, not '2.5'"),
    ("PORT", "70000", "PORT must be a port from 1 to 65535"),
    ("MAIL_AUTOCONFIG_PORT", "https", "MAIL_AUTOCONFIG_PORT must be a whole number"),
])
def test_a_bad_value_is_refused_with_the_setting_named(name, value, message):
    with pytest.raises(SettingError, match=message):
        Settings.from_env({name: value})
    with pytest.raises(ValueError, match=name):  # Config, and so create_app, stops on it
        Config({name: value})


def test_a_value_of_the_wrong_type_in_a_configuration_is_refused():
    with pytest.raises(SettingError, match="SYNC_WORKERS must be a whole number"):
        Settings.from_mapping({"SYNC_WORKERS": 2.0})
    with pytest.raises(SettingError, match="BEHIND_PROXY must be 1"):
        Settings.from_mapping({"BEHIND_PROXY": 1})


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().mail_timeout = 1.0  # type: ignore[misc]
