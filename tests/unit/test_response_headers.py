"""Every response header the web layer sets is set in one of two modules: htmx.py writes htmx's
(HX-*, Vary: HX-Request), security.py the policy headers (security headers, downloads, Retry-After)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BLUEPRINTS = Path(__file__).resolve().parents[2] / "blueprints"
HEADER_WRITERS = {"htmx.py", "security.py"}
HEADER_NAME = re.compile(r"^[A-Z][A-Za-z]*(-[A-Z][A-Za-z]*)+$")  # HX-Retarget, Retry-After, Cache-Control


def header_writes(source: str) -> list[int]:
    """Lines that write a response header: response.headers[...] = ..., response.headers.update(...) and
    the like, response.vary.add(...), or a dict of headers such as a view's `return body, 429, {...}`."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            lines += [node.lineno for t in targets if isinstance(t, ast.Subscript)
                      and isinstance(t.value, ast.Attribute) and t.value.attr == "headers"]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and (
                    (owner.attr == "headers" and node.func.attr in {"update", "setdefault", "add", "set", "extend"})
                    or owner.attr == "vary"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Dict):
            if any(isinstance(k, ast.Constant) and isinstance(k.value, str) and HEADER_NAME.match(k.value)
                   for k in node.keys):
                lines.append(node.lineno)
    return lines


def test_the_check_finds_each_way_of_writing_a_header():
    source = ("def view(response):\n"
              "    response.headers['HX-Trigger'] = '{}'\n"
              "    response.headers.update({'a': 'b'})\n"
              "    response.vary.add('HX-Request')\n"
              "    return '', 429, {'Retry-After': '60'}\n"
              "    request.headers.get('HX-Target')\n")
    assert header_writes(source) == [2, 3, 4, 5]


def test_only_htmx_and_security_write_response_headers():
    sources = [BLUEPRINTS.parent / "app.py", *sorted(BLUEPRINTS.rglob("*.py"))]
    writers = {str(path.relative_to(BLUEPRINTS.parent)): header_writes(path.read_text(encoding="utf-8"))
               for path in sources if path.name not in HEADER_WRITERS or path.parent != BLUEPRINTS}
    assert {name: lines for name, lines in writers.items() if lines} == {}


def test_the_access_log_leaves_out_inline_image_tokens():
    """An inline image's address opens the image while its session lives: gunicorn's log names the path only."""
    import datetime
    from types import SimpleNamespace

    from gunicorn.config import Config

    from blueprints.accesslog import AccessLogger

    logger = AccessLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/inbox/image/eyJzZWNyZXQ.abc?x=1",
               "PATH_INFO": "/inbox/image/eyJzZWNyZXQ.abc", "QUERY_STRING": "x=1",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, datetime.timedelta(seconds=1))
    assert "eyJzZWNyZXQ" not in " ".join(str(value) for value in atoms.values())
    assert atoms["r"] == "GET /inbox/image/… HTTP/1.1"
    plain = logger.atoms(response, SimpleNamespace(headers=[]), {**environ, "RAW_URI": "/inbox/?folder=2",
                                                                "PATH_INFO": "/inbox/"}, datetime.timedelta(seconds=1))
    assert plain["r"] == "GET /inbox/?folder=2 HTTP/1.1"
