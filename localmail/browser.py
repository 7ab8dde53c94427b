"""Driving the app in Debian's headless Chromium for the documentation's pictures: serve a Flask
app on loopback, launch the browser with a fixed font set, wait for htmx to finish.

Playwright's own browser download does not work here, so Chromium is always the system one.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# For the documentation's pictures only: they make Playwright's "visible and stable" waits hang.
PICTURE_ARGS = [
    *CHROMIUM_ARGS,
    # the same pixels on every machine: no GPU rasteriser, no LCD text, sRGB
    "--disable-lcd-text", "--force-color-profile=srgb", "--font-render-hinting=none",
    "--hide-scrollbars",
    # raster every frame whole, on one thread, before it is shown: no tile caught half-way
    "--run-all-compositor-stages-before-draw", "--disable-partial-raster", "--num-raster-threads=1",
    "--disable-checker-imaging", "--disable-threaded-animation",
]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core

# Only DejaVu, grayscale antialiasing, no hinting: the CSS font stack ("Segoe UI", "DejaVu Sans",
# system-ui, sans-serif) lands on the same glyphs whatever else a machine has installed.
_FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>{fonts}</dir>
  <cachedir>{cache}</cachedir>
  <config><rescan><int>0</int></rescan></config>
  <alias binding="same"><family>sans-serif</family><prefer><family>DejaVu Sans</family></prefer></alias>
  <alias binding="same"><family>system-ui</family><prefer><family>DejaVu Sans</family></prefer></alias>
  <alias binding="same"><family>serif</family><prefer><family>DejaVu Serif</family></prefer></alias>
  <alias binding="same"><family>monospace</family><prefer><family>DejaVu Sans Mono</family></prefer></alias>
  <match target="font">
    <edit name="antialias" mode="assign"><bool>true</bool></edit>
    <edit name="hinting" mode="assign"><bool>false</bool></edit>
    <edit name="rgba" mode="assign"><const>none</const></edit>
    <edit name="embeddedbitmap" mode="assign"><bool>false</bool></edit>
  </match>
</fontconfig>
"""


def fixed_fonts_env(workdir: Path, environ: dict[str, str]) -> dict[str, str]:
    """The browser's environment with a fontconfig of DejaVu only, written into `workdir`."""
    if not DEJAVU.is_dir():
        raise RuntimeError(f"{DEJAVU} is missing: install Debian's fonts-dejavu-core")
    conf = workdir / "fonts.conf"
    conf.write_text(_FONTS_CONF.format(fonts=DEJAVU, cache=workdir / "fontconfig-cache"))
    return {**environ, "FONTCONFIG_FILE": str(conf), "TZ": "UTC"}


def launch_chromium(playwright: Any, env: dict[str, str] | None = None, args: list[str] = CHROMIUM_ARGS) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True, env=env)


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 at a free port in a background thread; yields its base URL."""
    server = make_server(host="127.0.0.1", port=0, app=app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="inkorg-docs-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def wait_for_htmx(page: Any, timeout: float = 15_000) -> None:
    """Until htmx has no request in flight and has finished swapping and settling."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')",
        timeout=timeout)


def is_local(url: str) -> bool:
    """True for data:/about:/blob: URLs and for http(s) to an address in 127.0.0.0/8."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "about", "blob"):
        return True
    try:
        return ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return parts.hostname == "localhost"


class LocalOnly:
    """Aborts every request of a browser context that would leave the machine, and remembers it."""

    def __init__(self, context: Any) -> None:
        self.blocked: list[str] = []
        context.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        if is_local(route.request.url):
            route.fallback()
        else:
            self.blocked.append(route.request.url)
            route.abort("blockedbyclient")
