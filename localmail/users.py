"""The lab's user table, shared by Dovecot (through a dict file) and the SMTP servers."""

from __future__ import annotations

import json
import os
import pwd
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

AuthOutcome = Literal["ok", "bad-credentials", "alert"]


@dataclass(frozen=True)
class User:
    password: str
    alert: str | None = None


class UserTable:
    """address -> User, mirrored into a Dovecot dict file on every change.

    Dovecot reads it through two dict passdbs: `alert/<address>` (alert users only,
    a correct password ends in a failure carrying `reason`) and `passdb/<address>`
    (everyone else). Why not passwd-file: it splits extra fields on spaces (no
    multi-word reason) and re-stats its file at most once per second, so a quick
    set_password() could be missed. The dict file is replaced atomically and
    Dovecot reopens it whenever the inode changes.
    """

    def __init__(self, dict_file: Path) -> None:
        self.dict_file = dict_file
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()
        self._write()

    def add(self, address: str, password: str, alert: str | None = None) -> None:
        with self._lock:
            self._users[address] = User(password, alert)
            self._write()

    def set_password(self, address: str, password: str) -> None:
        with self._lock:
            user = self._users[address]
            self._users[address] = User(password, user.alert)
            self._write()

    def get(self, address: str) -> User:
        with self._lock:
            return self._users[address]

    def check(self, address: str, password: str) -> tuple[AuthOutcome, str | None]:
        """Same decision Dovecot makes: wrong password first, then the alert."""
        with self._lock:
            user = self._users.get(address)
        if user is None or user.password != password:
            return "bad-credentials", None
        if user.alert is not None:
            return "alert", user.alert
        return "ok", None

    def _write(self) -> None:
        lines: list[str] = []
        for address, user in self._users.items():
            fields = {"password": "{PLAIN}" + user.password}
            if user.alert is None:
                key = f"shared/passdb/{address}"
            else:
                key = f"shared/alert/{address}"
                fields["reason"] = user.alert
            lines.append(_tab_escape(key))
            lines.append(json.dumps(fields))  # ASCII-only JSON: no tabs or newlines
        tmp = self.dict_file.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        dovecot = pwd.getpwnam("dovecot")
        # Dovecot's dict-file driver opens the file read-write, possibly as user dovecot.
        os.chown(tmp, dovecot.pw_uid, dovecot.pw_gid)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.dict_file)


def _tab_escape(text: str) -> str:
    """Dovecot's str_tabescape(), used by the dict-file format."""
    return (
        text.replace("\x01", "\x011")
        .replace("\t", "\x01t")
        .replace("\r", "\x01r")
        .replace("\n", "\x01n")
    )
