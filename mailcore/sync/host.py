"""What the sync and the IDLE watcher need of the installation they run in, and nothing more.

`AccountSync`, the runners and the `Watcher` are handed a `SyncHost`: the database sessions, a way
to open an account's IMAP session, and where to ask for a sync. `Installation` provides all three;
a test or a tool can hand them anything else that does.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from mailcore.connect import MailClient
    from mailcore.models import Account


class SyncHost(Protocol):
    @property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on the installation's database."""

    def imap(self, db: Session, account: Account) -> AbstractContextManager[MailClient]:
        """A logged-in IMAP session of `account` (its row in `db`), logged out when the block ends."""

    def request_sync(self, account_id: int, folder: str | None = None) -> None:
        """Ask for a sync of the account (only `folder`, or every folder), wherever syncs run."""
