"""The order the suite's work is handed out in: the longest scopes first (tests/schedule.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import schedule


class Item:
    def __init__(self, nodeid: str, group: str | None = None):
        self.nodeid, self.path, self.group = nodeid, Path(nodeid.split("::")[0]), group

    def get_closest_marker(self, name: str):
        if name != "xdist_group" or self.group is None:
            return None
        return pytest.mark.xdist_group(self.group).mark


def test_a_long_single_test_and_a_long_group_come_before_many_short_ones():
    items = [Item("tests/unit/test_a.py::test_1"), Item("tests/test_b.py::test_quick"),
             Item("tests/test_c.py::test_1", "test_c"), Item("tests/test_c.py::test_2", "test_c"),
             Item("tests/test_d.py::test_slow")]
    known = {"tests/test_b.py::test_quick": 0.2, "tests/test_c.py::test_1": 3.0, "tests/test_c.py::test_2": 4.0,
             "tests/test_d.py::test_slow": 40.0}
    order = [item.nodeid for item in schedule.longest_first(items, known)]
    assert order == ["tests/test_d.py::test_slow", "tests/test_c.py::test_1", "tests/test_c.py::test_2",
                     "tests/test_b.py::test_quick", "tests/unit/test_a.py::test_1"]


def test_an_unknown_lab_test_counts_as_longer_than_an_unknown_unit_test():
    items = [Item("tests/unit/test_a.py::test_1"), Item("tests/test_new.py::test_1")]
    assert [item.nodeid for item in schedule.longest_first(items, {})] == [
        "tests/test_new.py::test_1", "tests/unit/test_a.py::test_1"]


@pytest.mark.parametrize(("reported", "collected"), [
    ("tests/test_guide.py::test_x[sv]@test_guide", "tests/test_guide.py::test_x[sv]"),
    ("tests/test_a.py::test_y[anna@kund.example]", "tests/test_a.py::test_y[anna@kund.example]"),
    ("tests/test_a.py::test_y[anna@kund.example]@test_a", "tests/test_a.py::test_y[anna@kund.example]"),
    ("tests/test_a.py::test_z", "tests/test_a.py::test_z"),
])
def test_the_group_pytest_xdist_appends_is_taken_off_the_id(reported, collected):
    assert schedule.without_group(reported) == collected


def test_the_recorder_writes_what_the_scheduler_reads(tmp_path):
    class Report:
        def __init__(self, nodeid, duration):
            self.nodeid, self.duration = nodeid, duration

    class Session:
        config = object()

    recorder = schedule.Recorder(tmp_path / "durations.json")
    for phase in (0.5, 2.0, 0.25):  # setup, call, teardown
        recorder.pytest_runtest_logreport(Report("tests/test_c.py::test_1@test_c", phase))
    recorder.pytest_runtest_logreport(Report("tests/unit/test_a.py::test_1", 0.001))
    recorder.pytest_sessionfinish(Session())
    assert json.loads((tmp_path / "durations.json").read_text()) == {"tests/test_c.py::test_1": 2.8}
    assert schedule.load(tmp_path / "durations.json") == {"tests/test_c.py::test_1": 2.8}
    assert schedule.load(tmp_path / "missing.json") == {}
