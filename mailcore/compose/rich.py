"""Formatted mail: what a compose window's editor may send, and the plain text that goes beside it.

The browser's HTML is never trusted: `clean` applies the reading pane's own rules (so nothing a
recipient's preview would strip is sent: pasted Word, Outlook and web content keeps what survives
there), links only to http(s) and mailto, and images only when they name one of the message's own
inline parts (`cid:`), so a pasted remote image is dropped rather than fetched or sent as a beacon.
`plain_text` writes the text/plain part a reader without HTML sees: paragraphs, line breaks, lists
with their bullets and numbers, quotes with "> ", and a link's address beside its text. `fill` puts
CRM fields into a template, escaped, leaving an empty field out cleanly.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from html.parser import HTMLParser

import nh3

from mailcore.reading import render

_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "table", "tr", "pre",
          "hr", "dl", "dt", "dd", "figure", "figcaption", "center"}


def clean(source: str, inline_ids: frozenset[str] = frozenset()) -> str:
    """The HTML the server sends for what the browser's editor posted: the reading pane's own rules
    (its tags, attributes and style properties, no CSS that loads anything), links to http(s) and
    mailto only, and an image only as `cid:` of one of `inline_ids`."""

    def attribute(tag: str, name: str, value: str) -> str | None:
        value = value.strip()
        if name == "style":
            return None if render.DANGEROUS_CSS.search(value) else value
        if name == "src":
            return value if value.lower().startswith("cid:") and value[4:] in inline_ids else None
        if name == "href" and value.lower().startswith("cid:"):
            return None
        return value

    cleaned = nh3.clean(source, tags=render.TAGS, clean_content_tags=render.DROP_WITH_CONTENT | {"xml"},
                        attributes=render.ATTRIBUTES, attribute_filter=attribute, strip_comments=True,
                        link_rel=None, url_schemes=render.URL_SCHEMES, url_relative="deny",
                        filter_style_properties=render.STYLE_PROPERTIES)
    cleaned = re.sub(r"<img(?![^>]*\ssrc=)[^>]*>", "", cleaned)  # an image whose source was refused
    return re.sub(r"<a>(.*?)</a>", r"\1", cleaned, flags=re.DOTALL)  # a link whose address was refused


def is_blank(source: str) -> bool:
    """Whether the editor's HTML holds nothing a reader would see (an empty editor sends <div><br></div>)."""
    return not plain_text(source).strip() and "<img" not in source


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.quote = 0
        self.lists: list[list] = []  # per open list: [ordered, next number]
        self.links: list[str | None] = []
        self.link_text: list[str] = []

    def _break(self, blank: bool = False) -> None:
        if self.lines[-1].strip(">").strip():
            self.lines.append("")
        if blank and len(self.lines) > 1 and self.lines[-2].strip(">").strip():
            self.lines.append("")

    def _write(self, text: str) -> None:
        if not self.lines[-1]:
            self.lines[-1] = "> " * self.quote if self.quote else ""
        self.lines[-1] += text
        if self.links:
            self.link_text[-1] += text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._write("")
            self.lines.append("")
        elif tag == "blockquote":
            self._break(blank=True)
            self.quote += 1
        elif tag in ("ul", "ol"):
            self._break()
            self.lists.append([tag == "ol", 1])
        elif tag == "li":
            self._break()
            indent = "   " * (len(self.lists) - 1)
            if self.lists and self.lists[-1][0]:
                self._write(f"{indent}{self.lists[-1][1]}. ")
                self.lists[-1][1] += 1
            else:
                self._write(f"{indent}- ")
        elif tag in _BLOCK:
            self._break()
        elif tag in ("td", "th") and self.lines[-1].strip(">").strip():
            self._write("  ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.link_text.append("")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self._write(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._break()
            self.quote = max(0, self.quote - 1)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._break()
        elif tag in _BLOCK:
            self._break()
        elif tag == "a" and self.links:
            href, text = self.links.pop(), self.link_text.pop()
            if href and href.startswith("mailto:") and href[7:] == text.strip():
                return
            if href and href.rstrip("/") != text.strip().rstrip("/"):
                self._write(f" <{href.removeprefix('mailto:')}>")

    def handle_data(self, data: str) -> None:
        text = re.sub(r"\s+", " ", data)
        if not self.lines[-1].strip(">").strip():
            text = text.lstrip()
        if text:
            self._write(text)


def plain_text(source: str) -> str:
    """The text/plain part beside the HTML: what the reader sees, without the markup."""
    parser = _Text()
    parser.feed(source)
    parser.close()
    lines = ["-- " if line.rstrip() == "--" else line.rstrip() for line in parser.lines]  # the signature's mark
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text) + "\n" if text else ""


def from_text(text: str) -> str:
    """Plain text as the editor's HTML: each line a block, quoted lines ("> ") in a blockquote."""
    out, quoted = [], []

    def flush() -> None:
        if quoted:
            out.append('<blockquote type="cite">' + from_text("\n".join(quoted)) + "</blockquote>")
            quoted.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(">"):
            quoted.append(line[2:] if line.startswith("> ") else line[1:])
            continue
        flush()
        out.append(f"<div>{html.escape(line)}</div>" if line.strip() else "<div><br></div>")
    flush()
    return "".join(out)


FIELDS = ("contact.first_name", "contact.last_name", "contact.full_name", "contact.title", "contact.company",
          "me.name", "me.title", "me.phone")
_FIELD = re.compile(r"(?P<space>[ \u00a0]?)\[\[\s*(?P<name>[a-z_.]+)\s*\]\](?P<after>[ \u00a0]?)")


def fill(template: str, values: Mapping[str, str | None], *, escape: bool = True) -> str:
    """A template with its [[fields]] replaced by `values` (escaped for HTML unless `escape` is off);
    a field without a value is left out with the space before it, never sent as a placeholder."""

    def put(found: re.Match) -> str:
        value = (values.get(found.group("name")) or "").strip()
        if value:
            return found.group("space") + (html.escape(value) if escape else value) + found.group("after")
        # "Hej [[contact.first_name]]," becomes "Hej,", and "a [[x]] b" "a b"
        return " " if found.group("space") and found.group("after") else ""

    return _FIELD.sub(put, template)


def document_body(source: str) -> str:
    """The inside of an HTML document's body (a saved draft's or a quoted message's HTML part)."""
    found = re.search(r"<body[^>]*>(.*?)(?:</body>|$)", source, re.IGNORECASE | re.DOTALL)
    return found.group(1) if found else source
