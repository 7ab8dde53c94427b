"""Gunicorn's access log without the addresses that work as credentials: an inline image's address
(/inbox/image/<token>) opens that image for as long as its session lives, so it is logged without its
token. deploy/inkorg-web.service runs gunicorn with `--logger-class blueprints.accesslog.AccessLogger`."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

SECRET_ADDRESS = re.compile(r"/inbox/image/[^\s?\"]*(\?[^\s\"]*)?")


def redacted(text: str) -> str:
    """The text with the token (and query) of every secret address replaced by "…"."""
    return SECRET_ADDRESS.sub("/inbox/image/…", text)


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        if "/inbox/image/" not in (environ.get("RAW_URI") or "") + (environ.get("PATH_INFO") or ""):
            return atoms
        atoms = {key: redacted(value) if isinstance(value, str) else value for key, value in atoms.items()}
        atoms["q"] = ""
        return atoms
