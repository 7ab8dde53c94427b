"""How fast and how right discovery is, in the loopback world of localmail/world.py.

    .venv/bin/python benchmarks/detect.py [--runs 200] [--dns-delay 0.02] [--budget 8]

Prints four figures:
  1. a provider-list hit: median time of Detector.detect (target under 5 ms);
  2. an address only probing can solve: the concurrent pipeline against the same steps run one after
     another (target: at most 0.35x). DNS answers are delayed by --dns-delay, as from a resolver a
     network away; on bare loopback every step costs almost nothing and there is little to overlap;
  3. a domain whose every server accepts and never answers: the time of each run against the budget;
  4. the discovery table of tests/test_discovery.py: how many rows come out right;
  5. an address only the central ISPDB knows, the ISPDB answering after --ispdb-delay (target under
     1 s), and its answer from the cache: in memory, and from the database (target under 1 ms).
Needs root (the mail servers listen on the standard ports of 127.0.3.5).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localmail.world import World  # noqa: E402
from mailcore.connect import MailEnvironment  # noqa: E402
from mailcore.discovery import autoconfig, probe  # noqa: E402
from mailcore.discovery.detect import Detector, DiscoveryNetwork  # noqa: E402
from mailcore.discovery.dnsquery import Dns  # noqa: E402
from mailcore.discovery.ispdb import DatabaseCache, Ispdb, MemoryCache  # noqa: E402
from mailcore.discovery.providers import ProviderList  # noqa: E402
from mailcore.netpolicy import MAIL_PORTS, NetworkPolicy, parse_networks  # noqa: E402

GUESS_ONLY = "kim@guess.test"
ISPDB_ONLY = "kim@online.de"
ISPDB_FILES = ROOT / "tests" / "ispdb"


def make_detector(world: World, budget: float, cache=None) -> Detector:
    dns = Dns(world.dns.address, timeout=min(3.0, budget))
    policy = NetworkPolicy(parse_networks("127.0.0.0/8"), MAIL_PORTS, dns.addresses)
    env = MailEnvironment(policy, world.lab.ca_bundle)
    return Detector(ProviderList.load(), DiscoveryNetwork(policy, env.tls_context, dns, world.web.port,
                                                          budget=budget, step_timeout=min(4.0, budget)),
                    Ispdb(world.ispdb_url, cache if cache is not None else MemoryCache()))


def ispdb_figures(world: World, budget: float, delay: float, runs: int, workdir: Path) -> None:
    """An ISPDB-only address with a fresh cache each time, the ISPDB `delay` away; then the cache."""
    world.web.delays["ispdb.test"] = delay

    def fresh() -> None:
        found = make_detector(world, budget).detect(ISPDB_ONLY)
        assert found.source == "ispdb", found

    first = timed(fresh, runs)
    world.web.delays.clear()
    print(f"ISPDB only ({ISPDB_ONLY}, the ISPDB answering after {delay * 1000:.0f} ms, nothing cached): "
          f"median {statistics.median(first) * 1000:.0f} ms, slowest {max(first) * 1000:.0f} ms over {runs} "
          f"runs (target < 1 s)")

    from sqlalchemy import create_engine

    from mailcore import db as maildb

    engine = create_engine(f"sqlite:///{workdir / 'cache.db'}")
    maildb.upgrade(engine)
    cache = DatabaseCache(maildb.session_factory(engine))
    detector = make_detector(world, budget, cache)
    net = detector.network
    detector.ispdb.answer("online.de", net.policy, net.tls_context, time.monotonic() + budget)  # fetched, kept

    def answer() -> None:
        assert detector.ispdb.answer("online.de", net.policy, net.tls_context, time.monotonic() + 1).document

    memory = timed(answer, runs * 10)

    def from_database() -> None:
        cache.memory.clear()
        answer()

    stored = timed(from_database, runs * 10)
    whole = timed(lambda: detector.detect(ISPDB_ONLY), runs)
    print(f"ISPDB answer from the cache: in memory median {statistics.median(memory) * 1000:.3f} ms, from the "
          f"database (SQLite) median {statistics.median(stored) * 1000:.3f} ms, p95 "
          f"{sorted(stored)[int(len(stored) * 0.95) - 1] * 1000:.3f} ms over {len(stored)} runs (target < 1 ms); "
          f"the whole discovery of {ISPDB_ONLY} with it cached: median {statistics.median(whole) * 1000:.1f} ms")
    engine.dispose()


def sequential(detector: Detector, address: str) -> bool:
    """The pipeline's steps for an address, one after another, with the same stopping rules."""
    net = detector.network
    deadline = time.monotonic() + net.budget
    _, domain = address.rsplit("@", 1)
    detector.providers.by_domain(domain)
    for url in autoconfig.urls(domain, address):
        try:
            autoconfig.parse(autoconfig.fetch(url, net.policy, net.tls_context(), deadline, net.autoconfig_port),
                             address)
            return True
        except autoconfig.AutoconfigError:
            pass
    srv = [net.dns.srv(f"{name}.{domain}") for name in ("_imaps._tcp", "_imap._tcp", "_submissions._tcp",
                                                         "_submission._tcp")]
    if (srv[0] or srv[1]) and (srv[2] or srv[3]):
        return True
    if detector.providers.by_mx(net.dns.mx(domain)):
        return True

    def first(kind: str, hosts: list[str], ports: list[tuple[int, bool]]) -> bool:
        for port, tls in ports:
            for host in hosts:
                try:
                    probe.run(probe.Probe(kind, host, port, tls), net.policy, net.tls_context(), deadline)
                    return True
                except probe.ProbeFailed:
                    pass
        return False

    return (first("imap", [f"imap.{domain}", f"mail.{domain}", domain], [(993, True), (143, False)])
            and first("smtp", [f"smtp.{domain}", f"mail.{domain}"], [(465, True), (587, False)]))


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs of the list hit (a tenth for the rest)")
    parser.add_argument("--dns-delay", type=float, default=0.02, help="seconds each DNS answer waits")
    parser.add_argument("--budget", type=float, default=8.0, help="the pipeline's budget in seconds")
    parser.add_argument("--tarpit-runs", type=int, default=3)
    parser.add_argument("--ispdb-delay", type=float, default=0.05, help="seconds each ISPDB answer waits")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        world = World.start(Path(workdir), ispdb_dir=ISPDB_FILES)
        try:
            detector = make_detector(world, args.budget)
            hit = timed(lambda: detector.detect("anna.berg@gmail.com"), args.runs)
            print(f"list hit (anna.berg@gmail.com): median {statistics.median(hit) * 1000:.3f} ms, "
                  f"p95 {sorted(hit)[int(len(hit) * 0.95) - 1] * 1000:.3f} ms over {len(hit)} runs "
                  f"(target < 5 ms)")

            world.dns.delay = args.dns_delay
            runs = max(5, args.runs // 10)
            assert detector.detect(GUESS_ONLY).source == "guess"
            assert sequential(detector, GUESS_ONLY)
            together = statistics.median(timed(lambda: detector.detect(GUESS_ONLY), runs))
            one_by_one = statistics.median(timed(lambda: sequential(detector, GUESS_ONLY), runs))
            print(f"guess only ({GUESS_ONLY}, DNS answers after {args.dns_delay * 1000:.0f} ms): concurrent "
                  f"{together * 1000:.1f} ms, one after another {one_by_one * 1000:.1f} ms, "
                  f"ratio {together / one_by_one:.2f}x (target <= 0.35x), median of {runs}")
            world.dns.delay = 0.0

            ispdb_figures(world, args.budget, args.ispdb_delay, runs, Path(workdir))

            tarpit = timed(lambda: detector.detect("kim@tarpit.test"), args.tarpit_runs)
            within = all(t <= args.budget + 0.25 for t in tarpit)
            print(f"all-tarpit (kim@tarpit.test): {', '.join(f'{t:.2f} s' for t in tarpit)} with a budget of "
                  f"{args.budget:.1f} s: {'within the budget every time' if within else 'OVER THE BUDGET'}")

            from tests.test_discovery import TABLE, _expect

            table_detector = make_detector(world, min(args.budget, 2.5))
            right = 0
            for address, source, who, incoming, outgoing in TABLE:
                found = table_detector.detect(address)
                settings = found.settings
                got = [(s.host, s.port, s.ssl, s.username) if s else None
                       for s in ((settings.incoming, settings.outgoing) if settings else (None, None))]
                ok = found.source == source and got == [_expect(incoming, address), _expect(outgoing, address)]
                ok = ok and (not who or (found.provider.id if found.provider else found.display_name) == who)
                ok = ok and (incoming != "pop3" or found.pop3_only)
                right += ok
                if not ok:
                    print(f"  wrong: {address}: {found.source} {got}")
            print(f"table: {right}/{len(TABLE)} right ({right / len(TABLE):.0%})")
        finally:
            world.stop()


if __name__ == "__main__":
    main()
