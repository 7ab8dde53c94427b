"""The user's signature: formatted (the compose window's editor) or plain, with a logo under it.

The logo is a PNG, JPEG or GIF the user uploads (checked by its own header, at most MAX_LOGO_BYTES),
kept in the database and sent as an inline part of each message (multipart/related, by Content-ID):
nothing in a signature can make the server or a recipient fetch anything from elsewhere. In the
browser's editor the logo shows through the app's own owner-checked address, which becomes `cid:`
when the message is built.
"""

from __future__ import annotations

import hashlib
import html
import struct

from sqlalchemy.orm import Session

from mailcore.compose import rich
from mailcore.compose.message import Draft, Inline
from mailcore.models import SignatureLogo, User

MAX_LOGO_BYTES = 200 * 1024
SHOWN_WIDTH = 240  # at most, in the signature; the image keeps its proportions


class RefusedLogo(ValueError):
    """Not a PNG, JPEG or GIF, larger than MAX_LOGO_BYTES, or unreadable."""


def image_size(data: bytes) -> tuple[str, int, int]:
    """The image's type and size from its own header: ("image/png", width, height)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"\xff\xd8"):
        at = 2
        while at + 9 < len(data):
            if data[at] != 0xFF:
                break
            marker = data[at + 1]
            length = struct.unpack(">H", data[at + 2:at + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[at + 5:at + 9])
                return "image/jpeg", width, height
            at += 2 + length
    raise RefusedLogo("not a PNG, JPEG or GIF image")


def keep_logo(db: Session, user: User, data: bytes) -> SignatureLogo:
    if len(data) > MAX_LOGO_BYTES:
        raise RefusedLogo("too large")
    content_type, width, height = image_size(data)
    if not (0 < width <= 10_000 and 0 < height <= 10_000):
        raise RefusedLogo("no size")
    logo = db.get(SignatureLogo, user.id) or SignatureLogo(user_id=user.id)
    logo.content_type, logo.data, logo.width, logo.height = content_type, data, width, height
    logo.digest = hashlib.sha256(data).hexdigest()[:16]
    db.add(logo)
    db.commit()
    return logo


def content_id(logo: SignatureLogo) -> str:
    return f"logo.{logo.digest}@inkorg"


def shown_size(logo: SignatureLogo) -> tuple[int, int]:
    width = min(logo.width, SHOWN_WIDTH)
    return width, max(1, round(logo.height * width / logo.width))


def block(user: User, logo: SignatureLogo | None, logo_url: str) -> str:
    """The signature as the editor starts with it ("-- ", the text, the logo); "" for none."""
    text = user.signature_html or (rich.from_text(user.signature) if user.signature else "")
    if not (text or logo):
        return ""
    image = ""
    if logo is not None:
        width, height = shown_size(logo)
        image = f'<div><img src="{html.escape(logo_url)}" alt="" width="{width}" height="{height}"></div>'
    return "<div>-- </div>" + text + image


def to_message(draft: Draft, logo: SignatureLogo | None, logo_url: str) -> Draft:
    """The editor's logo address becomes the inline part's `cid:`, and the part goes with the draft."""
    if logo is not None and draft.html and logo_url in draft.html:
        draft.html = draft.html.replace(logo_url, "cid:" + content_id(logo))
        if not any(i.cid == content_id(logo) for i in draft.inline):
            draft.inline.append(Inline(content_id(logo), logo.content_type, logo.data))
    return draft


def to_editor(draft: Draft, logo: SignatureLogo | None, logo_url: str) -> Draft:
    """A saved draft's `cid:` logo shows in the editor again through the app's address."""
    if logo is not None and draft.html:
        draft.html = draft.html.replace("cid:" + content_id(logo), logo_url)
    return draft
