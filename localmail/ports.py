"""Loopback port helpers."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def free_ports(host: str, count: int) -> list[int]:
    """Ports that were free a moment ago; probed together so none repeats."""
    probes: list[socket.socket] = []
    try:
        for _ in range(count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind((host, 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def reserve_closed_port(host: str) -> socket.socket:
    """A bound socket that never listens: the kernel answers SYNs with RST.

    Keeping it bound guarantees nobody else takes the port while the lab runs.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    return sock


def wait_for_port(
    host: str,
    port: int,
    deadline: float,
    still_alive: Callable[[], bool] = lambda: True,
) -> bool:
    """Poll until (host, port) accepts a TCP connection or the deadline passes."""
    while time.monotonic() < deadline and still_alive():
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False
