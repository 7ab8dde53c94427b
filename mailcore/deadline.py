"""Wall-clock deadlines, the one way: a point in monotonic time by which an exchange with a server
must be done, however slowly the server trickles its answer.

A socket timeout bounds each read only; a server sending a byte a second would keep every read
alive for ever. So every reader here either bounds each read by what is left (`remaining`), or
has the socket shut down when the deadline passes (`Deadline.cutoff`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


def remaining(at: float, least: float = 0.0) -> float:
    """Seconds left until the monotonic time `at`, at least `least`."""
    return max(least, at - time.monotonic())


class Deadline:
    """`seconds` from now (or from `rearm`), as a monotonic time `at`, never later than `cap` (the
    monotonic time by which a whole request must be done, when there is one)."""

    def __init__(self, seconds: float, cap: float | None = None):
        self.seconds = seconds
        self.cap = cap
        self.at = self._capped(time.monotonic() + seconds)

    def _capped(self, at: float) -> float:
        return at if self.cap is None else min(at, self.cap)

    @classmethod
    def until(cls, at: float) -> Deadline:
        """The deadline at the monotonic time `at`."""
        deadline = cls(0.0)
        deadline.at = at
        deadline.seconds = at - time.monotonic()
        return deadline

    def rearm(self, seconds: float | None = None) -> None:
        """Start again: `seconds` (else the first length) from now."""
        self.at = self._capped(time.monotonic() + (self.seconds if seconds is None else seconds))

    def remaining(self, least: float = 0.0) -> float:
        return remaining(self.at, least)

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.at

    @contextmanager
    def cutoff(self) -> Iterator[Cutoff]:
        """While the block runs, the sockets given to the Cutoff's `watch` are shut down at the deadline."""
        cut = Cutoff(self)
        try:
            yield cut
        finally:
            cut.stop()


def _shut(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown, also for an SSLSocket: no TLS goodbye, just the end
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class Cutoff:
    """Shuts the watched sockets down when the deadline passes, which ends whatever read or TLS
    handshake is waiting on them. A watched socket is kept as a duplicate, so the cut reaches it
    even after TLS has taken it over; the duplicates are closed when the watch stops."""

    def __init__(self, deadline: Deadline):
        self.deadline = deadline
        self.cut = False
        self._watched: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(deadline.remaining(), self._end)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            copy = sock.dup()
            self._watched.append(copy)
            if self.cut:
                _shut(copy)

    def _end(self) -> None:
        with self._lock:
            self.cut = True
            for sock in self._watched:
                _shut(sock)

    def stop(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._watched:
                sock.close()
            self._watched.clear()
