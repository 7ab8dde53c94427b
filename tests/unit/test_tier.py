"""The unit tier keeps its promise: no connection and no mail server, so it stays fast."""

from __future__ import annotations

import socket

import pytest


def test_a_connection_fails_the_test():
    with pytest.raises(AssertionError, match="connects to nothing"):
        socket.create_connection(("127.0.0.1", 993), timeout=1)


@pytest.mark.parametrize("fixture", ["lab", "mailbox", "browser"])
def test_the_lab_fixtures_are_refused(request, fixture):
    with pytest.raises(AssertionError, match="starts no mail servers"):
        request.getfixturevalue(fixture)
