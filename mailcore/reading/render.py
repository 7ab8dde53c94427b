"""Showing a message faithfully while running none of it.

HTML is sanitised with nh3 (Ammonia): a fixed list of harmless tags and attributes, style
properties from a short list, only http, https and mailto links (relative URLs dropped), every link
opening a new window without referrer. Remote resources (images, and any URL in CSS) are removed
unless the user allows them; `cid:` images are pointed at the app's own owner-checked route. The
result is shown in a sandboxed iframe under its own Content-Security-Policy, which blocks whatever
the sanitiser might let through.
"""

from __future__ import annotations

import email.policy
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

import nh3

from mailcore.envelope import decode_header

TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup", "dd",
        "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
        "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "mark", "figure", "figcaption"}
DROP_WITH_CONTENT = {"script", "style", "title", "head", "textarea", "noscript", "template", "svg", "math",
                     "iframe", "object", "embed", "form", "select", "option", "button", "xmp", "noembed",
                     "noframes", "plaintext", "frameset", "audio", "video", "canvas"}
COMMON = {"style", "title", "dir", "lang", "align", "valign", "width", "height", "colspan", "rowspan",
          "bgcolor", "color", "border", "cellpadding", "cellspacing", "face", "size"}
ATTRIBUTES = {"*": COMMON, "a": {"href", "name"}, "img": {"src", "alt"}}
STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight",
    "font-variant", "line-height", "letter-spacing", "word-spacing", "text-align", "text-decoration",
    "text-indent", "text-transform", "vertical-align", "white-space", "word-break", "overflow-wrap",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left", "padding", "padding-top",
    "padding-right", "padding-bottom", "padding-left", "border", "border-top", "border-right",
    "border-bottom", "border-left", "border-color", "border-style", "border-width", "border-collapse",
    "border-spacing", "border-radius", "width", "height", "max-width", "min-width", "max-height",
    "display", "float", "clear", "list-style-type", "table-layout", "direction",
}
URL_SCHEMES = {"http", "https", "mailto", "cid"}
DANGEROUS_CSS = re.compile(r"url\s*\(|image-set|expression|@import|var\s*\(|\\|behavior|-moz-binding",
                            re.IGNORECASE)
_LINK = re.compile(r"(?P<url>(?:https?://|mailto:)[^\s<>\"']+[^\s<>\"'.,;:!?)\]])", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str
    content_type: str
    size: int
    content_id: str = ""
    inline: bool = False


@dataclass
class MessageView:
    subject: str
    from_name: str
    from_address: str
    spoofed: bool  # the display name shows an address other than the real one
    to: list[str]
    cc: list[str]
    date: datetime | None
    text_html: str = ""  # escaped plain text with safe links
    html: str = ""  # sanitised HTML, for the sandboxed frame
    remote_blocked: bool = False
    attachments: list[Attachment] = field(default_factory=list)


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=email.policy.default).parsebytes(raw)


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A name for a download: no path, no control or direction characters, no markup meaning."""
    name = decode_header(name or "", 300)
    name = _CONTROL.sub("", unicodedata.normalize("NFC", name))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    name = re.sub(r'[<>:"|?*]', "_", name)
    return name[:150] or fallback


def _addresses(message: EmailMessage, header: str) -> list[str]:
    values = [decode_header(v, 5000) for v in message.get_all(header, [])]
    shown = []
    for name, address in getaddresses(values):
        shown.append(f"{name} <{address}>" if name and address else address or name)
    return shown[:200]


def attachments_of(message: EmailMessage) -> list[tuple[Attachment, EmailMessage]]:
    found = []
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        content_id = (part.get("Content-ID") or "").strip().strip("<>")
        if disposition != "attachment" and not part.get_filename() and not (
                content_id and part.get_content_maintype() == "image"):
            continue
        payload = part.get_payload(decode=True) or b""
        found.append((Attachment(index, safe_filename(part.get_filename(), f"attachment-{index}"),
                                 part.get_content_type(), len(payload), content_id,
                                 disposition != "attachment" and bool(content_id)), part))
    return found


def _body_part(message: EmailMessage, kind: str) -> str | None:
    try:
        part = message.get_body(preferencelist=(kind,))
    except Exception:
        return None
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


def linkify(text: str) -> str:
    """Plain text as HTML: everything escaped, http(s) and mailto addresses made into links."""
    out, last = [], 0
    for match in _LINK.finditer(text):
        out.append(html.escape(text[last:match.start()]))
        url = match.group("url")
        out.append(f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">{html.escape(url)}</a>')
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def sanitize_html(source: str, *, allow_remote: bool, cid_url: Callable[[str], str | None]) -> tuple[str, bool]:
    """Clean HTML and whether remote content was removed from it."""
    removed = []

    def attribute(tag: str, name: str, value: str) -> str | None:
        if name == "style":
            if DANGEROUS_CSS.search(value):
                removed.append(value)
                return None
            return value
        if name == "src":
            lowered = value.strip().lower()
            if lowered.startswith("cid:"):
                return cid_url(value.strip()[4:])
            if lowered.startswith(("http://", "https://")):
                if allow_remote:
                    return value
                removed.append(value)
                return None
            return None
        if name == "href" and value.strip().lower().startswith("cid:"):
            return None
        return value

    clean = nh3.clean(
        source, tags=TAGS, clean_content_tags=DROP_WITH_CONTENT, attributes=ATTRIBUTES,
        attribute_filter=attribute, strip_comments=True, link_rel="noopener noreferrer",
        url_schemes=URL_SCHEMES, url_relative="deny", filter_style_properties=STYLE_PROPERTIES,
        set_tag_attribute_values={"a": {"target": "_blank"}})
    return clean, bool(removed)


def frame_document(clean_html: str, *, app_origin: str, allow_remote: bool) -> str:
    """The document for the sandboxed frame: its own policy forbids scripts, frames, forms and,
    unless allowed, any image or style from elsewhere than this app."""
    images = f"{app_origin} data:" + (" https: http:" if allow_remote else "")
    policy = (f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'; font-src 'none'; "
              "form-action 'none'; base-uri 'none'; frame-src 'none'; media-src 'none'")
    return ("<!doctype html><html><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">'
            '<meta name="referrer" content="no-referrer">'
            "<style>body{margin:0;padding:12px 16px;font-family:system-ui,sans-serif;font-size:15px;line-height:1.45;"
            "color:#1d2733;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>"
            f"</head><body>{clean_html}</body></html>")


def inline_images(message: EmailMessage) -> dict[str, Attachment]:
    """The message's own inline images by Content-ID: the only things a `cid:` may name. SVG is
    never one of them (it can carry script)."""
    return {item.content_id: item for item, _part in attachments_of(message) if _inline_image(item)}


def _inline_image(item: Attachment) -> bool:
    return bool(item.content_id) and item.content_type.startswith("image/") and "svg" not in item.content_type


def view(raw: bytes, *, allow_remote: bool, part_url: Callable[[Attachment], str]) -> MessageView:
    """What the reading pane shows. `part_url` gives the address of one of the message's inline
    images; a `cid:` that names anything else shows nothing."""
    message = parse(raw)
    from_header = decode_header(message.get("From", ""), 1000)
    name, address = parseaddr(from_header)
    shown_address = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", name or "")
    spoofed = bool(shown_address and shown_address.group(0).lower() != (address or "").lower())
    try:
        date = message["Date"].datetime if message["Date"] else None
    except (AttributeError, TypeError, ValueError):
        date = None
    result = MessageView(subject=decode_header(message.get("Subject", ""), 1000), from_name=name,
                         from_address=address, spoofed=spoofed, to=_addresses(message, "To"),
                         cc=_addresses(message, "Cc"), date=date)
    html_body = _body_part(message, "html")
    if html_body is not None:
        images = inline_images(message)

        def cid_url(cid: str) -> str | None:
            found = images.get(cid.strip().strip("<>"))
            return part_url(found) if found else None

        result.html, result.remote_blocked = sanitize_html(html_body, allow_remote=allow_remote, cid_url=cid_url)
    else:
        result.text_html = linkify((_body_part(message, "plain") or "").replace("\x00", ""))
    result.attachments = [item for item, _part in attachments_of(message) if not item.inline]
    return result


def attachment_part(raw: bytes, index: int) -> tuple[Attachment, bytes] | None:
    for item, part in attachments_of(parse(raw)):
        if item.index == index:
            return item, part.get_payload(decode=True) or b""
    return None


def inline_image(raw: bytes, index: int) -> tuple[Attachment, bytes] | None:
    """The inline image that is part `index` of the message, else None."""
    for item, part in attachments_of(parse(raw)):
        if item.index == index and _inline_image(item):
            return item, part.get_payload(decode=True) or b""
    return None
