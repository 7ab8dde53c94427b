from flask import Blueprint

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

from . import actions, listing, moves, reading  # noqa: E402,F401
