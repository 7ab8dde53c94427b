"""The reading pane's safety, without a browser: what the sanitiser keeps and drops, which remote
content is blocked, how cid: images and links come out, and the names attachments download under."""

from __future__ import annotations

import re
from email.message import EmailMessage
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from localmail.hostile import hostile_messages
from mailcore.reading.render import (
    ATTRIBUTES,
    TAGS,
    attachment_part,
    frame_document,
    inline_image,
    linkify,
    safe_filename,
    sanitize_html,
    view,
)

APP = "http://inkorg.example:5000"
HOSTILE = dict(hostile_messages(APP))


def cid_url(cid: str) -> str | None:
    """For sanitize_html alone: the app's own address for a known cid, nothing for an unknown one."""
    return f"{APP}/inbox/image/7-logo" if cid == "logo@inkorg.test" else None


def part_url(part) -> str:
    """As the reading view does: an address naming the part by its number, never by its cid."""
    return f"{APP}/inbox/image/part-{part.index}"


def clean(source: str, allow_remote: bool = False) -> str:
    return sanitize_html(source, allow_remote=allow_remote, cid_url=cid_url)[0]


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag and its attributes, as a browser's parser reads them."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


# --- what is removed ------------------------------------------------------------------------------


@pytest.mark.parametrize("source,kept,gone", [
    ("<p>Hej</p><script>alert(1)</script>", ["<p>Hej</p>"], ["script", "alert"]),
    ("<scr<script>ipt>alert(1)</scr</script>ipt><p>x</p>", ["<p>x</p>"], ["<script"]),
    ('<img src=x onerror=alert(1)><p>x</p>', ["<p>x</p>"], ["onerror", "alert"]),
    ('<a href="https://ok.example/" onclick="alert(1)">ok</a>', ['href="https://ok.example/"', ">ok</a>"],
     ["onclick"]),
    ('<p ONCLICK="alert(1)">upper</p><p/onclick=alert(1)>slash</p>', ["upper", "slash"], ["onclick", "alert"]),
    ('<details open ontoggle=alert(1)><summary>s</summary>x</details>', [], ["ontoggle", "<details"]),
    ('<base href="https://evil.example/"><a href="signout">Unsubscribe</a>', ["Unsubscribe"], ["<base", "href"]),
    ('<svg onload=alert(1)><a><text y="20">click</text></a></svg><p>after</p>', ["<p>after</p>"],
     ["svg", "onload", "click"]),
    ('<svg><use href="data:image/svg+xml;base64,PHN2Zz4=#x"/></svg>', [], ["svg", "use", "data:"]),
    ('<math href="javascript:alert(1)"><mtext>click</mtext></math>', [], ["math", "javascript"]),
    ('<form action="https://login.evil.example/"><input type="password" name="password">'
     "<button>Confirm</button></form><p>after</p>", ["<p>after</p>"], ["<form", "<input", "<button", "Confirm"]),
    ('<div data-hx-post="/signout" hx-get="/inbox/refresh" hx-trigger="load" data-id="1">d</div>',
     ["<div>d</div>"], ["hx-", "data-", "signout", "refresh"]),
    ('<div hx-on:click="alert(1)" data-hx-on:click="alert(2)">x</div>', ["<div>x</div>"], ["hx-on", "alert"]),
    ('<iframe src="https://t.evil.example/frame"></iframe><object data="x.swf"></object><embed src="e.swf">',
     [], ["iframe", "object", "embed"]),
    ('<meta http-equiv="refresh" content="0;url=https://t.evil.example/"><p>x</p>', ["<p>x</p>"], ["meta", "refresh"]),
    ('<link rel="stylesheet" href="https://t.evil.example/x.css"><style>p{color:red}</style><p>x</p>',
     ["<p>x</p>"], ["link", "style", "color"]),
    ("<!--><img src=x onerror=alert(1)>--><p>x</p>", ["<p>x</p>"], ["onerror"]),
    ("<![CDATA[><img src=x onerror=alert(1)>]]><p>x</p>", ["<p>x</p>"], ["onerror"]),
    ('<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', [], ["onerror"]),
    ('<div class="cover" id="top">Your mailbox is full</div>', ["Your mailbox is full"], ["class", "id="]),
    ('<div style="position:fixed;inset:0;z-index:99999;color:red">overlay</div>', ['style="color:red"'],
     ["position", "z-index", "inset"]),
    ('<a href="https://ok.example/" style="x:expression(alert(1))">e</a>', ["https://ok.example/"],
     ["expression", "style"]),
    ('<div style="behavior:url(x.htc);color:red">b</div>', [">b</div>"], ["behavior", "url("]),
    ('<textarea><img src=x onerror=alert(1)></textarea><title>t</title><p>x</p>', ["<p>x</p>"],
     ["textarea", "onerror", "<title"]),
])
def test_sanitiser_drops_what_could_run_or_disguise(source, kept, gone):
    result = clean(source)
    for text in kept:
        assert text in result
    for text in gone:
        assert text not in result.lower()


@pytest.mark.parametrize("href", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "&#106;avascript:alert(1)", "&#x6A;avascript&colon;alert(1)",
    "java\tscript:alert(1)", "java&#x0A;script:alert(1)", "java&NewLine;script&colon;alert(1)",
    "   \n\t  javascript:alert(1)", "&#x01;&#x20;javascript:alert(1)", "javascript&#58;alert(1)",
    "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:text/html,<script>alert(1)</script>", "settings/email-account/remove", "/signout", "//evil.example/x",
    "cid:logo@inkorg.test", "file:///etc/passwd", "ftp://files.example/x",
])
def test_links_that_are_not_http_https_or_mailto_lose_their_target(href):
    [(tag, attributes)] = elements(clean(f'<a href="{href}">click</a>'))
    assert tag == "a" and "href" not in attributes


@pytest.mark.parametrize("href", ["https://kund.example/offert?id=1&x=2", "http://kund.example/",
                                  "mailto:anna@kund.example"])
def test_links_keep_their_address_and_open_a_new_window_without_referrer(href):
    [(tag, attributes)] = elements(clean(f'<a href="{href}" target="_top" rel="opener">link</a>'))
    assert attributes == {"href": href, "target": "_blank", "rel": "noopener noreferrer"}


# --- remote content and cid: images ---------------------------------------------------------------


@pytest.mark.parametrize("source,allow_remote,src,blocked", [
    ('<img src="https://t.evil.example/pixel.gif">', False, None, True),
    ('<img src="https://t.evil.example/pixel.gif">', True, "https://t.evil.example/pixel.gif", False),
    ('<img src="http://t.evil.example/pixel.gif">', False, None, True),
    ('<img src="http://t.evil.example/pixel.gif">', True, "http://t.evil.example/pixel.gif", False),
    ('<img src="//t.evil.example/protocol-relative.gif">', True, None, False),
    ('<img src="javascript:alert(1)">', True, None, False),
    ('<img src="data:image/png;base64,iVBORw0KGgo=">', True, None, False),
    ('<img src="cid:logo@inkorg.test" alt="logo">', False, f"{APP}/inbox/image/7-logo", False),
    ('<img src="CID:logo@inkorg.test">', False, f"{APP}/inbox/image/7-logo", False),
    ('<img src="cid:not-in-this-message">', False, None, False),
    ('<img srcset="https://t.evil.example/srcset.png 2x">', True, None, False),
    ('<img src="x" data-src="https://t.evil.example/lazy.gif">', True, None, False),
])
def test_images_load_only_from_the_app_unless_remote_content_is_allowed(source, allow_remote, src, blocked):
    result, remote_blocked = sanitize_html(source, allow_remote=allow_remote, cid_url=cid_url)
    [(tag, attributes)] = elements(result)
    assert tag == "img"
    assert attributes.get("src") == src
    assert set(attributes) <= ATTRIBUTES["img"] | ATTRIBUTES["*"]
    assert remote_blocked is blocked


@pytest.mark.parametrize("style", [
    "background:url(https://t.evil.example/bg.png)",
    "background-image: u\\72 l(https://t.evil.example/esc.png)",
    "--x:url(https://t.evil.example/var.png); background: var(--x)",
    "background-image:image-set('https://t.evil.example/set.png' 1x)",
    "list-style-image:URL(https://t.evil.example/list.png)",
    "background:\\75\\72\\6c(https://t.evil.example/esc-all.png)",
])
def test_remote_content_in_css_is_removed_and_reported(style):
    result, blocked = sanitize_html(f'<div style="{style}">x</div>', allow_remote=False, cid_url=cid_url)
    assert result == "<div>x</div>"
    assert blocked


# --- plain text and the frame ----------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("Hej Anna", "Hej Anna"),
    ("<b>fet</b> & <script>", "&lt;b&gt;fet&lt;/b&gt; &amp; &lt;script&gt;"),
    ("Se https://kund.example/a?b=1&c=2.",
     'Se <a href="https://kund.example/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">'
     "https://kund.example/a?b=1&amp;c=2</a>."),
    ("(http://kund.example/p)",
     '(<a href="http://kund.example/p" target="_blank" rel="noopener noreferrer">http://kund.example/p</a>)'),
    ("Skriv till mailto:anna@kund.example!",
     'Skriv till <a href="mailto:anna@kund.example" target="_blank" rel="noopener noreferrer">'
     "mailto:anna@kund.example</a>!"),
    ("javascript:alert(1) www.kund.example ftp://files.example", "javascript:alert(1) www.kund.example ftp://files.example"),
])
def test_plain_text_is_escaped_and_only_web_and_mail_addresses_become_links(text, expected):
    assert linkify(text) == expected


def test_a_quote_in_a_plain_text_address_cannot_add_an_attribute():
    [(tag, attributes)] = elements(linkify('https://kund.example/"onmouseover="alert(1)'))
    assert tag == "a" and set(attributes) == {"href", "target", "rel"}
    assert attributes["href"] == "https://kund.example/"


@pytest.mark.parametrize("allow_remote,images", [
    (False, f"img-src {APP} data:;"),
    (True, f"img-src {APP} data: https: http:;"),
])
def test_the_frame_has_a_policy_of_its_own(allow_remote, images):
    document = frame_document("<p>Hej</p>", app_origin=APP, allow_remote=allow_remote)
    [policy] = [a["content"] for tag, a in elements(document) if a.get("http-equiv") == "Content-Security-Policy"]
    assert policy.startswith("default-src 'none';")
    assert images in policy
    for rule in ("form-action 'none'", "base-uri 'none'", "frame-src 'none'", "font-src 'none'"):
        assert rule in policy
    assert "script-src" not in policy  # falls back to default-src 'none'
    assert ("meta", {"name": "referrer", "content": "no-referrer"}) in elements(document)
    assert "<body><p>Hej</p></body>" in document


# --- whole messages ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_hostile_message_comes_out_harmless(name):
    shown = view(HOSTILE[name], allow_remote=False, part_url=part_url)
    for tag, attributes in elements(shown.html):
        assert tag in TAGS, tag
        assert set(attributes) <= ATTRIBUTES.get(tag, set()) | ATTRIBUTES["*"] | {"target", "rel"}, (tag, attributes)
        if "href" in attributes:
            assert urlsplit(attributes["href"]).scheme in ("http", "https", "mailto"), attributes
            assert attributes["target"] == "_blank" and attributes["rel"] == "noopener noreferrer"
        if "src" in attributes:
            assert attributes["src"].startswith(f"{APP}/inbox/image/part-"), attributes
        assert "url(" not in (attributes.get("style") or "").lower()
    assert all(tag == "a" for tag, _ in elements(shown.text_html))  # plain text: escaped, links only


def test_tracking_pixels_are_blocked_until_the_user_allows_them():
    blocked = view(HOSTILE["img-trackers"], allow_remote=False, part_url=part_url)
    allowed = view(HOSTILE["img-trackers"], allow_remote=True, part_url=part_url)
    assert blocked.remote_blocked and "tracker.evil.test" not in blocked.html
    assert not allowed.remote_blocked
    assert "https://tracker.evil.test/pixel.gif" in [a.get("src") for _, a in elements(allowed.html)]


def test_an_inline_image_is_shown_from_the_app_and_not_listed_as_an_attachment():
    raw = HOSTILE["cid-image"]
    shown = view(raw, allow_remote=False, part_url=part_url)
    [src] = re.findall(r'src="([^"]+)"', shown.html)
    assert src.startswith(f"{APP}/inbox/image/part-")
    assert shown.attachments == [] and not shown.remote_blocked
    item, payload = inline_image(raw, int(src.rsplit("-", 1)[1]))
    assert item.content_type == "image/png" and payload.startswith(b"\x89PNG")
    assert inline_image(raw, 0) is None  # part 0 is the multipart container, not an image


def test_a_cid_can_name_only_an_image_part_of_its_own_message():
    shown = view(HOSTILE["cid-escape"], allow_remote=False, part_url=part_url)
    assert len(re.findall(r"<img[^>]*\ssrc=", shown.html)) == 1  # only the real one
    assert "signout" not in shown.html and "refresh" not in shown.html and ".." not in shown.html


def test_attachments_download_under_harmless_names():
    raw = HOSTILE["attachment-names"]
    shown = view(raw, allow_remote=False, part_url=part_url)
    assert [a.filename for a in shown.attachments] == [
        "passwd", "_img src=x onerror=alert(1)_.png", "invoicefdp.exe", "win.ini"]
    item, payload = attachment_part(raw, shown.attachments[0].index)
    assert item.filename == "passwd" and payload.startswith(b"root:x:0:0")
    assert attachment_part(raw, 999) is None


def _message(sender: str, body: str, subtype: str = "plain") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "anna@inkorg.test"
    message["Subject"] = "=?utf-8?q?Fr=C3=A5ga_om_offert?="
    message["Date"] = "Mon, 16 Jun 2025 09:00:00 +0200"
    message.set_content(body, subtype=subtype)
    return message.as_bytes()


@pytest.mark.parametrize("sender,name,address,spoofed", [
    ("Anna Berg <anna@kund.example>", "Anna Berg", "anna@kund.example", False),
    ('"anna@kund.example" <anna@kund.example>', "anna@kund.example", "anna@kund.example", False),
    ('"ANNA@KUND.EXAMPLE" <anna@kund.example>', "ANNA@KUND.EXAMPLE", "anna@kund.example", False),
    ('"support@bank.example" <mallory@evil.example>', "support@bank.example", "mallory@evil.example", True),
    ('"Bank (support@bank.example)" <mallory@evil.example>', "Bank (support@bank.example)",
     "mallory@evil.example", True),
])
def test_the_sender_shows_the_real_address_and_flags_a_different_one_in_the_name(sender, name, address, spoofed):
    shown = view(_message(sender, "Hej!"), allow_remote=False, part_url=part_url)
    assert (shown.from_name, shown.from_address, shown.spoofed) == (name, address, spoofed)
    assert shown.subject == "Fråga om offert"
    assert shown.date is not None and shown.date.utcoffset().total_seconds() == 7200


def test_a_plain_text_message_is_shown_escaped_with_links():
    shown = view(_message("anna@kund.example", "<b>Se</b> https://kund.example/\n"), allow_remote=False,
                 part_url=part_url)
    assert shown.html == ""
    assert shown.text_html.startswith("&lt;b&gt;Se&lt;/b&gt; <a href=\"https://kund.example/\"")


@pytest.mark.parametrize("name,expected", [
    ("offert.pdf", "offert.pdf"),
    ("Offert för våren.pdf", "Offert för våren.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("C:\\Users\\anna\\rapport.docx", "rapport.docx"),
    ("/etc/", "attachment"),
    (".htaccess", "htaccess"),
    ("  ..  ", "attachment"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),  # would show as "invoiceexe.pdf"
    ("\u2067report\u2069.exe", "report.exe"),
    ("a\u200eb\u200fc.txt", "abc.txt"),
    ("photo\u061cgpj.exe", "photogpj.exe"),  # the Arabic letter mark turns text right-to-left too
    ("bell\x07\x1b[31mred.txt", "bell [31mred.txt"),
    ("csi\x9b31mred.txt", "csi 31mred.txt"),  # the one-byte form of the terminal's escape
    ("tab\tand\nnewline.txt", "tab and newline.txt"),
    ('<img src=x onerror=alert(1)>.png', "_img src=x onerror=alert(1)_.png"),
    ('what?|"*:.txt', "what_____.txt"),
    ("=?utf-8?b?T2ZmZXJ0LnBkZg==?=", "Offert.pdf"),
    ("", "attachment"),
    (None, "attachment"),
    ("x" * 400, "x" * 150),
])
def test_attachment_names_lose_paths_control_and_direction_characters(name, expected):
    assert safe_filename(name) == expected
