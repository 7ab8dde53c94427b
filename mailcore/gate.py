"""How many requests of one user may talk to the user's mail servers at once.

A request a person waits on holds a place while it runs; a user's requests past `per_user` are told to
wait (errors.ServerBusy) at once instead of queueing for a thread, so one user's slow server cannot
hold every thread of the web process and other users never notice. One gate per process: the web
server's threads share it."""

from __future__ import annotations

import threading
from collections import Counter


class RequestGate:
    def __init__(self, per_user: int):
        self.per_user = per_user
        self._held: Counter[int] = Counter()
        self._lock = threading.Lock()

    def enter(self, user_id: int) -> bool:
        """Take a place for the user's request; False when the user's places are all taken."""
        with self._lock:
            if self._held[user_id] >= self.per_user:
                return False
            self._held[user_id] += 1
            return True

    def leave(self, user_id: int) -> None:
        with self._lock:
            self._held[user_id] -= 1
            if self._held[user_id] <= 0:
                del self._held[user_id]

    def held(self, user_id: int) -> int:
        with self._lock:
            return self._held[user_id]
