"""The one place that decides whether a request gets the full page or one fragment of it, and the one
place that writes htmx's response headers (HX-*, and Vary: HX-Request on what differs by it)."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_fragment_request() -> bool:
    """htmx asks for a fragment, except when it restores history or navigates (boosted): whole page."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true"
            and request.headers.get("HX-Boosted") != "true")


def is_htmx_request() -> bool:
    """Any request htmx makes, fragment or not (a boosted navigation, a history restore)."""
    return request.headers.get("HX-Request") == "true"


def render(template: str, block: str, status: int = 200, *, retarget: str | None = None,
           reswap: str | None = None, replace_url: str | None = None, **context) -> Response:
    """Render `block` of `template` for htmx, or the whole page for everyone else. `retarget` and
    `reswap` put htmx's fragment somewhere else than the element that asked (HX-Retarget, HX-Reswap);
    `replace_url` is the address the browser shows afterwards (HX-Replace-Url)."""
    if is_fragment_request():
        html = render_block(template, block, **context)
    else:
        html = render_template(template, **context)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    if retarget is not None:
        response.headers["HX-Retarget"] = retarget
    if reswap is not None:
        response.headers["HX-Reswap"] = reswap
    if replace_url is not None:
        response.headers["HX-Replace-Url"] = replace_url
    return response


def redirect_to(url: str) -> Response:
    """A redirect that htmx follows in place (the whole page's body, no reload) and a browser as a 303."""
    if is_fragment_request():
        response = make_response("", 204)
        response.headers["HX-Location"] = json.dumps(
            {"path": url, "target": "body", "headers": {"HX-Boosted": "true"}})
        return response
    response = make_response("", 303)
    response.headers["Location"] = url
    return response


def page_in_place(url: str, template: str, context: Callable[[], dict]) -> Response:
    """After a form that changes the whole page (an account saved): for htmx the new page itself, in
    the same response, put in place of the body with the address bar at `url`; a plain form post
    is redirected there (303)."""
    if not is_fragment_request():
        return redirect_to(url)
    response = make_response(render_template(template, **{**context(), "is_fragment": False}))  # a whole page
    response.vary.add("HX-Request")
    response.headers.update({"HX-Retarget": "body", "HX-Reswap": "innerHTML", "HX-Push-Url": url})
    return response


def leave_for(url: str) -> Response:
    """htmx is told to leave the page for `url` (a full page load, HX-Redirect); nothing to swap."""
    response = make_response("", 204)
    response.headers["HX-Redirect"] = url
    return response


def triggered(event: str, detail: dict) -> Response:
    """Nothing to swap; `event` is raised on the element that asked, with `detail` (HX-Trigger)."""
    response = make_response("", 204)
    response.headers["HX-Trigger"] = json.dumps({event: detail})
    return response
