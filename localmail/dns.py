"""A real authoritative DNS server on loopback (dnslib), UDP and TCP on one port.

    dns = LocalDns({
        "example.test": [("MX", 10, "mx.example.test"), ("A", "127.0.0.5")],
        "_imaps._tcp.example.test": [("SRV", 0, 1, 993, "imap.example.test")],
        "alias.example.test": [("CNAME", "example.test")],
    }, silent={"slow.test"})
    resolver.nameservers, resolver.port = [dns.host], dns.port   # dnspython
    ...
    dns.queries   # [("example.test", "MX"), ...] in the order asked
    dns.stop()

A name absent from the records answers NXDOMAIN; a name present without the
asked type answers NOERROR with no records (NODATA); a name in `silent`, or
under a silent domain, is never answered (the client times out). A CNAME is
answered for any type and followed within the records, as a recursive
resolver would. Names are case-insensitive, with or without the final dot.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, SRV, TXT, A, DNSError, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSServer

Record = tuple[Any, ...]
TTL = 60
_MAX_CNAME_CHAIN = 8
_BIND_ATTEMPTS = 20


def _rdata(record: Record) -> tuple[int, Any]:
    """("MX", 10, "mx.test") -> (QTYPE.MX, MX("mx.test", 10)), checking the shape."""
    if not record or not isinstance(record[0], str):
        raise ValueError(f"a record is a tuple starting with its type, got {record!r}")
    kind, args = record[0].upper(), record[1:]
    try:
        if kind == "A":
            (address,) = args
            return QTYPE.A, A(str(ipaddress.IPv4Address(address)))
        if kind == "AAAA":
            (address,) = args
            return QTYPE.AAAA, AAAA(str(ipaddress.IPv6Address(address)))
        if kind == "MX":
            preference, exchange = args
            return QTYPE.MX, MX(exchange, int(preference))
        if kind == "SRV":
            priority, weight, port, target = args
            return QTYPE.SRV, SRV(int(priority), int(weight), int(port), target)
        if kind == "CNAME":
            (target,) = args
            return QTYPE.CNAME, CNAME(target)
        if kind == "TXT":
            # One string, or several (each at most 255 bytes on the wire).
            strings = [s.encode() if isinstance(s, str) else bytes(s) for s in args]
            if not strings or any(len(s) > 255 for s in strings):
                raise ValueError("TXT needs one or more strings of at most 255 bytes each")
            return QTYPE.TXT, TXT(strings)
    except (TypeError, ValueError) as error:
        raise ValueError(f"bad {kind} record {record!r}: {error}") from error
    raise ValueError(f"unsupported record type in {record!r} (A, AAAA, MX, SRV, CNAME, TXT)")


def _name(name: str) -> str:
    return name.strip().rstrip(".").lower()


class _Quiet:
    """dnslib's DNSLogger prints every packet; the tests want silence."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


class _Silence(DNSError):
    """Raised for a silent name: dnslib's handler then sends nothing at all."""


class _Resolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, owner: LocalDns) -> None:
        self.owner = owner

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        if self.owner.delay:
            time.sleep(self.owner.delay)  # a resolver's round trip, for benchmarks
        try:
            return self.owner._answer(request)
        except _Silence:
            if handler.protocol == "tcp":  # hold the connection: no reply, no EOF either
                self.owner._stopping.wait()
            raise


class LocalDns:
    def __init__(
        self,
        records: Mapping[str, Sequence[Record]],
        host: str = "127.0.0.1",
        silent: Iterable[str] = frozenset(),
        delay: float = 0.0,
    ) -> None:
        """delay: seconds to wait before each answer, like a resolver across a network."""
        self.delay = delay
        address = ipaddress.ip_address(host)
        if address.version != 4 or not address.is_loopback:
            raise ValueError(f"LocalDns needs an IPv4 loopback host, got {host!r}")
        self.host = host
        self._lock = threading.Lock()
        self._records: dict[str, list[tuple[int, Any]]] = {}
        for name, rrs in records.items():
            self._records[_name(name)] = [_rdata(tuple(r)) for r in rrs]
        if isinstance(silent, str):
            silent = {silent}
        self._silent = {_name(name) for name in silent}
        self._stopping = threading.Event()
        self.queries: list[tuple[str, str]] = []  # (name, type) in the order received
        self._servers = self._bind(host)
        self.port: int = self._servers[0].server.server_address[1]
        self.address = f"{host}:{self.port}"
        self._threads = [
            threading.Thread(
                target=server.server.serve_forever,
                kwargs={"poll_interval": 0.05},  # stop() waits for one poll
                name=f"localmail-dns-{self.port}",
                daemon=True,
            )
            for server in self._servers
        ]
        for thread in self._threads:
            thread.start()

    # Changing the zone while running ------------------------------------------

    def set(self, name: str, records: Sequence[Record] | None) -> None:
        """Replace a name's records; None removes the name (it answers NXDOMAIN)."""
        converted = None if records is None else [_rdata(tuple(r)) for r in records]
        with self._lock:
            if converted is None:
                self._records.pop(_name(name), None)
            else:
                self._records[_name(name)] = converted

    def silence(self, name: str, silent: bool = True) -> None:
        """Stop (or resume) answering for a name and everything under it."""
        with self._lock:
            if silent:
                self._silent.add(_name(name))
            else:
                self._silent.discard(_name(name))

    @property
    def silent(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._silent)

    def queried(self, name: str, kind: str | None = None) -> int:
        """How many queries for `name` (of type `kind`, if given) arrived so far."""
        name, kind = _name(name), kind and kind.upper()
        with self._lock:
            return sum(1 for n, k in self.queries if n == name and kind in (None, k))

    # Serving ------------------------------------------------------------------

    def _answer(self, request: DNSRecord) -> DNSRecord:
        asked = _name(str(request.q.qname))
        qtype = request.q.qtype
        with self._lock:
            self.queries.append((asked, QTYPE.get(qtype, str(qtype))))
            if any(asked == s or asked.endswith("." + s) for s in self._silent):
                raise _Silence(f"{asked} is silent")
            reply = request.reply()  # id, question, RD copied; QR and RA set
            reply.header.aa = 1
            name = asked
            for _ in range(_MAX_CNAME_CHAIN):
                rrs = self._records.get(name)
                if rrs is None:
                    if name == asked:
                        reply.header.rcode = RCODE.NXDOMAIN
                    break  # a dangling CNAME: the answer is the CNAME alone
                matching = [rd for kind, rd in rrs if kind == qtype]
                aliases = [rd for kind, rd in rrs if kind == QTYPE.CNAME]
                for rd in matching:
                    reply.add_answer(RR(name, qtype, rdata=rd, ttl=TTL))
                if matching or not aliases or qtype == QTYPE.CNAME:
                    break
                reply.add_answer(RR(name, QTYPE.CNAME, rdata=aliases[0], ttl=TTL))
                name = _name(str(aliases[0].label))
        return reply

    def _bind(self, host: str) -> list[DNSServer]:
        """UDP on a free port, then TCP on the same number (retried if TCP has it taken)."""
        last: OSError | None = None
        for _ in range(_BIND_ATTEMPTS):
            resolver = _Resolver(self)
            udp = DNSServer(resolver, address=host, port=0, logger=_Quiet())
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(resolver, address=host, port=port, tcp=True, logger=_Quiet())
            except OSError as error:
                last = error
                udp.server.server_close()
                continue
            return [udp, tcp]
        raise OSError(f"LocalDns: no port free for both UDP and TCP on {host}: {last}")

    def stop(self) -> None:
        self._stopping.set()
        servers, self._servers = self._servers, []
        for server in servers:
            server.server.shutdown()  # serve_forever returns
            server.server.server_close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> LocalDns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["LocalDns", "Record"]
