"""The database schema. Changes go through a migration in migrations/versions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from mailcore import clock
from mailcore.addresses import normalise_address


def utcnow() -> datetime:
    return clock.now()


class Base(DeclarativeBase):
    pass


class SyncState(StrEnum):
    """Where an account's synchronisation stands; stored in `Account.sync_state`."""

    NEW = "new"  # connected, not yet synchronised
    OK = "ok"
    AUTH = "auth"  # the server no longer accepts the password
    ALERT = "alert"  # the provider refused with a message of its own
    UNREACHABLE = "unreachable"  # the server could not be reached or broke off
    ERROR = "error"  # any other failure
    SIGN_IN = "sign-in"  # the provider no longer honours the sign-in (OAuth): waits for Sign in again
    # outcomes of one sync run only, never stored on an account
    BUSY = "busy"  # another worker holds the account's lease
    GONE = "gone"  # the account was removed

    @property
    def failed(self) -> bool:
        return self in (SyncState.AUTH, SyncState.ALERT, SyncState.UNREACHABLE, SyncState.ERROR, SyncState.SIGN_IN)


class AttemptKind(StrEnum):
    """What a `ConnectionAttempt` counts; each kind has its own limit and window (mailcore/attempts.py)."""

    LOGIN = "login"  # a connection test of a server and password
    DISCOVERY = "discovery"  # a search for an address's settings
    VERIFICATION = "verification"  # a verification link sent to an address on the contact card


class Role(StrEnum):
    """What a folder is for; stored in `Folder.role` (None for any other folder). Declared in the
    order of the folder picker."""

    INBOX = "inbox"
    DRAFTS = "drafts"
    SENT = "sent"
    ARCHIVE = "archive"
    JUNK = "junk"
    TRASH = "trash"


# Folders in the picker: the special ones first, in Role's order, then the rest by name.
ROLE_ORDER = {role: position for position, role in enumerate(Role)}


class User(Base):
    """A CRM user. Signs in with their email address; their own contact card is a Person."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(8))
    show_inline_images: Mapped[bool] = mapped_column(Boolean, default=False)
    mark_read_in_preview: Mapped[bool] = mapped_column(Boolean, default=True)
    save_sent_copy: Mapped[bool] = mapped_column(Boolean, default=True)
    # the list shows a row per conversation (else per message): the choice in the list's tools
    list_conversations: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    signature: Mapped[str] = mapped_column(Text, default="", server_default="")
    signature_html: Mapped[str] = mapped_column(Text, default="", server_default="")  # formatted, when it is
    # the IANA zone dates are shown in: the user's choice, or their browser's kept on its first visit;
    # None: the browser's, else DEFAULT_TIMEZONE
    timezone: Mapped[str | None] = mapped_column(String(64))
    # automatic archiving (Email options > General): mail with known contacts, visible to all or the
    # user only, never for the addresses and domains listed (one a line)
    archive_automatically: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    archive_visible_to_all: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    never_archive: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # the user's own contact card; removed with the user
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), unique=True,
                                                  index=True)

    person: Mapped[Person | None] = relationship(cascade="all, delete-orphan", single_parent=True)
    account: Mapped[Account | None] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def contact_emails(self) -> list[PersonEmail]:
        """The addresses on the user's own card, first first; a card named after the user is made when
        there is none yet."""
        if self.person is None:
            first, last = split_name(self.name or "")
            self.person = Person(first_name=first, last_name=last)
        return self.person.emails


def split_name(name: str) -> tuple[str, str]:
    """A full name as first and last name: the last word is the last name ("Anna Maria Berg")."""
    words = name.split()
    return (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (name.strip(), "")


def name_key(text_: str) -> str:
    """What names are searched in: Unicode NFKC, case folded, single spaces."""
    return " ".join(normalise_address(text_).split())


class Company(Base):
    """A company in the CRM, with the mail domains its people write from."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)  # name_key(name), kept by set_name
    phone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    web: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    domains: Mapped[list[CompanyDomain]] = relationship(back_populates="company", order_by="CompanyDomain.id",
                                                        cascade="all, delete-orphan", passive_deletes=True)

    @validates("name")
    def _keep_key(self, _key: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class CompanyDomain(Base):
    """A mail domain of a company (normalised: "acme.se"); several companies may share one."""

    __tablename__ = "company_domains"
    __table_args__ = (UniqueConstraint("company_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(255), index=True)

    company: Mapped[Company] = relationship(back_populates="domains")

    @validates("domain")
    def _normalise(self, _key: str, value: str) -> str:
        return normalise_address(value).strip(".").removeprefix("@")


class Person(Base):
    """A person in the CRM: a contact, or a CRM user's own card (User.person)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    last_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    name_key: Mapped[str] = mapped_column(String(201), default="", server_default="", index=True)
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    emails: Mapped[list[PersonEmail]] = relationship(back_populates="person", order_by="PersonEmail.position",
                                                     cascade="all, delete-orphan", passive_deletes=True)
    company: Mapped[Company | None] = relationship()

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @validates("first_name", "last_name")
    def _keep_key(self, key: str, value: str) -> str:
        first = value if key == "first_name" else self.first_name or ""
        last = value if key == "last_name" else self.last_name or ""
        self.name_key = name_key(f"{first} {last}")
        return value


class PersonEmail(Base):
    """An email address on a person's contact card; position 0 is the first.

    On a CRM user's own card an address is, until verified (see contacts.py), only typed text: it is
    not used for sending, for linking archived emails, for suggestions to other users, or for
    recognising the user in mail.
    """

    __tablename__ = "contact_emails"
    __table_args__ = (UniqueConstraint("person_id", "normalised", name="uq_contact_emails_person_normalised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(320))  # as typed
    normalised: Mapped[str] = mapped_column(String(320), index=True)  # normalise_address(address)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    person: Mapped[Person] = relationship(back_populates="emails")

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @validates("address")
    def _keep_normalised(self, _key: str, value: str) -> str:
        self.normalised = normalise_address(value)
        return value


ContactEmail = PersonEmail  # the name the contact-card code has always used


class Account(Base):
    """The user's connected mail account (one per user). Passwords are sealed, see crypto.py."""

    __tablename__ = "accounts"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused: sealed passwords name their row

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    address: Mapped[str] = mapped_column(String(320))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    settings_source: Mapped[str] = mapped_column(String(32), default="manual")

    imap_host: Mapped[str] = mapped_column(String(255))
    imap_port: Mapped[int] = mapped_column(Integer)
    imap_ssl: Mapped[bool] = mapped_column(Boolean)
    imap_username: Mapped[str] = mapped_column(String(320))
    imap_password: Mapped[bytes] = mapped_column(LargeBinary)

    smtp_host: Mapped[str] = mapped_column(String(255))
    smtp_port: Mapped[int] = mapped_column(Integer)
    smtp_ssl: Mapped[bool] = mapped_column(Boolean)
    smtp_same_login: Mapped[bool] = mapped_column(Boolean, default=True)
    smtp_username: Mapped[str] = mapped_column(String(320))
    smtp_password: Mapped[bytes] = mapped_column(LargeBinary)
    # how each side logs in: "password", or "oauth2" with a token from the account's OAuthGrant
    imap_auth: Mapped[str] = mapped_column(String(16), default="password", server_default="password")
    smtp_auth: Mapped[str] = mapped_column(String(16), default="password", server_default="password")

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error_kind: Mapped[str | None] = mapped_column(String(64))  # a MailError code
    last_error_side: Mapped[str | None] = mapped_column(String(16))
    last_error_detail: Mapped[str | None] = mapped_column(Text)

    # synchronisation: a lease so that one sync runs per account (mailcore/leases.py), and back-off
    # after failures; next_sync_at is also the claim of a due account by a scheduler
    sync_state: Mapped[str] = mapped_column(String(16), default=SyncState.NEW, server_default="new")
    sync_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sync_owner: Mapped[str | None] = mapped_column(String(64))
    sync_lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the IDLE watcher that holds the account's INBOX connection (mailcore/sync/watch.py): a
    # `flask sync watch` process or the embedded runner's thread
    watch_owner: Mapped[str | None] = mapped_column(String(64))
    watch_lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # a server that said more in IDLE than any real one does is not watched until then (the periodic
    # sync still runs); the Email account tab says so
    watch_paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="account")
    folders: Mapped[list[Folder]] = relationship(back_populates="account", cascade="all, delete-orphan",
                                                 passive_deletes=True)
    oauth_grant: Mapped[OAuthGrant | None] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class Folder(Base):
    """A mailbox on the IMAP server, with what the last sync knew of it."""

    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(1000))  # as the server names it (decoded)
    delimiter: Mapped[str | None] = mapped_column(String(4))
    role: Mapped[str | None] = mapped_column(String(16))  # a Role, or None
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    selectable: Mapped[bool] = mapped_column(Boolean, default=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uidnext: Mapped[int | None] = mapped_column(BigInteger)
    highestmodseq: Mapped[int | None] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(Integer, default=0)
    unread: Mapped[int] = mapped_column(Integer, default=0)
    server_total: Mapped[int] = mapped_column(Integer, default=0)  # EXISTS at the last SELECT: progress
    complete: Mapped[bool] = mapped_column(Boolean, default=False)  # the first sync has reached the oldest
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped with every change to its messages
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # automatic archiving has looked at the messages up to this UID (None: not yet started here)
    archived_uid: Mapped[int | None] = mapped_column(BigInteger)

    account: Mapped[Account] = relationship(back_populates="folders")

    @property
    def sort_key(self) -> tuple[int, str]:
        return ROLE_ORDER.get(self.role or "", len(ROLE_ORDER) + 1), self.name.lower()


class Message(Base):
    """What the list shows of one message; the body is fetched when it is opened."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("folder_id", "uid"),
        Index("ix_messages_folder_date", "folder_id", "date", "id"),
        Index("ix_messages_folder_sender", "folder_id", "sender_name", "id"),
        Index("ix_messages_folder_subject", "folder_id", "subject", "id"),
        # the previews a sync has still to fetch: a handful, found without reading the folder
        Index("ix_messages_preview_pending", "folder_id", "uid", sqlite_where=text("preview IS NULL"),
              postgresql_where=text("preview IS NULL")),
        # a folder's conversations, and a conversation's messages in every folder
        Index("ix_messages_folder_conversation", "folder_id", "conversation_id"),
        Index("ix_messages_conversation", "conversation_id"),
        # the messages a sync has still to thread: new ones, and those stored before threading
        Index("ix_messages_thread_pending", "folder_id", "uid", sqlite_where=text("conversation_id IS NULL"),
              postgresql_where=text("conversation_id IS NULL")),
        # the messages the search index still lacks (or lacks the body of): found without reading the folder
        Index("ix_messages_search_pending", "folder_id", "id", sqlite_where=text("search_state < 2"),
              postgresql_where=text("search_state < 2")),
        # newest first across folders (a search of All folders)
        Index("ix_messages_date", "date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"))
    uid: Mapped[int] = mapped_column(BigInteger)
    modseq: Mapped[int | None] = mapped_column(BigInteger)
    seen: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    date: Mapped[datetime] = mapped_column(DateTime)  # UTC: the Date header, else the arrival time
    size: Mapped[int] = mapped_column(Integer, default=0)
    sender_name: Mapped[str] = mapped_column(String(300), default="")
    sender_address: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(1000), default="")
    preview: Mapped[str | None] = mapped_column(String(300))  # None until fetched, after the list
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    recipients: Mapped[str] = mapped_column(String(1000), default="", server_default="")  # To, for Sent and Drafts
    body_text: Mapped[str | None] = mapped_column(Text)  # cached when first opened
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # the message, once opened
    # threading (mailcore/threading.py): the Message-ID without brackets ("" none; NULL: not fetched
    # yet), the ids it names as ancestors (space-separated, parent last), and its conversation
    message_key: Mapped[str | None] = mapped_column(String(250))
    reference_keys: Mapped[str | None] = mapped_column(Text)
    conversation_id: Mapped[int | None] = mapped_column(BigInteger)
    # in the search index: 0 not yet, 1 the list's fields, 2 with the body (mailcore/search/index.py)
    search_state: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class Conversation(Base):
    """A conversation's number, never reused: messages name it in `Message.conversation_id`."""

    __tablename__ = "conversations"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class ThreadKey(Base):
    """Every Message-ID an account's messages have or name, with the conversation it belongs to: a
    new message joins (or merges) the conversations of its keys without reading any message."""

    __tablename__ = "thread_keys"
    __table_args__ = (UniqueConstraint("account_id", "key"), Index("ix_thread_keys_conversation", "conversation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    conversation_id: Mapped[int] = mapped_column(BigInteger)


class MessageText(Base):
    """A message's words as the search index reads them (folded, one space between words). SQLite's
    FTS5 table `message_search` (migration 0020) and PostgreSQL's GIN indexes and the column of word
    pairs they need (0025) are kept out of the schema comparison by name (mailcore/search/index.py,
    `schema_filter`)."""

    __tablename__ = "message_texts"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True,
                                            autoincrement=False)
    subject: Mapped[str] = mapped_column(Text, default="", server_default="")
    sender: Mapped[str] = mapped_column(Text, default="", server_default="")
    recipients: Mapped[str] = mapped_column(Text, default="", server_default="")
    attachments: Mapped[str] = mapped_column(Text, default="", server_default="")
    body: Mapped[str] = mapped_column(Text, default="", server_default="")


class NotAddedAddress(Base):
    """An address a user chose not to add to the CRM (Do not add contact): no Unknown sender banner for it."""

    __tablename__ = "not_added_addresses"
    __table_args__ = (UniqueConstraint("user_id", "normalised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    normalised: Mapped[str] = mapped_column(String(320))  # normalise_address(address)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ArchivedEmail(Base):
    """An email (or one attachment of it) kept whole in the CRM: by Archive email, Send and archive or
    automatic archiving. `raw` is the message as it was (with its attachments), or the attachment's
    bytes when `filename` is set, so deleting the mail from the mailbox loses nothing. It is linked to
    a contact and a company (chosen in the Document dialog) and, for Send and archive, to the contact
    cards of its recipients. A user sees it when it is visible to all users or archived by them."""

    __tablename__ = "archived_emails"
    __table_args__ = (Index("ix_archived_emails_user_message", "user_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)  # who archived it
    message_id: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(1000))
    recipients: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)  # the email's date
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sender: Mapped[str] = mapped_column(String(640), default="", server_default="")
    incoming: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))  # else sent
    visible_to_all: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)
    filename: Mapped[str | None] = mapped_column(String(255))  # one attachment archived alone
    content_type: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    automatic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    person: Mapped[Person | None] = relationship()
    company: Mapped[Company | None] = relationship()
    user: Mapped[User] = relationship()


class ArchivedEmailLink(Base):
    __tablename__ = "archived_email_links"
    __table_args__ = (UniqueConstraint("archived_email_id", "contact_email_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    archived_email_id: Mapped[int] = mapped_column(ForeignKey("archived_emails.id", ondelete="CASCADE"))
    contact_email_id: Mapped[int] = mapped_column(ForeignKey("contact_emails.id", ondelete="CASCADE"), index=True)


class ComposeWindow(Base):
    """One open compose form: the one draft it keeps in Drafts (by UID) and its uploaded attachments.

    Sent once, it saves no more drafts, so a save that arrives after Send cannot leave one behind."""

    __tablename__ = "compose_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # in the form; unguessable, and checked with the user
    draft_uid: Mapped[int | None] = mapped_column(BigInteger)  # its draft in the Drafts folder
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    uploads_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # the reply, reply all, forward or reopened draft it was opened for: opening it again reuses it
    answer_mode: Mapped[str | None] = mapped_column(String(8))
    answer_of: Mapped[int | None] = mapped_column(BigInteger)  # a Message id

    uploads: Mapped[list[PendingUpload]] = relationship(back_populates="window", order_by="PendingUpload.id",
                                                        cascade="all, delete-orphan", passive_deletes=True)


class SignatureLogo(Base):
    """The image under a user's signature, sent as an inline part (multipart/related, by Content-ID)."""

    __tablename__ = "signature_logos"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(32))  # names the version in URLs and in the Content-ID
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


class MailTemplate(Base):
    """A text the user writes again and again ("Offert", "Tack för mötet"): their own, or shared with
    every user. Its [[fields]] are filled from the CRM when it is chosen in a compose window."""

    __tablename__ = "mail_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(998), default="")
    html: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    files: Mapped[list[MailTemplateFile]] = relationship(order_by="MailTemplateFile.id", cascade="all, delete-orphan",
                                                         passive_deletes=True)


class MailTemplateFile(Base):
    """An attachment a template brings into the compose window it is chosen in."""

    __tablename__ = "mail_template_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("mail_templates.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class PendingUpload(Base):
    """An attachment uploaded to a compose window and not yet sent, kept in chunks so that a form
    error never loses it; deleted after Send or Discard, or a day after it was uploaded."""

    __tablename__ = "pending_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("compose_windows.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # a forwarded attachment: part `part_index` of the message `forward_of`, copied only at Send; no chunks
    forward_of: Mapped[int | None] = mapped_column(BigInteger)
    part_index: Mapped[int | None] = mapped_column(Integer)

    window: Mapped[ComposeWindow] = relationship(back_populates="uploads")


class UploadChunk(Base):
    __tablename__ = "upload_chunks"
    __table_args__ = (UniqueConstraint("upload_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("pending_uploads.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ConnectionAttempt(Base):
    """One connection test, discovery or verification link sent, kept for its kind's window to limit
    them per user across processes (mailcore/attempts.py)."""

    __tablename__ = "connection_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=AttemptKind.LOGIN, server_default="login")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class SignInAttempt(Base):
    """A sign-in being checked or one that failed, kept for the throttling window so that every web
    worker counts it. Recorded before the password is checked, so parallel guesses count too."""

    __tablename__ = "signin_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the typed user name
    client_key: Mapped[str] = mapped_column(String(64), index=True)  # client address (IPv6: its /64)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class UserSession(Base):
    """A signed-in browser. Its cookie carries a token whose sha256 is the id: signing out deletes
    the row, so a copied cookie stops working."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
class OAuthGrant(Base):
    """What an OAuth sign-in left for an account: the sealed refresh token and the latest access token.

    Refreshes are serialised by a lease on this row (across threads and processes); a rotated refresh
    token is written in the same UPDATE as the access token it came with.
    """

    __tablename__ = "oauth_grants"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused: sealed tokens name their row

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    provider_id: Mapped[str] = mapped_column(String(64))  # whose "oauth2" entry issued it
    subject: Mapped[str] = mapped_column(String(255), default="")  # the id_token's sub
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)  # None: the user must sign in again
    access_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    generation: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every refresh
    refresh_owner: Mapped[str | None] = mapped_column(String(64))
    refresh_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OAuthFlow(Base):
    """One sign-in under way: PKCE verifier, nonce and what to connect, sealed; deleted when used.

    The state's hash is the key, so a callback can use it once only, in any process.
    """

    __tablename__ = "oauth_flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class IspdbAnswer(Base):
    """What the central ISPDB (MAIL_ISPDB_URL) answered for a domain, so one domain's users cause one
    lookup: the document for a day, a failure (not found, refused, out of time) for an hour."""

    __tablename__ = "ispdb_answers"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)  # lower case, as asked
    document: Mapped[bytes | None] = mapped_column(LargeBinary)  # None: the lookup failed (see detail)
    detail: Mapped[str] = mapped_column(String(255), default="")
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class PushSubscription(Base):
    """One browser's Web Push subscription (RFC 8030): where its push service takes messages for it and
    the keys that encrypt them for that browser (RFC 8291). Tied to the session that made it, so signing
    out (or the session's end) stops the pushes to that browser."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("user_sessions.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))  # the browser's public key, base64url
    auth: Mapped[str] = mapped_column(String(100))  # its authentication secret, base64url
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UnfiledSentCopy(Base):
    """A sent message whose copy could not be put in Sent (the incoming server did not answer): kept
    here and filed by the next sync that reaches the server, then deleted. Its Message-ID is looked
    for in Sent first, so a copy is never filed twice."""

    __tablename__ = "unfiled_sent_copies"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(998), default="")  # the header, to find it in Sent
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
