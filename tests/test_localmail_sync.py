"""localmail for IMAP synchronisation tests: capabilities, special folders, bulk loads,
changes by another client, server restarts, a connection-cutting proxy and awkward messages.

Real Dovecot, real IMAPClient sessions over TLS, on loopback.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import os
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError  # type: ignore[import-untyped]

from localmail import MailLab
from localmail.corpus import APPEND_REFUSED, awkward_messages, unappendable_messages
from localmail.dovecot import MAIL_UID, SPECIAL_FOLDERS
from localmail.proxy import FaultProxy

TIMEOUT = 10
PASSWORD = "sync-pw"
_users = iter(range(1, 1000))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailLab]:
    lab = MailLab.start(tmp_path_factory.mktemp("localmail-sync"))
    yield lab
    lab.stop()


@pytest.fixture
def user(lab: MailLab) -> str:
    address = f"sync{next(_users)}@example.se"
    lab.add_user(address, PASSWORD)
    return address


def connect(lab: MailLab, port: int | None = None, host: str | None = None) -> IMAPClient:
    """A client as the app would make it: the lab CA, the certificate's name."""
    return IMAPClient(
        host or lab.host,
        port=port or lab.imap_tls_port,
        ssl=True,
        ssl_context=lab.imap_tls_context(),
        timeout=TIMEOUT,
    )


def untagged(client: IMAPClient, name: str) -> list[bytes]:
    return client._imap.untagged_responses.pop(name, [])


# Capabilities and folders -------------------------------------------------------------


def test_capability_after_login(lab: MailLab, user: str) -> None:
    with lab.imap(user) as client:
        untagged(client, "CAPABILITY")  # the one in LOGIN's answer: not the point here
        typ, [line] = client._imap.capability()  # a real CAPABILITY command
    assert typ == "OK"
    offered = set(line.decode().split())
    wanted = {"IMAP4rev1", "IDLE", "CONDSTORE", "QRESYNC", "SPECIAL-USE", "MOVE", "UIDPLUS",
              "ENABLE", "PREVIEW", "SNIPPET=FUZZY"}  # fmt: skip
    assert wanted <= offered


def test_special_folders_listed_with_flags_and_subscribed(lab: MailLab, user: str) -> None:
    with lab.imap(user) as client:
        typ, _ = client._imap._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
        assert typ == "OK"
        listed = untagged(client, "LIST")
        subscribed = {name for _, _, name in client.list_sub_folders()}
    flags_by_name = {}
    for line in listed:
        flags, _, name = line.decode().partition(") ")
        flags_by_name[name.split(" ", 1)[1].strip('"')] = flags.strip("(").split()
    for name, flag in SPECIAL_FOLDERS.items():
        assert flag in flags_by_name[name], (name, listed)
    assert set(SPECIAL_FOLDERS) <= subscribed
    assert "INBOX" in flags_by_name


def test_preview_fetch(lab: MailLab, user: str) -> None:
    lab.append(user, b"From: A <a@example.se>\r\nSubject: p\r\n\r\nHej! Ses vi i morgon?\r\n")
    with lab.imap(user) as client:
        client.select_folder("INBOX")
        typ, data = client._imap.uid("FETCH", "1:*", "(PREVIEW)")
    assert typ == "OK"
    assert b'PREVIEW "Hej! Ses vi i morgon?"' in data[0]


def test_highestmodseq_on_select_and_after_flag_change(lab: MailLab, user: str) -> None:
    lab.bulk_load(user, 3, seen_ratio=0)
    with lab.imap(user) as client:
        client.enable("CONDSTORE")
        before = client.select_folder("INBOX")[b"HIGHESTMODSEQ"]
        client.unselect_folder()
        lab.set_flags(user, "INBOX", [2], ["\\Seen"])
        after = client.select_folder("INBOX")[b"HIGHESTMODSEQ"]
        [(uid, data)] = client.fetch([2], ["MODSEQ"]).items()
    assert after > before
    assert data[b"MODSEQ"] == (after,)


# Bulk loading ---------------------------------------------------------------------------


def test_bulk_load_2000_in_date_order(lab: MailLab, user: str) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert lab.bulk_load(user, 2000, start=start, seed=7, seen_ratio=0.3) == 2000
    with lab.imap(user) as client:
        info = client.select_folder("INBOX", readonly=True)
        assert info[b"EXISTS"] == 2000
        assert info[b"UIDNEXT"] == 2001
        typ, data = client._imap.uid(
            "FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (DATE FROM)])"
        )
    assert typ == "OK"
    messages = client_parse(data)
    assert [uid for uid, _, _, _ in messages] == list(range(1, 2001))
    internal = [internaldate for _, internaldate, _, _ in messages]
    assert internal == sorted(internal)
    dates = [header["Date"].datetime for _, _, _, header in messages]
    assert dates == sorted(dates)
    assert start <= dates[0] and dates[-1] <= datetime.now(UTC) + timedelta(seconds=5)
    seen = sum(1 for _, _, flags, _ in messages if b"\\Seen" in flags)
    assert 450 < seen < 750
    senders = {str(header["From"]) for _, _, _, header in messages}
    assert any("Åsa Öberg" in sender for sender in senders)

    directory = lab.mailbox_path(user)
    names = os.listdir(directory / "cur")
    assert len(names) == 2000
    sample = directory / "cur" / names[0]
    assert (sample.stat().st_uid, sample.stat().st_gid) == (MAIL_UID, MAIL_UID)
    assert f",S={sample.stat().st_size}," in names[0]
    assert sum(name.endswith(":2,S") for name in names) == seen


def client_parse(data: list) -> list[tuple[int, datetime, bytes, email.message.Message]]:
    """(uid, internaldate, flags, header) per message of a raw imaplib FETCH answer."""
    out = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta, header = item
        parsed = imaplib.ParseFlags(meta) if b"FLAGS" in meta else ()
        uid = int(meta.split(b"UID ", 1)[1].split()[0])
        internal = imaplib.Internaldate2tuple(meta)
        out.append((uid, time.mktime(internal), b" ".join(parsed),
                    email.message_from_bytes(header, policy=email.policy.default)))  # fmt: skip
    return out


def test_bulk_load_into_new_folder_and_deterministic(lab: MailLab, user: str) -> None:
    assert lab.bulk_load(user, 50, folder="Kunder.Arkiv", seed=3) == 50
    assert lab.bulk_load(user, 50, folder="Kunder.Arkiv", seed=3) == 50  # appended after
    with lab.imap(user) as client:
        assert client.select_folder("Kunder.Arkiv")[b"EXISTS"] == 100
        subjects = client.fetch([1, 51], ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        assert ("Kunder.Arkiv",) == tuple(
            name for _, _, name in client.list_sub_folders() if name.startswith("Kunder.")
        )
    first, again = (subjects[uid][b"BODY[HEADER.FIELDS (SUBJECT)]"] for uid in (1, 51))
    assert first == again  # same seed, same messages


# Changes by another client --------------------------------------------------------------


def test_helpers_are_seen_by_a_second_session(lab: MailLab, user: str) -> None:
    lab.bulk_load(user, 10, seen_ratio=0)
    with connect(lab) as watcher:
        watcher.login(user, PASSWORD)
        watcher.select_folder("INBOX")

        assert lab.set_flags(user, "INBOX", [1, 2], ["\\Flagged", "$Work"]) == {
            1: (b"\\Flagged", b"$Work"),
            2: (b"\\Flagged", b"$Work"),
        }
        changes = watcher.noop()[1]
        assert (1, b"FETCH", (b"FLAGS", (b"\\Flagged", b"$Work"))) in changes
        lab.set_flags(user, "INBOX", [1], ["$Work"], add=False)
        assert watcher.get_flags([1])[1] == (b"\\Flagged",)

        lab.expunge(user, "INBOX", [3, 4])
        # Sequence numbers, highest first: "* 4 EXPUNGE", "* 3 EXPUNGE".
        assert [r for r in watcher.noop()[1] if r[1] == b"EXPUNGE"] == [
            (4, b"EXPUNGE"),
            (3, b"EXPUNGE"),
        ]
        assert watcher.search("ALL") == [1, 2, 5, 6, 7, 8, 9, 10]

        assert lab.move(user, "INBOX", [5, 6], "Archive") == {5: 1, 6: 2}
        watcher.noop()
        assert watcher.search("ALL") == [1, 2, 7, 8, 9, 10]
        assert watcher.folder_status("Archive", ["MESSAGES"])[b"MESSAGES"] == 2

        lab.create_folder(user, "Projekt.Nytt")
        assert watcher.folder_exists("Projekt.Nytt")
        assert "Projekt.Nytt" in {name for _, _, name in watcher.list_sub_folders()}
        lab.delete_folder(user, "Projekt.Nytt")
        assert not watcher.folder_exists("Projekt.Nytt")
        assert "Projekt.Nytt" not in {name for _, _, name in watcher.list_sub_folders()}


def test_idle_sees_another_clients_change_quickly(lab: MailLab, user: str) -> None:
    lab.bulk_load(user, 2, seen_ratio=0)
    with connect(lab) as watcher:
        watcher.login(user, PASSWORD)
        watcher.select_folder("INBOX")
        watcher.idle()
        started = time.monotonic()
        lab.set_flags(user, "INBOX", [2], ["\\Seen"])
        seen: list = []
        while time.monotonic() - started < 5 and not any(b"FETCH" in r for r in seen):
            seen += watcher.idle_check(timeout=1)
        watcher.idle_done()
    assert (2, b"FETCH", (b"FLAGS", (b"\\Seen",))) in seen
    assert time.monotonic() - started < 3


# Stopping and starting the server ------------------------------------------------------


def test_restart_imap_keeps_the_mailbox(lab: MailLab, user: str) -> None:
    lab.bulk_load(user, 20)
    lab.set_flags(user, "INBOX", [5], ["\\Flagged"])
    with lab.imap(user) as client:
        before = client.select_folder("INBOX")
    session = connect(lab)
    session.login(user, PASSWORD)
    session.select_folder("INBOX")

    lab.stop_imap()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((lab.host, lab.imap_tls_port), timeout=TIMEOUT)
    with pytest.raises((OSError, imaplib.IMAP4.abort, IMAPClientError)):
        session.noop()  # the open session died with the server
    lab.start_imap()

    with lab.imap(user) as client:
        after = client.select_folder("INBOX")
        flagged = client.search(["FLAGGED"])
    for key in (b"EXISTS", b"UIDVALIDITY", b"UIDNEXT"):
        assert after[key] == before[key]
    assert flagged == [5]
    lab.restart_imap()
    with lab.imap(user) as client:
        assert client.select_folder("INBOX")[b"UIDVALIDITY"] == before[b"UIDVALIDITY"]


# The fault-injecting proxy ---------------------------------------------------------------


@pytest.fixture
def proxy(lab: MailLab) -> Iterator[FaultProxy]:
    with FaultProxy(lab.host, lab.imap_tls_port) as proxy:
        yield proxy


def test_proxy_forwards_an_imaps_login(lab: MailLab, user: str, proxy: FaultProxy) -> None:
    lab.bulk_load(user, 5)
    # TLS end to end: verified against the lab CA and the name "localhost".
    context = ssl.create_default_context(cafile=str(lab.ca_bundle))
    raw = socket.create_connection((proxy.host, proxy.port), timeout=TIMEOUT)
    with context.wrap_socket(raw, server_hostname=lab.hostname) as tls:
        assert tls.recv(100).startswith(b"* OK")
    with connect(lab, proxy.port, proxy.host) as client:
        client.login(user, PASSWORD)
        assert client.select_folder("INBOX")[b"EXISTS"] == 5
    assert proxy.connections == 2
    assert proxy.cuts == 0


def test_proxy_cuts_a_fetch_midway(lab: MailLab, user: str, proxy: FaultProxy) -> None:
    lab.bulk_load(user, 400)
    proxy.cut_after(60_000)  # login takes a few KB; the FETCH below ~250 KB
    client = connect(lab, proxy.port, proxy.host)
    client.login(user, PASSWORD)
    client.select_folder("INBOX")
    with pytest.raises((OSError, imaplib.IMAP4.abort, ssl.SSLError)):
        client._imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
    assert proxy.cuts == 1
    assert proxy.server_bytes <= 60_000
    client.shutdown()
    with connect(lab, proxy.port, proxy.host) as again:  # only the next connection was cut
        again.login(user, PASSWORD)
        assert again.select_folder("INBOX")[b"EXISTS"] == 400
    assert proxy.cuts == 1


def test_proxy_cut_every_and_cut_all_now(lab: MailLab, user: str, proxy: FaultProxy) -> None:
    proxy.cut_after(0, every=True)
    for _ in range(2):
        with pytest.raises((OSError, ssl.SSLError, imaplib.IMAP4.abort)):
            connect(lab, proxy.port, proxy.host)
    proxy.cut_after(None)
    client = connect(lab, proxy.port, proxy.host)
    client.login(user, PASSWORD)
    assert proxy.active == 1
    assert proxy.cut_all_now() == 1
    with pytest.raises((OSError, imaplib.IMAP4.abort, ssl.SSLError)):
        client.noop()
    client.shutdown()
    assert proxy.cuts == 3
    assert proxy.connections == 3


# Awkward messages -----------------------------------------------------------------------


def test_every_awkward_message_is_stored_and_fetchable(lab: MailLab, user: str) -> None:
    corpus = dict(awkward_messages())
    required = {"mime-missing-boundary", "mime-garbled-boundary", "unknown-charset",
                "raw-8bit-no-charset", "rfc2047-latin1-q", "rfc2047-latin1-b", "rfc2047-utf8-q",
                "rfc2047-utf8-b", "nul-in-display-name", "ten-thousand-recipients",
                "ten-mb-single-line", "headers-only", "no-date-no-from", "unparsable-date",
                "long-subject-20k"}  # fmt: skip
    assert required <= set(corpus)
    assert len(corpus["ten-mb-single-line"].split(b"\r\n\r\n", 1)[1]) == 10 * 1024 * 1024
    refused = dict(unappendable_messages())
    assert set(refused) == set(APPEND_REFUSED)
    for name, raw in refused.items():  # Dovecot's answer is still the one written down
        with pytest.raises(IMAPClientError, match=APPEND_REFUSED[name]):
            lab.append(user, raw, folder="Trash")

    uids = lab.load_awkward(user)  # APPEND for the corpus, the maildir writer for the rest
    assert set(uids) == set(corpus) | set(refused)
    with lab.imap(user, timeout=30) as client:
        client.select_folder("INBOX", readonly=True)
        fetched = client.fetch(sorted(uids.values()), ["ENVELOPE", "RFC822.SIZE"])
        nul_uid = str(uids["nul-in-display-name"])
        nul_body = client._imap.uid("FETCH", nul_uid, "(BODY.PEEK[])")[1][0][1]
        # imaplib, not IMAPClient: IMAPClient 4.1 misparses literal8 (~{n}) answers.
        nul_binary = client._imap.uid("FETCH", nul_uid, "(BINARY.PEEK[])")[1][0]
    envelope = {name: fetched[uid][b"ENVELOPE"] for name, uid in uids.items()}
    size = {name: fetched[uid][b"RFC822.SIZE"] for name, uid in uids.items()}

    assert set(fetched) == set(uids.values())
    assert size["ten-mb-single-line"] > 10 * 1024 * 1024
    assert size["zero-bytes"] == 0
    assert len(envelope["ten-thousand-recipients"].to) == 10_000
    assert envelope["no-date-no-from"].from_ is None
    assert envelope["no-date-no-from"].date is None
    assert envelope["unparsable-date"].date is None
    assert len(envelope["long-subject-20k"].subject) == 20480
    assert envelope["raw-8bit-no-charset"].subject == "Räksmörgås på fredag".encode("latin-1")
    assert envelope["nul-in-display-name"].from_[0].host == b"MISSING_DOMAIN"
    assert b"From: Nul\x80Byte" in nul_body  # IMAP literals may not carry NUL: 0x80 instead
    assert nul_binary[0].endswith(b"BINARY[] ~{241}")  # a literal8 may
    assert nul_binary[1] == corpus["nul-in-display-name"]
    for name in ("rfc2047-latin1-q", "rfc2047-latin1-b", "rfc2047-utf8-q", "rfc2047-utf8-b"):
        decoded = email.message_from_bytes(
            b"Subject: " + envelope[name].subject + b"\r\n\r\n", policy=email.policy.default
        )["Subject"]
        assert decoded == "Återkoppling: räksmörgås på fredag", name
