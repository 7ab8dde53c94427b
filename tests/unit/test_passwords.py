"""CRM passwords: the hash's cost is the installation's (PASSWORD_HASH, werkzeug's scrypt by
default), a user name nobody has is checked against a hash of that same cost, and `flask check`
warns of a cost below the default."""

from __future__ import annotations

import pytest

from mailcore import health
from mailcore.config import SettingError, Settings
from mailcore.passwords import DEFAULT_METHOD, _dummy, hash_password, password_matches, valid_method
from mailcore.services import authenticate
from tests.helpers import CHEAP_HASH, make_user


@pytest.mark.parametrize(("method", "valid"), [
    ("scrypt:32768:8:1", True), ("scrypt:128:8:1", True), ("scrypt:64:8:1", False),
    ("pbkdf2:sha256:600000", True), ("pbkdf2:sha512:1", True),
    ("scrypt:1000:8:1", False),  # N a power of two
    ("scrypt:1:8:1", False), ("scrypt:32768:0:1", False), ("scrypt:2097152:8:1", False),  # 1 GB of memory
    ("pbkdf2:md5:1000", False), ("pbkdf2:sha256:0", False), ("plain", False), ("scrypt", False), ("", False),
])
def test_the_methods_a_setting_may_name(method, valid):
    assert valid_method(method) is valid
    if valid:
        assert Settings.from_env({"PASSWORD_HASH": method}).password_hash == method
    elif method:
        with pytest.raises(SettingError, match="PASSWORD_HASH"):
            Settings.from_env({"PASSWORD_HASH": method})


def test_the_default_is_werkzeugs_scrypt_and_its_dummy_is_of_the_same_cost():
    assert Settings.from_env({}).password_hash == DEFAULT_METHOD == "scrypt:32768:8:1"
    assert _dummy(DEFAULT_METHOD).startswith("scrypt:32768:8:1$")
    assert _dummy(CHEAP_HASH).startswith(CHEAP_HASH + "$")  # an unknown user costs what a known one does
    assert password_matches(None, "anything", CHEAP_HASH) is False
    stored = hash_password("rätt lösenord", CHEAP_HASH)
    assert stored.startswith(CHEAP_HASH + "$")
    assert password_matches(stored, "rätt lösenord") and not password_matches(stored, "fel")


def test_a_user_is_created_and_signs_in_at_the_apps_cost(app, db):
    make_user(app, "kim@crm.example", password="long-enough-1")
    user = authenticate(db, "KIM@crm.example", "long-enough-1", CHEAP_HASH)
    assert user is not None and user.password_hash.startswith(CHEAP_HASH + "$")
    assert authenticate(db, "kim@crm.example", "wrong", CHEAP_HASH) is None
    assert authenticate(db, "nobody@crm.example", "long-enough-1", CHEAP_HASH) is None


@pytest.mark.parametrize(("method", "warned"), [(None, False), ("scrypt:65536:8:1", False), ("scrypt:16384:8:1", True),
                                                ("pbkdf2:sha256:600000", False), ("pbkdf2:sha256:1000", True)])
def test_check_warns_of_a_cheaper_hash_than_the_default(method, warned):
    findings = list(health._passwords({"PASSWORD_HASH": method}))
    assert [f.level for f in findings] == ([health.WARNING] if warned else [])
    if warned:
        assert method in findings[0].text and DEFAULT_METHOD in findings[0].text
