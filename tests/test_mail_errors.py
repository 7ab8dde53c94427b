"""Any mail failure a view does not handle itself becomes the usual explanation in the user's
language, never a 500: a server that went away, a stored password that cannot be read."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select, update

from mailcore.compose import message as compose
from mailcore.models import Account, Folder, Message, User

from .helpers import connected, text


@pytest.fixture
def inbox(app, lab, mailbox):
    return connected(app, mailbox)


def _ids(app) -> tuple[int, int]:
    with app.extensions["mail"].sessions() as db:
        folder = db.scalar(select(Folder.id).where(Folder.name == "INBOX"))
        message = db.scalar(select(Message.id).where(Message.subject == "Meeting notes"))
    return folder, message


def _break(app, **values) -> None:
    with app.extensions["mail"].sessions() as db:
        db.execute(update(Account).values(**values))
        db.commit()


def test_a_server_that_went_away_is_explained_not_a_500(app, lab, inbox):
    folder, message = _ids(app)
    _break(app, imap_port=lab.closed_port)
    page = inbox.post(f"/inbox/folders/{folder}/subscribe", htmx=False)
    not_answering = f"Cannot reach {lab.hostname}. Try again when it answers."  # no talk of ports: it worked before
    assert page.status_code == 502
    assert not_answering in text(page) and "port" not in text(page)
    fragment = inbox.post(f"/inbox/folders/{folder}/subscribe")
    assert fragment.status_code == 422 and fragment.headers["HX-Retarget"] == "#notice"
    assert not_answering in text(fragment) and "<html" not in fragment.get_data(as_text=True)
    reply = inbox.get(f"/inbox/compose/?mode=reply&of={message}")
    assert reply.status_code == 502 and not_answering in text(reply)
    assert "Cannot reach" in text(inbox.get("/inbox/", htmx=False))  # and the inbox shows the status line


def test_an_unreadable_stored_password_is_explained_in_swedish(app, inbox):
    folder, message = _ids(app)
    _break(app, imap_password=b"\x01" + b"0" * 40)
    with app.extensions["mail"].sessions() as db:
        db.execute(update(User).values(language="sv"))
        db.commit()
    page = inbox.post(f"/inbox/folders/{folder}/subscribe", htmx=False)
    assert page.status_code == 502
    assert "Det sparade lösenordet för e-postkontot går inte längre att läsa" in text(page)
    opened = inbox.get(f"/inbox/message/{message}", htmx=True)  # the pane shows what the list knows
    assert opened.status_code == 200 and "Meeting notes" in text(opened)


def test_forwarding_too_much_says_so(app, inbox, monkeypatch):
    _folder, message = _ids(app)
    monkeypatch.setattr(compose, "MAX_ATTACHMENTS_BYTES", 10)  # the limit, made small enough to reach
    opened = inbox.get(f"/inbox/compose/?mode=forward&of={message}", htmx=True).get_data(as_text=True)
    window = re.search(r'name="window" type="hidden" value="([^"]+)"', opened).group(1)
    form = {"to": "someone@kund.example", "subject": "Fwd: x", "body": "x", "window": window,
            "attachments": (io.BytesIO(b"x" * 64), "a.txt")}
    sent = inbox.post("/inbox/compose/", form, content_type="multipart/form-data")
    assert sent.status_code == 422
    assert "The attachments are larger than" in text(sent)
    assert "line break" not in text(sent)
