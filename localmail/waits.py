"""Waiting on a condition instead of sleeping a fixed time: as long as needed, and no longer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], seconds: float, every: float = 0.05) -> T:
    """Asks `check` until it answers something true or `seconds` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)
