"""Messages written straight into a Dovecot maildir, without IMAP.

For bulk loads (IMAP APPEND manages a few hundred messages a second) and for
messages APPEND refuses. Files go to tmp/ first and are renamed into cur/, as
maildir requires, so a Dovecot process looking at the folder never sees half a
file. Dovecot gives new files their UIDs in file name order on its next sync of
the folder; names start with the message's time, so UIDs follow the dates.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .dovecot import MAIL_UID

_sequence = itertools.count(1)  # unique within this process, across calls
# Maildir info flags by IMAP flag (the file name suffix after ":2,").
IMAP_TO_MAILDIR = {
    "\\Draft": "D",
    "\\Flagged": "F",
    "\\Answered": "R",
    "\\Seen": "S",
    "\\Deleted": "T",
}


@dataclass(frozen=True)
class MaildirMessage:
    message: bytes  # stored as given: LF or CRLF line ends both work
    time: float  # seconds since the epoch: file name, mtime, hence IMAP INTERNALDATE
    flags: str = ""  # maildir letters, e.g. "S" (seen) or "FS"


def maildir_flags(imap_flags: Iterable[str]) -> str:
    """IMAP system flags ("\\Seen", "\\Flagged", ...) as maildir letters ("FS")."""
    letters = set()
    for flag in imap_flags:
        if flag not in IMAP_TO_MAILDIR:
            raise ValueError(f"only system flags can be written to a maildir, not {flag!r}")
        letters.add(IMAP_TO_MAILDIR[flag])
    return "".join(sorted(letters))


def write_maildir(directory: Path, messages: Iterable[MaildirMessage]) -> int:
    """Write messages into the maildir `directory` (which has cur/ and tmp/); the count.

    Files belong to the mail user (65534) with mode 0600, as Dovecot's own do.
    Names are `<secs>.M<usecs>P<pid>Q<n>.<host>,S=<size>,W=<size with CRLF>:2,<flags>`;
    S and W let Dovecot answer RFC822.SIZE without opening the file.
    """
    tmp, cur = directory / "tmp", directory / "cur"
    if not cur.is_dir() or not tmp.is_dir():
        raise FileNotFoundError(f"{directory} is not a maildir (no cur/ and tmp/)")
    tmp_prefix, cur_prefix = f"{tmp}/", f"{cur}/"
    host = _host_part()
    pid = os.getpid()
    flags_open = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    count = 0
    for item in messages:
        data = item.message
        seconds = int(item.time)
        micros = int(round((item.time - seconds) * 1_000_000))
        if micros >= 1_000_000:
            seconds, micros = seconds + 1, micros - 1_000_000
        vsize = len(data) + data.count(b"\n") - data.count(b"\r\n")
        # Zero-padded, so string order and numeric order agree: equal times stay in
        # the order given, whichever way Dovecot compares the names.
        unique = f"M{micros:06d}P{pid}Q{next(_sequence):010d}"
        base = f"{seconds}.{unique}.{host},S={len(data)},W={vsize}"
        tmp_path = tmp_prefix + base
        fd = os.open(tmp_path, flags_open, 0o600)
        try:
            os.fchown(fd, MAIL_UID, MAIL_UID)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.utime(fd, (item.time, item.time))
        finally:
            os.close(fd)
        os.rename(tmp_path, f"{cur_prefix}{base}:2,{item.flags}")
        count += 1
    return count


def _host_part() -> str:
    """The host name as maildir file names carry it ("/" and ":" escaped)."""
    return socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"
