"""Loopback port helpers."""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable, Iterable


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


def port_error(who: str, host: str, port: int, error: OSError) -> OSError:
    """The bind error, restated so a test log says which port and why."""
    if error.errno == errno.EADDRINUSE:
        why = "is already in use"
    elif error.errno == errno.EACCES:
        why = "needs root (ports below 1024 are privileged)"
    elif error.errno == errno.EADDRNOTAVAIL:
        why = "is on an address this machine does not have"
    else:
        why = f"cannot be bound ({error.strerror})"
    return OSError(error.errno, f"{who}: port {port} on {host} {why}")


def check_bindable(who: str, host: str, ports: Iterable[int]) -> None:
    """Fail with a clear error now if any TCP port cannot be bound (taken, privileged).

    Binds the way the servers will (SO_REUSEADDR, so a TIME_WAIT leftover is no
    conflict, while a listener on the same address or on 0.0.0.0 is).
    """
    for port in ports:
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen(1)  # a bound-but-not-listening socket elsewhere conflicts only here
        except OSError as error:
            raise port_error(who, host, port, error) from error
        finally:
            probe.close()
