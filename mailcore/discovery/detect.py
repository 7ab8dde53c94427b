"""Finding the server settings for an address.

Sources, best first: the provider lists (the operator's file, then the built-in one), the domain's
own autoconfig document, DNS SRV records (RFC 6186), the domain's MX records, and a guess made by
probing the usual server names. The lists answer at once; the others run concurrently, and the
answer is the best-ranked source's as soon as every better source has finished without one. A hard
budget bounds the whole search. Views only ever call `Detector.detect`.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from urllib.parse import urlsplit

from mailcore.deadline import remaining
from mailcore.discovery import autoconfig, probe
from mailcore.discovery.dnsquery import Dns
from mailcore.discovery.ispdb import Ispdb, oauth_issuer
from mailcore.discovery.providers import Provider, ProviderList
from mailcore.netpolicy import NetworkPolicy
from mailcore.settings import IMAP_PORTS, SMTP_PORTS, AccountSettings, ServerSettings, split_address

SOURCE_PROVIDER = "provider"
SOURCE_AUTOCONFIG = "autoconfig"
SOURCE_ISPDB = "ispdb"
SOURCE_SRV = "srv"
SOURCE_MX = "mx"
SOURCE_GUESS = "guess"
SOURCE_NONE = "none"


@dataclass(frozen=True)
class Detection:
    settings: AccountSettings | None  # None: nothing usable found (see pop3_only)
    source: str
    provider: Provider | None = None
    display_name: str = ""
    pop3_only: bool = False
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.provider.name if self.provider else self.display_name


@dataclass(frozen=True)
class DiscoveryNetwork:
    """What the network-facing sources need: where they may connect, whom they trust, how long."""

    policy: NetworkPolicy
    tls_context: Callable[[], ssl.SSLContext]
    dns: Dns
    autoconfig_port: int | None = None
    budget: float = 8.0
    step_timeout: float = 4.0


def _spawn(fn: Callable, *args) -> Future:
    """Runs fn on a daemon thread: one that never returns (a silent server) cannot hold the process."""
    future: Future = Future()

    def work() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=work, daemon=True, name="discovery").start()
    return future


def _first_in_order(futures: Sequence[Future], deadline: float):
    """The result of the first future in order that succeeds with a value, waiting for each only as
    long as an earlier one might still win; at the deadline, the best that has finished."""
    for future in futures:
        try:
            value = future.result(timeout=remaining(deadline))
        except TimeoutError:
            break
        except Exception:
            continue
        if value is not None:
            return value
    for future in futures:
        if future.done() and not future.cancelled() and future.exception() is None and future.result():
            return future.result()
    return None


def guessed_settings(address: str) -> AccountSettings:
    """The conventional names, implicit TLS: what Advanced settings starts from when nothing is known."""
    _, domain = split_address(address)
    return AccountSettings(
        address,
        ServerSettings(f"imap.{domain}", IMAP_PORTS[True], True, address),
        ServerSettings(f"smtp.{domain}", SMTP_PORTS[True], True, address),
    )


@dataclass(frozen=True)
class SourceReport:
    """What one source said during a search, and how long it took (for `flask discover`)."""

    source: str
    said: str
    seconds: float
    found: Detection | None = None


@dataclass
class Detector:
    providers: ProviderList
    network: DiscoveryNetwork | None = None
    ispdb: Ispdb | None = None  # the central ISPDB (MAIL_ISPDB_URL); None: never asked

    def detect(self, address: str) -> Detection:
        started = time.monotonic()
        _, domain = split_address(address)
        found = self.from_lists(address)
        if found is not None:
            pass
        elif self.network is None:
            found = Detection(None, SOURCE_NONE)
        else:
            found = self._search(address, domain, started + self.network.budget)
        return _with_time(found, time.monotonic() - started)

    def explain(self, address: str) -> tuple[Detection, list[SourceReport]]:
        """What `detect` answers, and what every source said: the lists, then every network source
        (even when a list answers), each waited for until it finishes or the budget ends."""
        started = time.monotonic()
        _, domain = split_address(address)
        found = self.from_lists(address)
        reports = [SourceReport(SOURCE_PROVIDER, describe(found), time.monotonic() - started, found)]
        if self.network is not None:
            searched = self._search(address, domain, started + self.network.budget, reports, wait_all=True)
            found = found or searched
        found = found or Detection(None, SOURCE_NONE)
        return _with_time(found, time.monotonic() - started), reports

    def from_lists(self, address: str) -> Detection | None:
        """Only what the provider lists know: instant, no network."""
        provider = self.providers.by_domain(split_address(address)[1])
        return _from_provider(address, provider, SOURCE_PROVIDER) if provider else None

    def _search(self, address: str, domain: str, deadline: float, trace: list[SourceReport] | None = None,
                wait_all: bool = False) -> Detection:
        step_deadline = min(deadline, time.monotonic() + self.network.step_timeout)
        steps: list[tuple[str, Callable, tuple]] = [
            (SOURCE_AUTOCONFIG, self._autoconfig, (address, domain, step_deadline))]
        if self.ispdb is not None:
            steps.append((SOURCE_ISPDB, self._ispdb, (address, [domain], step_deadline)))
        steps += [(SOURCE_SRV, self._srv, (address, domain, step_deadline)),
                  (SOURCE_MX, self._mx, (address, domain, step_deadline)),
                  (SOURCE_GUESS, self._guess, (address, domain, deadline))]
        started = time.monotonic()
        sources = [_spawn(_traced, name, fn, args, trace, started) for name, fn, args in steps]
        found = _first_in_order(sources, deadline) or Detection(None, SOURCE_NONE)
        if wait_all:
            for name, future in zip((name for name, _, _ in steps), sources, strict=True):
                try:
                    future.result(timeout=remaining(deadline))
                except TimeoutError:
                    trace.append(SourceReport(name, "no answer before the budget ended", time.monotonic() - started))
                except Exception:
                    pass
        return found

    # --- sources -----------------------------------------------------------------------------

    def _autoconfig(self, address: str, domain: str, deadline: float,
                    source: str = SOURCE_AUTOCONFIG) -> Detection | None:
        net = self.network
        fetches = [_spawn(autoconfig.fetch, url, net.policy, net.tls_context(), deadline, net.autoconfig_port)
                   for url in autoconfig.urls(domain, address)]
        parsed = [_spawn(_parse_when_fetched, fetched, address) for fetched in fetches]
        result = _first_in_order(parsed, deadline)
        if result is None:
            raise autoconfig.AutoconfigError("; ".join(_why(future) for future in parsed))
        return Detection(result.settings, source, display_name=result.display_name, pop3_only=result.pop3_only)

    def _ispdb(self, address: str, domains: list[str], deadline: float) -> Detection | None:
        """The central ISPDB's document for the first of `domains` it has one for."""
        net = self.network
        lookups = [_spawn(self.ispdb.document, domain, net.policy, net.tls_context, deadline) for domain in domains]
        parsed = [_spawn(_parse_when_fetched, lookup, address, True) for lookup in lookups]
        result = _first_in_order(parsed, deadline)
        if result is None:
            raise autoconfig.AutoconfigError("; ".join(f"{domain}: {_why(future)}"
                                                       for domain, future in zip(domains, parsed, strict=True)))
        found, document = result
        provider = self._signs_in(document, found.settings)
        return Detection(found.settings, SOURCE_ISPDB, provider, found.display_name, found.pop3_only)

    def _signs_in(self, document: bytes, settings: AccountSettings | None) -> Provider | None:
        """A provider whose OAuth sign-in the app has and that serves these servers, when the ISPDB's
        document says they take OAuth 2.0 from that provider's issuer."""
        issuer = oauth_issuer(document)
        if issuer is None or settings is None:
            return None
        matches = [provider for provider in self.providers.providers
                   if provider.oauth2 is not None and provider.incoming is not None
                   and urlsplit(provider.oauth2.issuer.replace("{tenant}", "common")).hostname == issuer
                   and provider.incoming.host == settings.incoming.host]
        # the one whose outgoing server is the document's too (Microsoft 365 rather than Outlook.com)
        return max(matches, key=lambda p: p.outgoing is not None and p.outgoing.host == settings.outgoing.host,
                   default=None)

    def _srv(self, address: str, domain: str, deadline: float) -> Detection | None:
        dns, allowed = self.network.dns, self.network.policy.allowed_ports
        timeout = remaining(deadline, 0.1)
        lookups = {name: _spawn(dns.srv, f"{name}.{domain}", timeout)
                   for name in ("_imaps._tcp", "_imap._tcp", "_submissions._tcp", "_submission._tcp")}

        def pick(names: tuple[str, str]) -> ServerSettings | None:
            for name, tls in zip(names, (True, False), strict=True):
                try:
                    records = lookups[name].result(timeout=remaining(deadline))
                except Exception:
                    continue
                for record in records:
                    if record.port in allowed:
                        return ServerSettings(record.target, record.port, tls, address)
            return None

        incoming, outgoing = pick(("_imaps._tcp", "_imap._tcp")), pick(("_submissions._tcp", "_submission._tcp"))
        if incoming and outgoing:
            return Detection(AccountSettings(address, incoming, outgoing), SOURCE_SRV)
        return None

    def _mx(self, address: str, domain: str, deadline: float) -> Detection | None:
        """A known provider by MX host; else the autoconfig of the MX host's registrable domain, then
        the central ISPDB for the MX host's domain and its registrable domain (as Thunderbird asks)."""
        hosts = self.network.dns.mx(domain, timeout=remaining(deadline, 0.1))
        provider = self.providers.by_mx(hosts)
        if provider is not None:
            return _from_provider(address, provider, SOURCE_MX)
        if not hosts:
            return None
        mx_domain = autoconfig.registrable_domain(hosts[0])
        steps = []
        if mx_domain != autoconfig.registrable_domain(domain):  # else the domain's own is being fetched
            steps.append(_spawn(self._autoconfig, address, mx_domain, deadline, SOURCE_MX))
        if self.ispdb is not None:
            parent = hosts[0].partition(".")[2]
            asked = [d for d in dict.fromkeys((parent, mx_domain))
                     if d != domain and d.endswith(mx_domain) and len(d) >= len(mx_domain)]
            if asked:
                steps.append(_spawn(self._ispdb, address, asked, deadline))
        return _first_in_order(steps, deadline)

    def _guess(self, address: str, domain: str, deadline: float) -> Detection | None:
        net = self.network
        context = net.tls_context()
        pop_policy = net.policy.with_ports(995, 110)

        def probes(kind: str, hosts: list[str], ports: list[tuple[int, bool]]) -> list[Future]:
            policy = pop_policy if kind == "pop3" else net.policy
            return [_spawn(probe.run, probe.Probe(kind, host, port, tls), policy, context, deadline)
                    for port, tls in ports for host in hosts]

        imap = probes("imap", [f"imap.{domain}", f"mail.{domain}", domain], [(993, True), (143, False)])
        smtp = probes("smtp", [f"smtp.{domain}", f"mail.{domain}"], [(465, True), (587, False)])
        pop3 = probes("pop3", [f"pop.{domain}", f"pop3.{domain}", f"mail.{domain}"], [(995, True), (110, False)])
        incoming = _first_in_order(imap, deadline)
        if incoming is None:
            return Detection(None, SOURCE_GUESS, pop3_only=True) if _first_in_order(pop3, deadline) else None
        outgoing = _first_in_order(smtp, deadline)
        if outgoing is None:
            return None
        return Detection(AccountSettings(
            address,
            ServerSettings(incoming.host, incoming.port, incoming.ssl, address),
            ServerSettings(outgoing.host, outgoing.port, outgoing.ssl, address)), SOURCE_GUESS)


def _parse_when_fetched(fetched: Future, address: str, with_document: bool = False):
    document = fetched.result()
    parsed = autoconfig.parse(document, address)
    return (parsed, document) if with_document else parsed


def _why(future: Future) -> str:
    """Why a finished source gave nothing; one still running is out of time."""
    if not future.done():
        return "out of time"
    exc = future.exception()
    return str(exc) if exc is not None else "nothing usable"


def _traced(name: str, fn: Callable, args: tuple, trace: list[SourceReport] | None, started: float):
    """fn(*args), its outcome added to `trace` (when there is one)."""
    try:
        found = fn(*args)
    except Exception as exc:
        if trace is not None:
            trace.append(SourceReport(name, str(exc) or type(exc).__name__, time.monotonic() - started))
        raise
    if trace is not None:
        trace.append(SourceReport(name, describe(found), time.monotonic() - started, found))
    return found


def describe(found: Detection | None) -> str:
    """A source's answer in a line, for operators."""
    if found is None:
        return "nothing found"
    who = found.name
    if found.settings is None:
        return f"POP3 only ({who})" if found.pop3_only and who else ("POP3 only" if found.pop3_only else "nothing")
    s = found.settings

    def side(kind: str, server: ServerSettings) -> str:
        return f"{kind} {server.host}:{server.port} {'SSL' if server.ssl else 'STARTTLS'} user {server.username}"

    text = f"{side('IMAP', s.incoming)}, {side('SMTP', s.outgoing)}"
    extra = []
    if who:
        extra.append(who)
    if found.provider is not None and found.provider.oauth2 is not None:
        extra.append(f"sign-in: {found.provider.oauth2.label}")
    return text + (f" ({'; '.join(extra)})" if extra else "")


def _from_provider(address: str, provider: Provider, source: str) -> Detection:
    if provider.incoming is None or provider.outgoing is None:
        return Detection(None, source, provider, pop3_only=provider.pop3_only)
    settings = AccountSettings(address, provider.incoming.for_address(address),
                               provider.outgoing.for_address(address))
    return Detection(settings, source, provider)


def _with_time(found: Detection, seconds: float) -> Detection:
    return Detection(found.settings, found.source, found.provider, found.display_name, found.pop3_only, seconds)
