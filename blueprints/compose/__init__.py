"""The compose window: writing, attaching, sending and the window's one draft."""

from . import choosing, routes, uploads  # noqa: F401 - register their routes on bp
from .blueprint import bp

__all__ = ["bp"]
