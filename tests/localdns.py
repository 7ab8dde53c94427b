"""A real DNS server on loopback for detection tests."""

from __future__ import annotations


class LocalDns:
    """A real DNS server on loopback (dnslib) answering MX records for test domains."""

    def __init__(self, records: dict[str, list[str]]):
        from dnslib import MX, QTYPE, RR
        from dnslib.server import BaseResolver, DNSServer

        class Resolver(BaseResolver):
            def resolve(self, request, handler):
                reply = request.reply()
                name = str(request.q.qname).rstrip(".").lower()
                if request.q.qtype == QTYPE.MX and name in records:
                    for preference, host in enumerate(records[name]):
                        reply.add_answer(RR(name, QTYPE.MX, rdata=MX(host, (preference + 1) * 10), ttl=60))
                elif name not in records:
                    reply.header.rcode = 3  # NXDOMAIN
                return reply

        self.server = DNSServer(Resolver(), address="127.0.0.1", port=0)
        self.server.start_thread()
        self.address = f"127.0.0.1:{self.server.server.server_address[1]}"

    def stop(self):
        self.server.stop()
