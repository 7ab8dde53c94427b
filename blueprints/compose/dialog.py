"""The compose dialog, rendered here: the form, its attachments and what went wrong. The sending,
draft and attachment routes answer with it."""

from __future__ import annotations

from mailcore.compose import message as compose
from mailcore.compose import recipients, rich, templates
from mailcore.compose import uploads as pending_uploads
from mailcore.compose.message import written_address

from ..htmx import render
from ..web import current_user, db
from .forms import ComposeForm
from .windows import title

TEMPLATE = "compose/compose.html"


def compose_page(form: ComposeForm, window, status: int = 200, problem: str | None = None,
                 card_rule: str | None = None, block: str = "dialog", upload_problem: str | None = None,
                 window_made: bool = False, **extra):
    return render(TEMPLATE, block, status, form=form, problem=problem, card_rule=card_rule, window_made=window_made,
                  title=title(form.mode.data),
                  suggestions=[written_address(pair) for pair in recipients.suggestions(db(), current_user())],
                  uploads=pending_uploads.listed(db(), window), upload_problem=upload_problem,
                  limit_mb=compose.MAX_ATTACHMENTS_BYTES // 2**20,
                  editor_html=form.html.data or rich.from_text(form.body.data or ""),
                  templates=templates.visible(db(), current_user()), **extra)
