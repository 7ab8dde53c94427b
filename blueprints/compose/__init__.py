from flask import Blueprint

bp = Blueprint("compose", __name__, url_prefix="/inbox/compose")

from . import routes  # noqa: E402,F401
