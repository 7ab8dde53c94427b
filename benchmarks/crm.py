"""The CRM's persons at size: `flask crm import` of --persons vCards, and the one-query lookup of a page's
addresses among them, on SQLite (and with --postgresql also on a fresh PostgreSQL database).

    .venv/bin/python benchmarks/crm.py [--persons 10000] [--addresses 50] [--postgresql]

1. import of --persons vCards into an empty database: the whole `flask --app app crm import FILE`
   process (start, reading, parsing, writing), wall-clock and CPU seconds;
2. the same file again (every card found, nothing changed) with --persons persons stored;
3. --persons other vCards with --persons persons stored;
4. the lookup of --addresses addresses (one list page) among the 2 x --persons persons: milliseconds,
   median and worst of 50 runs, in one SQL statement.

The machine's other work shares its cores: its load is printed too.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_vcards(path: Path, count: int, prefix: str) -> None:
    """vCards 3.0 and 4.0 alternately: name, title, phone, company, two addresses each."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            version = "3.0" if n % 2 else "4.0"
            out.write(f"BEGIN:VCARD\r\nVERSION:{version}\r\nN:Berg{n};{prefix}{n};;;\r\nFN:{prefix}{n} Berg{n}\r\n"
                      f"ORG:Företag {n % 500} AB\r\nTITLE:Säljare\r\nTEL;TYPE=WORK:+46 8 {n:06d}\r\n"
                      f"EMAIL;TYPE=INTERNET:{prefix}{n}@foretag{n % 500}.example\r\n"
                      f"EMAIL;TYPE=INTERNET:{prefix}.{n}@gmail.com\r\nEND:VCARD\r\n")


def flask(env: dict[str, str], *args: str) -> str:
    """Runs one `flask --app app` process: its wall-clock time, its CPU time (user and system: what the
    wall-clock time comes to on an idle machine, less the database server's share) and its last line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    last = done.stdout.splitlines()[-1] if done.stdout.strip() else ""
    return f"{wall:.2f} s, CPU {cpu:.2f} s ({last})"


def lookup(url: str, instance: Path, persons: int, addresses: int) -> tuple[float, float, int]:
    from sqlalchemy import event

    from app import create_app
    from mailcore.crm.people import persons_for

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url, "SECRET_KEY": "bench",
                      "SYNC_MODE": "inline"})
    engine = app.extensions["mail"].engine
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cu, statement, *_: seen.append(statement))
    timings = []
    rng = random.Random(1)
    with app.extensions["mail"].sessions() as db:
        for _ in range(50):
            page = [f"{rng.choice('ab')}{n}@foretag{n % 500}.example" for n in rng.sample(range(persons), addresses)]
            db.expunge_all()
            seen.clear()
            started = time.perf_counter()
            found = persons_for(db, page)
            timings.append((time.perf_counter() - started) * 1000)
            assert len(found) == addresses, len(found)
    engine.dispose()
    return statistics.median(timings), max(timings), len(seen)


def run(label: str, url: str, work: Path, persons: int, addresses: int) -> None:
    env = {"DATABASE_URL": url, "INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "bench"}
    first, second = work / "a.vcf", work / "b.vcf"
    write_vcards(first, persons, "a")
    write_vcards(second, persons, "b")
    flask(env, "crm", "export", "--format", "csv", "--output", os.devnull)  # creates the schema
    print(f"{label}: import of {persons} vCards, empty database: {flask(env, 'crm', 'import', str(first))}")
    print(f"{label}: the same again, {persons} stored:           {flask(env, 'crm', 'import', str(first))}")
    print(f"{label}: {persons} other vCards, {persons} stored:       {flask(env, 'crm', 'import', str(second))}")
    median, worst, queries = lookup(url, work / "instance", persons, addresses)
    print(f"{label}: lookup of {addresses} addresses among {2 * persons} persons: median {median:.2f} ms, "
          f"worst {worst:.2f} ms, {queries} SQL statement(s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10000)
    parser.add_argument("--addresses", type=int, default=50)
    parser.add_argument("--postgresql", action="store_true", help="also on a fresh PostgreSQL database")
    options = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="inkorg-crm-") as tmp:
        work = Path(tmp) / "sqlite"
        work.mkdir()
        run("SQLite", f"sqlite:///{work / 'inkorg.db'}", work, options.persons, options.addresses)
        if options.postgresql:
            from localmail import services

            work = Path(tmp) / "postgresql"
            work.mkdir()
            with services.fresh_database("inkorg_bench_crm") as url:
                run("PostgreSQL", url, work, options.persons, options.addresses)


if __name__ == "__main__":
    main()
