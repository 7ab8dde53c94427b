"""The order in which pytest-xdist hands out work: the longest first.

`--dist loadgroup` hands out scopes (a group kept on one worker, or a single test) in the order
they were collected, the next one to whichever worker runs low. Handing out the longest first
(scheduling by "longest processing time") keeps a 40 s test from starting last and holding the
whole run while the other workers idle. The times come from `tests/durations.json`, written by a
run with `INKORG_RECORD_DURATIONS=tests/durations.json` (scripts/test.sh does it when asked; see
docs/testing.md); a test missing from it counts as a short one. The order is the same on every
worker, as pytest-xdist requires.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

FILE = Path(__file__).resolve().parent / "durations.json"
UNKNOWN_LAB, UNKNOWN_UNIT = 0.5, 0.01  # seconds, for a test the file does not know yet


def load(path: Path = FILE) -> dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def scope_of(item) -> str:
    marker = item.get_closest_marker("xdist_group")
    if marker is not None:
        return "@" + (marker.args[0] if marker.args else marker.kwargs.get("name", "default"))
    return item.nodeid


def longest_first(items: list, known: dict[str, float]) -> list:
    """The items reordered so their scopes come longest first (ties in collection order); the
    items of one scope keep their order."""
    total: dict[str, float] = defaultdict(float)
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        scope = scope_of(item)
        first.setdefault(scope, index)
        unit = "unit" in Path(str(item.path)).parts
        total[scope] += known.get(item.nodeid, UNKNOWN_UNIT if unit else UNKNOWN_LAB)
    return sorted(items, key=lambda item: (-round(total[scope_of(item)], 1), first[scope_of(item)]))


class Recorder:
    """Adds up setup, call and teardown per test and writes them (seconds, one decimal) at the end:
    the file that longest_first reads."""

    def __init__(self, path: Path):
        self.path, self.seconds = path, defaultdict(float)

    def pytest_runtest_logreport(self, report) -> None:
        self.seconds[without_group(report.nodeid)] += report.duration

    def pytest_sessionfinish(self, session) -> None:
        if hasattr(session.config, "workerinput"):
            return  # a worker: the controller hears every report and writes the file
        kept = {nodeid: round(s, 1) for nodeid, s in sorted(self.seconds.items()) if s >= 0.05}
        self.path.write_text(json.dumps(kept, indent=0, sort_keys=True) + "\n")


def without_group(nodeid: str) -> str:
    """The test's id as collected: pytest-xdist appends "@group" to the id of a grouped test (an
    "@" inside a parameter's brackets stays)."""
    head, at, tail = nodeid.rpartition("@")
    return head if at and not any(c in tail for c in "[]/:") else nodeid


def recorder_from_environment() -> Recorder | None:
    path = os.environ.get("INKORG_RECORD_DURATIONS")
    return Recorder(Path(path)) if path else None
