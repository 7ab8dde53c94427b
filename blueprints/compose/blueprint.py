from flask import Blueprint

bp = Blueprint("compose", __name__, url_prefix="/inbox/compose")
