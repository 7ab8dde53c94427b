"""Personal settings, Email options and the contact card (card.py renders it)."""

from . import routes, templates, verify  # noqa: F401 - register their routes on bp
from .blueprint import bp

__all__ = ["bp"]
