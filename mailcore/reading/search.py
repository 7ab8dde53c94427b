"""Searching in the text of messages whose text is not stored here yet: the server's own SEARCH.

Bodies are fetched when a message is first opened, so for the rest only the server can look inside.
Its answer is kept briefly per folder version, so paging and refreshing do not ask again."""

from __future__ import annotations

import threading
import time

from mailcore import errors
from mailcore.account import MailAccount
from mailcore.models import Folder

MAX_MATCHES = 2000
KEEP_SECONDS = 60.0
_answers: dict[tuple[int, int, str], tuple[float, frozenset[int]]] = {}
_lock = threading.Lock()


def server_matches(mail: MailAccount, folder: Folder, texts: list[str]) -> frozenset[int]:
    """UIDs of the folder's messages whose text contains each of `texts`, as the server finds them;
    none when the server cannot be asked (the search then covers what is stored here)."""
    texts = [" ".join(t.split()) for t in texts if len(t.strip()) >= 2]
    if not texts or not folder.selectable:
        return frozenset()
    key = (folder.id, folder.version, "\x00".join(texts).lower())
    with _lock:
        kept = _answers.get(key)
        if kept and time.monotonic() - kept[0] < KEEP_SECONDS:
            return kept[1]
    try:
        with mail.imap() as client:
            client.select_folder(folder.name, readonly=True)
            found = client.search([item for t in texts for item in ("BODY", t)], charset="UTF-8")
    except errors.MailError:  # mail.imap() turns protocol and socket failures into MailError
        return frozenset()
    answer = frozenset(sorted(found, reverse=True)[:MAX_MATCHES])
    with _lock:
        if len(_answers) > 500:
            _answers.clear()
        _answers[key] = (time.monotonic(), answer)
    return answer
