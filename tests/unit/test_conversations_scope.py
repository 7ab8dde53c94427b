"""A conversation is shown and acted on only within the signed-in user's own account: another
account's message is a 404 in place, and a conversation number shared by force across accounts
shows nothing of the other's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from mailcore.models import Account, Folder, Message, User
from tests.helpers import make_user


def _mailbox(app, email: str, conversation: int) -> list[int]:
    with app.extensions["mail"].sessions() as db:
        user = db.scalar(select(User).where(User.email == email))
        account = Account(user=user, address=email, imap_host="imap.inkorg.test", imap_port=993, imap_ssl=True,
                          imap_username=email, imap_password=b"sealed", smtp_host="smtp.inkorg.test", smtp_port=465,
                          smtp_ssl=True, smtp_username=email, smtp_password=b"sealed", sync_state="ok")
        inbox = Folder(account=account, name="INBOX", role="inbox", complete=True)
        db.add_all([account, inbox])
        db.flush()
        ids = []
        for number in range(2):
            raw = f"From: a@kund.example\r\nSubject: Offert {email}\r\n\r\nText {email} {number}\r\n".encode()
            message = Message(folder_id=inbox.id, uid=number + 1, date=datetime(2025, 3, 3, 9, number), seen=True,
                              subject=f"Offert {email}", sender_address="a@kund.example", raw=raw,
                              message_key=f"{number}@{email}", reference_keys="", conversation_id=conversation)
            db.add(message)
            db.flush()
            ids.append(message.id)
        db.commit()
        return ids


def test_another_accounts_conversation_is_not_found(fresh_app, signed_in):
    make_user(fresh_app, "other@crm.example", name="Other")
    mine = _mailbox(fresh_app, "kim@crm.example", 424242)
    theirs = _mailbox(fresh_app, "other@crm.example", 424242)  # the same number, by force
    pane = signed_in.get(f"/inbox/message/{mine[1]}", htmx=True)
    assert pane.status_code == 200
    text = pane.get_data(as_text=True)
    assert text.count("data-conversation-message=") == 1 and f'data-conversation-message="{mine[0]}"' in text
    assert signed_in.get(f"/inbox/message/{theirs[0]}/in-conversation", htmx=True).status_code == 404
    assert signed_in.post("/inbox/messages/seen", {"ids": str(theirs[0]), "seen": "0",
                                                   "conversations": "1"}).status_code == 404
    assert signed_in.post("/inbox/list/conversations", {"conversations": "0"}, csrf=False).status_code == 400
