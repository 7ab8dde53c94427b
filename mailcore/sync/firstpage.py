"""INBOX's newest messages, read in the session that checked the account, so the inbox shows its
first page the moment the account is saved; the first sync carries on from there (it fetches what
is not stored yet, so nothing is fetched twice).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from imapclient import IMAPClient
from sqlalchemy.orm import Session

from mailcore.connect import MailClient
from mailcore.imapsets import uid_set
from mailcore.models import Account, Folder, Role
from mailcore.sync import summaries

log = logging.getLogger(__name__)
FIRST_PAGE = 50  # the list's page


@dataclass
class FirstPage:
    uidvalidity: int
    exists: int
    rows: list[dict]  # summaries.row() of the newest messages, without their folder yet


def read_first_page(client: MailClient, selected: dict) -> FirstPage | None:
    """The newest messages of the INBOX `client` has just selected, with previews where the server
    has them. None when they cannot be had: the check still passes and the first sync fetches them."""
    try:
        exists, uidvalidity = int(selected.get(b"EXISTS", 0)), int(selected.get(b"UIDVALIDITY", 0))
        if not uidvalidity:
            return None
        # a SEARCH by sequence numbers names the newest messages' UIDs in one short answer
        uids = client.search([f"{max(1, exists - FIRST_PAGE + 1)}:{exists}"]) if exists else []
        fetched = client.fetch_set(uid_set(uids), summaries.list_items(b"PREVIEW" in client.capabilities())) \
            if uids else {}
        rows = summaries.rows_of(0, fetched.items(), set(uids))
        summaries.add_arrival_dates(client, rows)
        return FirstPage(uidvalidity, exists, rows)
    except (IMAPClient.Error, OSError, EOFError, ValueError) as exc:
        log.info("the first page could not be read during the check: %s", type(exc).__name__)
        return None


def store_first_page(db: Session, account: Account, page: FirstPage) -> None:
    """INBOX and its first page, as a first sync's first batch would leave them."""
    inbox = Folder(account_id=account.id, name="INBOX", role=Role.INBOX, subscribed=True, selectable=True,
                   uidvalidity=page.uidvalidity, server_total=page.exists, total=len(page.rows),
                   unread=sum(1 for r in page.rows if not r["seen"]), version=1, complete=False)
    db.add(inbox)
    db.flush()
    summaries.insert_new(db, [dict(row, folder_id=inbox.id) for row in page.rows])
    db.commit()
