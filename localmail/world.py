"""A small internet on loopback for discovering mail settings: DNS, autoconfig web servers, mail
servers on the standard ports, and servers that accept and never answer.

Every domain below ends in .test and exists only in this world's DNS server. The mail servers of
the "working" domains are one real Dovecot + SMTP lab whose certificate names them all, so an
address discovered here can also log in and read its INBOX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .dns import LocalDns
from .https import LocalHttps
from .lab import MailLab
from .tarpit import STANDARD_MAIL_PORTS, Tarpit

MAIL_HOST = "127.0.3.5"  # the lab, on 993/143/465/587/110
TARPIT_HOST = "127.0.3.6"  # accepts on the mail ports and never speaks
WEB_HOST = "127.0.0.1"  # autoconfig documents, on one port (MAIL_AUTOCONFIG_PORT)
PRIVATE_HOST = "10.255.0.1"  # outside the allowed networks: must never be dialled
ISPDB_HOST = "ispdb.test"  # the central ISPDB's stand-in, on the web server: /v1.1/<domain>
ISPDB_PATH = "/v1.1/"


def config_xml(incoming: list[tuple[str, int, str, str]], outgoing: list[tuple[str, int, str, str]],
               name: str = "Example Mail", pop3: list[tuple[str, int, str, str]] | None = None) -> str:
    """A Thunderbird config-v1.1.xml document. Servers are (hostname, port, socketType, username)."""
    def server(tag: str, kind: str, host: str, port: int, socket: str, user: str) -> str:
        return (f'<{tag} type="{kind}"><hostname>{host}</hostname><port>{port}</port>'
                f"<socketType>{socket}</socketType><username>{user}</username>"
                f"<authentication>password-cleartext</authentication></{tag}>")

    servers = [server("incomingServer", "imap", *s) for s in incoming]
    servers += [server("incomingServer", "pop3", *s) for s in pop3 or []]
    servers += [server("outgoingServer", "smtp", *s) for s in outgoing]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">'
            f'<emailProvider id="example"><domain>example</domain><displayName>{name}</displayName>'
            f'{"".join(servers)}</emailProvider></clientConfig>')


A_MAIL = [("A", MAIL_HOST)]
A_WEB = [("A", WEB_HOST)]
A_TARPIT = [("A", TARPIT_HOST)]
ADDRESS = "%EMAILADDRESS%"
LOCAL = "%EMAILLOCALPART%"

# name -> records, for the DNS server
RECORDS: dict[str, list[tuple]] = {
    # autoconfig at autoconfig.<domain>
    "ac.test": [("MX", 10, "mx.ac.test")],
    "autoconfig.ac.test": A_WEB, "mail.ac.test": A_MAIL, "mx.ac.test": A_MAIL,
    # autoconfig only at the well-known path, STARTTLS servers, local-part user names
    "wk.test": A_WEB, "imap.wk.test": A_MAIL, "smtp.wk.test": A_MAIL,
    # autoconfig redirected within the registrable domain
    "redir.test": [], "autoconfig.redir.test": A_WEB, "www.redir.test": A_WEB, "mail.redir.test": A_MAIL,
    # autoconfig redirected to another domain: refused; nothing else answers
    "offsite.test": [], "autoconfig.offsite.test": A_WEB, "evil.test": A_WEB,
    # autoconfig documents that must be refused: too large, entity expansion, plaintext only
    "big.test": [], "autoconfig.big.test": A_WEB,
    "bomb.test": [], "autoconfig.bomb.test": A_WEB,
    "plain.test": [], "autoconfig.plain.test": A_WEB,
    # autoconfig that offers only POP3
    "pop.test": [], "autoconfig.pop.test": A_WEB,
    # SRV records (RFC 6186), implicit TLS preferred
    "srv.test": [],
    "_imaps._tcp.srv.test": [("SRV", 0, 1, 993, "mail.srv.test")],
    "_imap._tcp.srv.test": [("SRV", 0, 1, 143, "mail.srv.test")],
    "_submissions._tcp.srv.test": [("SRV", 0, 1, 465, "mail.srv.test")],
    "_submission._tcp.srv.test": [("SRV", 0, 1, 587, "mail.srv.test")],
    "mail.srv.test": A_MAIL,
    # SRV with only the STARTTLS services
    "srvstarttls.test": [],
    "_imap._tcp.srvstarttls.test": [("SRV", 0, 1, 143, "mail.srvstarttls.test")],
    "_submission._tcp.srvstarttls.test": [("SRV", 0, 1, 587, "mail.srvstarttls.test")],
    "mail.srvstarttls.test": A_MAIL,
    # SRV saying "no service here" (target ".")
    "nosrv.test": [], "_imaps._tcp.nosrv.test": [("SRV", 0, 0, 0, ".")],
    # MX naming known providers
    "workspace.test": [("MX", 1, "aspmx.l.google.com"), ("MX", 5, "alt1.aspmx.l.google.com")],
    "office.test": [("MX", 0, "office-test.mail.protection.outlook.com")],
    "loopiakund.test": [("MX", 10, "mailcluster.loopia.se"), ("MX", 20, "mail2.loopia.se")],
    "onecomkund.test": [("MX", 10, "mx1.pub.mailpod3-cph3.one.com")],
    "zohokund.test": [("MX", 10, "mx.zoho.eu")],
    "fastmailkund.test": [("MX", 10, "in1-smtp.messagingengine.com")],
    # MX at an unknown host whose registrable domain publishes autoconfig
    "kund.test": [("MX", 10, "mx1.hoster.test")],
    "mx1.hoster.test": A_MAIL, "autoconfig.hoster.test": A_WEB, "mail.hoster.test": A_MAIL,
    # found only by probing: implicit TLS on imap./smtp.
    "guess.test": [], "imap.guess.test": A_MAIL, "smtp.guess.test": A_MAIL,
    # found only by probing: only mail.<domain> exists
    "mailonly.test": [], "mail.mailonly.test": A_MAIL,
    # found only by probing: the bare domain serves IMAP, smtp. serves SMTP
    "bare.test": A_MAIL, "smtp.bare.test": A_MAIL,
    # POP3 only, found by probing (no IMAP anywhere)
    "poponly.test": [], "pop.poponly.test": A_MAIL,
    # every server accepts and never answers; autoconfig hangs too
    "tarpit.test": A_TARPIT, "imap.tarpit.test": A_TARPIT, "mail.tarpit.test": A_TARPIT,
    "smtp.tarpit.test": A_TARPIT, "autoconfig.tarpit.test": A_WEB,
    # names that point at a private network: refused before any connection
    "private.test": [("A", PRIVATE_HOST)], "imap.private.test": [("A", PRIVATE_HOST)],
    "smtp.private.test": [("A", PRIVATE_HOST)], "autoconfig.private.test": [("A", PRIVATE_HOST)],
    # a domain with no mail servers at all
    "nothing.test": [],
    # the central ISPDB, serving real ISPDB documents (World.start's ispdb_dir) and hostile ones
    ISPDB_HOST: A_WEB,
    # the servers of real ISPDB documents, here the lab: an address only ISPDB knows can log in
    "imap.1und1.de": A_MAIL, "smtp.1und1.de": A_MAIL,
    # MX at a host whose domain only ISPDB knows (1und1.de.xml lists kundenserver.de)
    "ispkund.test": [("MX", 10, "mx00.kundenserver.de")], "mx00.kundenserver.de": A_MAIL,
    # ISPDB: not found, never answers, too large, entity expansion, plaintext servers only
    "ispdb-private.test": [("A", PRIVATE_HOST)],  # an ISPDB on a private address: refused, never dialled
    "ispdb-wrongname.test": A_WEB,  # an ISPDB whose certificate does not name it: refused
    "isp404.test": [], "ispslow.test": [], "ispbig.test": [], "ispbomb.test": [], "ispplain.test": [],
}
SILENT = {"silent.test"}  # the DNS server never answers for it

# names the lab's and the web server's certificates cover
MAIL_NAMES = ["mail.ac.test", "mx.ac.test", "imap.wk.test", "smtp.wk.test", "mail.redir.test",
              "mail.srv.test", "mail.srvstarttls.test", "mail.hoster.test", "mx1.hoster.test",
              "imap.guess.test", "smtp.guess.test", "mail.mailonly.test", "bare.test", "smtp.bare.test",
              "pop.poponly.test", "imap.1und1.de", "smtp.1und1.de"]
WEB_NAMES = ["autoconfig.ac.test", "wk.test", "autoconfig.redir.test", "www.redir.test",
             "autoconfig.offsite.test", "evil.test", "autoconfig.big.test", "autoconfig.bomb.test",
             "autoconfig.plain.test", "autoconfig.pop.test", "autoconfig.hoster.test", "autoconfig.tarpit.test",
             ISPDB_HOST]

_AC = "/mail/config-v1.1.xml"
_WK = "/.well-known/autoconfig/mail/config-v1.1.xml"
BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><clientConfig version="1.1"><emailProvider id="x">'
        "<displayName>&lol3;</displayName></emailProvider></clientConfig>")


@dataclass
class World:
    lab: MailLab
    dns: LocalDns
    web: LocalHttps
    tarpit: Tarpit
    _stopped: bool = field(default=False, repr=False)

    @classmethod
    def start(cls, workdir: Path, mail_host: str = MAIL_HOST, tarpit_host: str = TARPIT_HOST,
              ispdb_dir: Path | None = None) -> World:
        """mail_host, tarpit_host: other loopback addresses, for worlds side by side (the standard
        ports of one address can be had once); the DNS answers with them. ispdb_dir: ISPDB documents
        (<name>.xml, as in the ispdb folder of thunderbird/autoconfig) that the central ISPDB's
        stand-in serves for each domain they list."""
        lab = MailLab.start(workdir, mail_host, standard_ports=True, names=MAIL_NAMES)
        try:
            tarpit = Tarpit(tarpit_host, STANDARD_MAIL_PORTS)
            moved = {MAIL_HOST: mail_host, TARPIT_HOST: tarpit_host}
            records = {name: [("A", moved.get(record[1], record[1])) if record[0] == "A" else record
                              for record in answers] for name, answers in RECORDS.items()}
            dns = LocalDns(records, silent=SILENT)
            web = LocalHttps(lab, names=WEB_NAMES, host=WEB_HOST, timeout=30.0)
        except BaseException:
            lab.stop()
            raise
        world = cls(lab, dns, web, tarpit)
        world._publish()
        world._publish_ispdb(ispdb_dir)
        return world

    def _publish(self) -> None:
        web = self.web
        web.route("autoconfig.ac.test", _AC, config_xml(
            [("mail.ac.test", 993, "SSL", ADDRESS), ("mail.ac.test", 143, "STARTTLS", ADDRESS)],
            [("mail.ac.test", 465, "SSL", ADDRESS)], "AC Hosting"))
        web.route("wk.test", _WK, config_xml(
            [("imap.%EMAILDOMAIN%", 143, "STARTTLS", LOCAL)], [("smtp.%EMAILDOMAIN%", 587, "STARTTLS", LOCAL)],
            "Well-Known Mail"))
        web.redirect("autoconfig.redir.test", _AC, "https://www.redir.test/config.xml")
        web.route("www.redir.test", "/config.xml", config_xml(
            [("mail.redir.test", 993, "SSL", ADDRESS)], [("mail.redir.test", 465, "SSL", ADDRESS)], "Redirected"))
        web.redirect("autoconfig.offsite.test", _AC, "https://evil.test/config.xml")
        web.route("evil.test", "/config.xml", config_xml(
            [("mail.ac.test", 993, "SSL", ADDRESS)], [("mail.ac.test", 465, "SSL", ADDRESS)], "Evil"))
        web.route("autoconfig.big.test", _AC, config_xml(
            [("mail.ac.test", 993, "SSL", ADDRESS)], [("mail.ac.test", 465, "SSL", ADDRESS)],
            "Big " + "x" * 70_000))
        web.route("autoconfig.bomb.test", _AC, BOMB)
        web.route("autoconfig.plain.test", _AC, config_xml(
            [("mail.ac.test", 143, "plain", ADDRESS)], [("mail.ac.test", 25, "plain", ADDRESS)], "Plain"))
        web.route("autoconfig.pop.test", _AC, config_xml(
            [], [("mail.ac.test", 465, "SSL", ADDRESS)], "POP Only", pop3=[("mail.ac.test", 995, "SSL", ADDRESS)]))
        web.route("autoconfig.hoster.test", _AC, config_xml(
            [("mail.hoster.test", 993, "SSL", ADDRESS)], [("mail.hoster.test", 465, "SSL", ADDRESS)], "Hoster"))
        web.tarpit("autoconfig.tarpit.test", _AC)

    def _publish_ispdb(self, folder: Path | None) -> None:
        from xml.etree import ElementTree  # the test data, trusted

        for path in sorted(folder.glob("*.xml")) if folder else ():
            document = path.read_bytes()
            for domain in ElementTree.fromstring(document).iter("domain"):
                self.web.route(ISPDB_HOST, ISPDB_PATH + (domain.text or "").strip().lower(), document)
        server = ("mail.ac.test", 993, "SSL", ADDRESS), ("mail.ac.test", 465, "SSL", ADDRESS)
        self.web.tarpit(ISPDB_HOST, ISPDB_PATH + "ispslow.test")
        self.web.route(ISPDB_HOST, ISPDB_PATH + "ispbig.test",
                       config_xml([server[0]], [server[1]], "Big " + "x" * 70_000))
        self.web.route(ISPDB_HOST, ISPDB_PATH + "ispbomb.test", BOMB)
        self.web.route(ISPDB_HOST, ISPDB_PATH + "ispplain.test", config_xml(
            [("mail.ac.test", 143, "plain", ADDRESS)], [("mail.ac.test", 25, "plain", ADDRESS)], "Plain"))

    @property
    def ispdb_url(self) -> str:
        return f"https://{ISPDB_HOST}:{self.web.port}{ISPDB_PATH}"

    def app_config(self) -> dict:
        """What an app must be told to live in this world."""
        return {
            "MAIL_DNS_SERVER": self.dns.address,
            "MAIL_AUTOCONFIG_PORT": self.web.port,
            "MAIL_CA_BUNDLE": str(self.lab.ca_bundle),
            "MAIL_ALLOWED_NETWORKS": "127.0.0.0/8",
            "MAIL_ISPDB_URL": self.ispdb_url,
        }

    def add_mailbox(self, address: str, password: str) -> None:
        self.lab.add_user(address, password)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for part in (self.web, self.dns, self.tarpit, self.lab):
            part.stop()
