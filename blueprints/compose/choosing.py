"""A template chosen in a compose window: its text filled from the CRM for the window's first
recipient and the user's own card, its subject, and its attachments added to the window's."""

from __future__ import annotations

from flask import abort, jsonify, request

from mailcore.compose import templates
from mailcore.compose import uploads as pending_uploads

from ..web import current_user, db, login_required
from .blueprint import bp
from .dialog import compose_page
from .forms import ComposeForm
from .windows import window_of


@bp.route("/template", methods=["POST"])
@login_required
def use_template():
    user = current_user()
    form = ComposeForm()
    if not form.validate_on_submit():
        abort(400)
    template = templates.chosen(db(), user, request.form.get("template", type=int) or 0)
    if template is None:
        abort(404)  # another user's own template
    window = window_of(form)
    subject, html = templates.filled(template, templates.values(db(), user, form.to.data or ""))
    for item in template.files:
        pending_uploads.store_bytes(db(), window, item.filename, item.content_type, item.data)
    if template.files:
        window.uploads_changed = True
        db().commit()
    uploads = compose_page(form, window, block="uploads").get_data(as_text=True)
    return jsonify(html=html, subject=subject, uploads=uploads, window=window.key)  # a new email's window is made here
