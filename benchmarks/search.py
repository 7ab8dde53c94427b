"""The search index at 100,000 messages, printed as a table (figures in docs/benchmarks.md).

    .venv/bin/python benchmarks/search.py [--messages 100000] [--queries 200] [--database sqlite|postgresql]
        [--no-dovecot] [--dovecot-queries 10]

1. a corpus of --messages messages with Swedish and English bodies (business mail, newsletters,
   replies; a vocabulary with a long tail, as real mail has), made once and kept in var/ (gitignored);
2. their rows written straight into a fresh database (SQLite, or PostgreSQL with --database), in
   three folders, then indexed as the sync indexes fetched bodies (`texts_of_raw` on each message's
   bytes, `store`): messages per second;
3. the index's size against the text it holds (SQLite: the FTS5 table's pages; PostgreSQL: the GIN
   index), and the stored copy of the words (`message_texts`) beside it;
4. --queries searches as the list runs them (mailcore.reading.mailbox.page, All folders, newest
   first, the first page): one word (a word of a random message's body, so common words come up as
   often as people type them) and a three-word phrase (three consecutive words of a random body):
   p50 and p95; a row per conversation, as the list shows by default (the corpus is threaded: about
   40 % of its messages answer a recent conversation);
5. the same mailbox as a Maildir for the lab's Dovecot (no FTS plugin): `SEARCH TEXT` of one word and
   of the phrase, in each folder, --dovecot-queries times each (needs root).
"""

from __future__ import annotations

import argparse
import gzip
import os
import pickle
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VAR = ROOT / "var"
FOLDERS = (("INBOX", "inbox", 0.7), ("Archive", "archive", 0.2), ("Sent", "sent", 0.1))

SV_COMMON = ("och i att det som en på är av för med till den har de inte om ett han men var jag sig från vi så "
             "kan man när år säger hon under också efter eller nu sin där vid mot ska skulle kommer ut får finns "
             "vara hade alla andra mycket än här då sedan över bara in blir upp även vad måste två").split()
SV_WORDS = ("offert faktura leverans avtal möte kund beställning projekt rapport budget ekonomi försäljning "
            "inköp lager order betalning påminnelse förfallodag kvartal årsredovisning styrelse protokoll "
            "beslut underlag förslag pris rabatt villkor garanti reklamation retur frakt paket leverantör "
            "kontrakt förlängning uppsägning tjänst support ärende ticket lösning problem fel server konto "
            "lösenord inloggning uppdatering version release planering workshop presentation agenda lunch "
            "fika konferens resa hotell bokning biljett flyg tåg kostnad utlägg kvitto moms skatt lön semester "
            "ledighet sjukanmälan personal rekrytering intervju anställning kontor flytt städning nycklar "
            "larm säkerhet backup molnet licens prenumeration nyhetsbrev kampanj marknadsföring webbplats "
            "sociala medier kunder partner samarbete möjlighet tillväxt strategi mål resultat uppföljning "
            "återkoppling synpunkter frågor svar bilaga dokument underskrift signering datum tid vecka måndag "
            "tisdag onsdag torsdag fredag morgon eftermiddag kväll snart gärna tack hälsningar vänliga "
            "trevlig helg god jul gott nytt år sommar vinter höst vår göteborg stockholm malmö uppsala "
            "örebro västerås linköping jönköping umeå luleå körsbär äpple smörgås kaffe öl räksmörgås").split()
EN_COMMON = ("the of and to a in is that for it as was with be by on not he this are or his from at which but "
             "have an they you were her she there been one all we their has would when if so no will more "
             "about up out them what some could into than then its only other new").split()
EN_WORDS = ("quote invoice delivery contract meeting customer order project report budget finance sales "
            "purchase stock payment reminder due quarter annual board minutes decision proposal price "
            "discount terms warranty complaint return shipping parcel supplier agreement renewal termination "
            "service support case issue solution problem error server account password login update version "
            "release planning workshop presentation agenda lunch coffee conference travel hotel booking ticket "
            "flight train cost expense receipt tax salary vacation leave staff recruitment interview office "
            "move keys alarm security backup cloud license subscription newsletter campaign marketing website "
            "social media partner cooperation opportunity growth strategy goal result follow feedback "
            "questions answers attachment document signature date week monday tuesday wednesday thursday "
            "friday morning afternoon evening soon thanks regards kind nice weekend happy holidays summer "
            "winter autumn spring london berlin paris madrid dublin amsterdam brussels zurich").split()
FIRST = "Anna Erik Maria Lars Karin Anders Eva Johan Sara Per Lena Mikael Åsa Björn Örjan Ingrid John Emma".split()
LAST = "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Öberg Ängström Smith Brown".split()


def _tail_words(rng: random.Random, count: int) -> list[str]:
    """Names, codes and rare words: the long tail of a real mailbox's vocabulary."""
    syllables = "ka ber lund ström sjö gren vik dal berg holm ne ta ri mo lä sä ö å fa te ro wi ston ley".split()
    made = set()
    while len(made) < count:
        made.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(made)


def _sentence(rng: random.Random, common: list[str], words: list[str], tail: list[str]) -> str:
    out = []
    for _ in range(rng.randint(6, 16)):
        roll = rng.random()
        if roll < 0.5:
            out.append(rng.choice(common))
        elif roll < 0.9:
            out.append(words[min(int(rng.paretovariate(1.1)) - 1, len(words) - 1)] if rng.random() < 0.5
                       else rng.choice(words))
        elif roll < 0.97:
            out.append(tail[min(int(rng.paretovariate(0.8)) - 1, len(tail) - 1)] if rng.random() < 0.7
                       else rng.choice(tail))
        else:
            out.append(str(rng.randint(1, 99999)))
    text = " ".join(out)
    return text[0].upper() + text[1:] + rng.choice(".!?..")


def make_corpus(count: int, seed: int = 22) -> list[tuple]:
    """(folder, date, sender, to, subject, body, kind) per message; kind: plain, html or attachment."""
    rng = random.Random(seed)
    tail = _tail_words(rng, 40_000)
    rng.shuffle(tail)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    people = [(f"{f} {la}", f"{f.lower()}.{la.lower()}@{rng.choice(['kund', 'partner', 'firma', 'example'])}."
               f"{rng.choice(['se', 'com', 'example'])}") for f in FIRST for la in LAST]
    corpus = []
    for number in range(count):
        swedish = rng.random() < 0.6
        common, words = (SV_COMMON, SV_WORDS) if swedish else (EN_COMMON, EN_WORDS)
        roll = rng.random()
        folder = next(name for name, _role, share in FOLDERS if (roll := roll - share) < 0) if roll < 1 else "INBOX"
        name, address = rng.choice(people)
        to = rng.choice(people)
        subject = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4))).capitalize()
        if rng.random() < 0.3:
            subject = ("SV: " if swedish else "Re: ") + subject
        paragraphs = [" ".join(_sentence(rng, common, words, tail) for _ in range(rng.randint(1, 5)))
                      for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 6)))]
        greeting = ("Hej " if swedish else "Hi ") + to[0].split()[0] + ","
        closing = ("Vänliga hälsningar\n" if swedish else "Kind regards\n") + name
        body = "\n\n".join([greeting, *paragraphs, closing])
        kind = rng.choices(("plain", "html", "attachment"), (0.6, 0.3, 0.1))[0]
        date = start + timedelta(seconds=int(number * (3 * 365 * 86400 / count)) + rng.randint(0, 600))
        corpus.append((folder, date, (name, address), to, subject, body, kind))
    return corpus


def corpus(count: int) -> list[tuple]:
    VAR.mkdir(exist_ok=True)
    path = VAR / f"search-corpus-{count}.pickle.gz"
    if path.exists():
        with gzip.open(path, "rb") as stream:
            return pickle.load(stream)
    made = make_corpus(count)
    with gzip.open(path, "wb", compresslevel=3) as stream:
        pickle.dump(made, stream, protocol=pickle.HIGHEST_PROTOCOL)
    return made


def raw_message(item: tuple) -> bytes:
    _folder, date, (name, address), (to_name, to_address), subject, body, kind = item
    message = EmailMessage()
    message["From"] = f"{name} <{address}>"
    message["To"] = f"{to_name} <{to_address}>"
    message["Subject"] = subject
    message["Date"] = date.strftime("%a, %d %b %Y %H:%M:%S +0000")
    if kind == "html":
        paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
        message.set_content(f"<html><body>{paragraphs}</body></html>", subtype="html")
    else:
        message.set_content(body)
    if kind == "attachment":
        message.add_attachment(b"%PDF-1.4 " + bytes(200), maintype="application", subtype="pdf",
                               filename=f"{subject.split()[-1].lower()}-{date.year}.pdf")
    return message.as_bytes()


# --- the database -----------------------------------------------------------------------------------


def make_app(directory: Path, database: str):
    from app import create_app

    config = {"TESTING": True, "INSTANCE_PATH": str(directory / "instance"), "SECRET_KEY": "benchmark",
              "SYNC_MODE": "inline", "DATABASE_URL": database or f"sqlite:///{directory / 'inkorg.db'}"}
    return create_app(config)


def conversations(count: int, seed: int = 5) -> list[int]:
    """A conversation number per message, in date order: about 40 % of messages answer one of the 200
    conversations started last, the rest start one."""
    rng = random.Random(seed)
    numbers, open_lately = [], []
    for number in range(count):
        if open_lately and rng.random() < 0.4:
            numbers.append(rng.choice(open_lately))
        else:
            numbers.append(number + 1)
            open_lately = [*open_lately[-199:], number + 1]
    return numbers


def store_rows(app, items: list[tuple]) -> tuple[dict[str, int], list[int]]:
    """Folders and message rows straight into the database; the folders' ids, and the rows' ids."""
    from sqlalchemy import insert, select

    from mailcore import services
    from mailcore.models import Account, Conversation, Folder, Message

    with app.extensions["mail"].sessions() as db:
        user = services.create_user(db, "bench@inkorg.test", "crm-password-1", "Bench", "en")
        account = Account(user_id=user.id, address="bench@inkorg.test", imap_host="127.0.0.1", imap_port=993,
                          imap_ssl=True, imap_username="bench", imap_password=b"x", smtp_host="127.0.0.1",
                          smtp_port=465, smtp_ssl=True, smtp_username="bench", smtp_password=b"x", sync_state="ok")
        db.add(account)
        db.flush()
        ids = {}
        for name, role, _share in FOLDERS:
            folder = Folder(account_id=account.id, name=name, role=role, total=0, unread=0, version=0,
                            server_total=0, complete=True)
            db.add(folder)
            db.flush()
            ids[name] = folder.id
        uids = dict.fromkeys(ids, 0)
        rows = []
        threads = conversations(len(items))
        for number in sorted(set(threads)):
            db.add(Conversation(id=number, account_id=account.id))
        db.flush()
        for (folder, date, (name, address), (_to_name, to_address), subject, body, kind), thread in zip(
                items, threads, strict=True):
            uids[folder] += 1
            rows.append({"folder_id": ids[folder], "uid": uids[folder], "seen": True, "flagged": False,
                         "answered": False, "date": date.replace(tzinfo=None), "size": len(body),
                         "sender_name": name, "sender_address": address, "subject": subject,
                         "preview": body[:100], "has_attachments": kind == "attachment",
                         "recipients": to_address if folder == "Sent" else "", "conversation_id": thread})
        for start in range(0, len(rows), 5000):
            db.execute(insert(Message), rows[start:start + 5000])
        db.commit()
        message_ids = list(db.scalars(select(Message.id).order_by(Message.folder_id, Message.uid)))
        order = sorted(range(len(items)), key=lambda n: (ids[items[n][0]], rows[n]["uid"]))
        by_item = [0] * len(items)
        for position, n in enumerate(order):
            by_item[n] = message_ids[position]
        return ids, by_item


def index_all(app, items: list[tuple], ids: list[int]) -> tuple[float, int]:
    """Index every message as the sync does once its bytes are fetched; (seconds, characters of text)."""
    from mailcore.search.index import WHOLE, store
    from mailcore.sync.indexing import texts_of_raw

    raws = [raw_message(item) for item in items]  # what the server sends: made before the clock starts
    characters = 0
    started, cpu = time.perf_counter(), time.process_time()
    with app.extensions["mail"].sessions() as db:
        for start in range(0, len(raws), 1000):
            texts = [texts_of_raw(ids[n], raws[n]) for n in range(start, min(start + 1000, len(raws)))]
            characters += sum(len(t[k].encode()) for t in texts for k in ("subject", "sender", "recipients",
                                                                          "attachments", "body"))
            store(db, texts, WHOLE)
            db.commit()
    return time.perf_counter() - started, time.process_time() - cpu, characters


def sizes(app) -> tuple[int, int]:
    """(bytes of the index, bytes of the words' stored copy) as the database stores them; on PostgreSQL the
    index is its two GIN indexes (words, and pairs of words) and the pair numbers stored for the second."""
    from sqlalchemy import text

    with app.extensions["mail"].engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            pairs = connection.scalar(text("select coalesce(sum(pg_column_size(pair_keys)), 0) from message_texts"))
            indexes = connection.scalar(text("select pg_relation_size('ix_message_texts_search') + "
                                             "pg_relation_size('ix_message_texts_pairs')"))
            table = connection.scalar(text("select pg_total_relation_size('message_texts')"))
            return int(indexes) + int(pairs), int(table) - int(indexes) - int(pairs)
        pages = dict(connection.execute(text("select name, sum(pgsize) from dbstat group by name")).all())
        index = sum(v for k, v in pages.items() if k.startswith("message_search"))
        table = sum(v for k, v in pages.items() if k.startswith(("message_texts", "sqlite_autoindex_message_texts")))
        return int(index), int(table)


def timed_searches(app, folder_id: int, queries: list[str]) -> list[float]:
    from sqlalchemy import select

    from mailcore.models import Folder
    from mailcore.reading.mailbox import ListQuery, page

    times, cpu = [], []
    with app.extensions["mail"].sessions() as db:
        folder = db.get(Folder, folder_id)
        page(db, folder, ListQuery(folder.id, search=queries[0], everywhere=True, conversations=True))  # warm
        for query in queries:
            started, used = time.perf_counter(), time.process_time()
            found = page(db, folder, ListQuery(folder.id, search=query, everywhere=True, conversations=True))
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
            assert found.messages or query.startswith('"'), query  # a word of some body is found
        db.scalar(select(1))
    return times, cpu


def sample_queries(items: list[tuple], count: int, seed: int = 7) -> tuple[list[str], list[str]]:
    from mailcore.search.index import words

    rng = random.Random(seed)
    single, phrases = [], []
    while len(single) < count or len(phrases) < count:
        body = words(rng.choice(items)[5])
        candidates = [w for w in body if len(w) >= 3 and not w.isdigit()]
        if len(single) < count and candidates:
            single.append(rng.choice(candidates))
        if len(phrases) < count and len(body) > 8:
            at = rng.randrange(1, len(body) - 4)  # not the greeting
            phrases.append('"' + " ".join(body[at:at + 3]) + '"')
    return single, phrases


def quantiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


# --- Dovecot ------------------------------------------------------------------------------------------


def dovecot_searches(items: list[tuple], single: list[str], phrases: list[str], workdir: Path) -> dict:
    """The same messages in the lab's Dovecot (a Maildir, no FTS plugin): SEARCH TEXT in every folder."""
    from imapclient import IMAPClient

    from localmail.maildir import MaildirMessage, write_maildir
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from sync import LabProcess

    lab = LabProcess(workdir / "lab")
    try:
        address, password = lab.new_user(0, seed=1)
        client = IMAPClient(lab.hostname, port=lab.imap_tls_port, ssl=True, ssl_context=lab.tls_context(),
                            timeout=600)
        client.login(address, password)
        for name, _role, _share in FOLDERS:
            if name != "INBOX" and not client.folder_exists(name):
                client.create_folder(name)
            client.select_folder(name)
            path = Path(lab._call("mailbox_path", address, name))
            chosen = [item for item in items if item[0] == name]
            write_maildir(path, [MaildirMessage(raw_message(item), item[1].timestamp(), "S") for item in chosen])
            info = client.select_folder(name)  # Dovecot indexes the new files
            assert info[b"EXISTS"] == len(chosen), (name, info[b"EXISTS"], len(chosen))

        def everywhere(criteria: list[str]) -> float:
            started = time.perf_counter()
            for name, _role, _share in FOLDERS:
                client.select_folder(name, readonly=True)
                client.search(criteria, charset="UTF-8")
            return time.perf_counter() - started

        everywhere(["TEXT", single[0]])  # the files in the page cache, as for our warm database
        one = [everywhere(["TEXT", word]) for word in single]
        three = [everywhere(["TEXT", phrase.strip('"')]) for phrase in phrases]
        client.logout()
        return {"one": quantiles(one), "three": quantiles(three)}
    finally:
        lab.stop()


class _Skip(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--no-dovecot", action="store_true")
    parser.add_argument("--only-dovecot", action="store_true", help="skip the database's figures")
    parser.add_argument("--dovecot-queries", type=int, default=10)
    args = parser.parse_args()

    began = time.perf_counter()
    items = corpus(args.messages)
    text_bytes = sum(len(item[5].encode()) for item in items)
    print(f"corpus: {len(items)} messages, {text_bytes / 1e6:.1f} MB of body text "
          f"({time.perf_counter() - began:.1f} s)", flush=True)
    single, phrases = sample_queries(items, args.queries)
    rows: list[tuple[str, str, str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="inkorg-search-") as directory:
        workdir = Path(directory)
        if args.database == "postgresql":
            from localmail import services as lab_services

            context = lab_services.fresh_database("inkorg_search_bench")
            database = context.__enter__()
        else:
            context, database = None, ""
        try:
            if args.only_dovecot:
                raise _Skip
            app = make_app(workdir, database)
            folder_ids, message_ids = store_rows(app, items)
            seconds, cpu, characters = index_all(app, items, message_ids)
            rate = len(items) / seconds
            rows.append(("indexing, from each message's bytes to the index", f"{rate:,.0f} messages/s "
                         f"({seconds:.1f} s; {len(items) / cpu:,.0f} per CPU second in this process)",
                         "at least 2,000/s", rate >= 2000))
            if args.database == "postgresql":  # the planner's statistics, as autovacuum gathers them
                from sqlalchemy import text

                with app.extensions["mail"].engine.connect() as connection:  # after a bulk load
                    connection.execute(text("ANALYZE"))
                    connection.commit()
            index, table = sizes(app)
            rows.append(("the index against the text it holds", f"{index / 1e6:.1f} MB / {characters / 1e6:.1f} MB"
                         f" = {index / characters:.2f}x (the words' stored copy beside it: {table / 1e6:.1f} MB)",
                         "at most 1.5x", index <= 1.5 * characters))
            inbox = folder_ids["INBOX"]
            (one, one_cpu), (three, three_cpu) = (map(quantiles, timed_searches(app, inbox, queries))
                                                  for queries in (single, phrases))
            rows.append((f"one word, all folders, first page ({args.queries} words)",
                         f"p50 {one[0]:.1f} ms, p95 {one[1]:.1f} ms (CPU: p50 {one_cpu[0]:.1f}, p95 "
                         f"{one_cpu[1]:.1f} ms)", "p95 under 50 ms", one[1] < 50))
            rows.append((f"three-word phrase, all folders ({args.queries} phrases)",
                         f"p50 {three[0]:.1f} ms, p95 {three[1]:.1f} ms (CPU: p50 {three_cpu[0]:.1f}, p95 "
                         f"{three_cpu[1]:.1f} ms)", "p95 under 100 ms", three[1] < 100))
            app.extensions["mail"].engine.dispose()
        except _Skip:
            pass
        finally:
            if context is not None:
                context.__exit__(None, None, None)
        if not args.no_dovecot:
            count = args.dovecot_queries
            dovecot = dovecot_searches(items, single[:count], phrases[:count], workdir)
            rows.append((f"Dovecot SEARCH TEXT, one word, all folders ({count} words)",
                         f"p50 {dovecot['one'][0]:.0f} ms, p95 {dovecot['one'][1]:.0f} ms", "", True))
            rows.append((f"Dovecot SEARCH TEXT, three-word phrase, all folders ({count})",
                         f"p50 {dovecot['three'][0]:.0f} ms, p95 {dovecot['three'][1]:.0f} ms", "", True))
    print(f"\n{args.messages:,} messages on {args.database}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores:\n")
    print("| what | figure | target |\n|---|---|---|")
    for what, figure, target, ok in rows:
        print(f"| {what} | {figure} | {target}{'' if ok or not target else ' MISSED'} |")
    print(f"\n({time.perf_counter() - began:.0f} s in all)")
    return 0 if all(ok for *_rest, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
