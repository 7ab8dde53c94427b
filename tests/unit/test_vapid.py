"""The installation's VAPID key (mailcore/notify.py): made once into the instance folder (mode 0600)
and read back the same, or given in the environment as PEM or as the raw private number."""

from __future__ import annotations

import base64
import stat

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mailcore.notify import vapid_key


def number(key) -> int:
    return key.private_numbers().private_value


def test_a_key_is_generated_once_into_the_instance_folder(tmp_path):
    path = tmp_path / "instance" / "vapid_private.pem"
    first = vapid_key(None, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert number(vapid_key(None, path)) == number(first)
    assert isinstance(first.curve, ec.SECP256R1)


def test_the_environment_gives_the_key_as_pem_or_raw(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    raw = base64.urlsafe_b64encode(number(key).to_bytes(32, "big")).rstrip(b"=").decode()
    for given in (pem, raw):
        assert number(vapid_key(given, tmp_path / "unused.pem")) == number(key)
    assert not (tmp_path / "unused.pem").exists()
