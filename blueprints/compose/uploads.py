"""Attaching files to an open compose form and removing them again, before anything is sent."""

from __future__ import annotations

from flask import abort

from mailcore.compose import uploads as pending_uploads

from ..web import current_account, db, login_required
from .blueprint import bp
from .dialog import compose_page
from .forms import ComposeForm
from .windows import keep_files, window_of


@bp.route("/attachments", methods=["POST"])
@login_required
def attach():
    current_account()
    form = ComposeForm()
    made = not form.window.data
    window = window_of(form)
    problem = keep_files(window)
    return compose_page(form, window, 422 if problem else 200, block="uploads", upload_problem=problem,
                        window_made=made)


@bp.route("/attachments/<int:upload_id>/remove", methods=["POST"])
@login_required
def remove_attachment(upload_id: int):
    current_account()
    form = ComposeForm()
    window = window_of(form)
    if not pending_uploads.remove(db(), window, upload_id):
        abort(404)
    window.uploads_changed = True
    db().commit()
    return compose_page(form, window, block="uploads")
