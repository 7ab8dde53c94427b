"""The inbox page (pages.py renders it) and what its routes do: the list, reading, actions and moves."""

from . import actions, listing, moves, notify, reading  # noqa: F401 - register their routes on bp
from .blueprint import bp

__all__ = ["bp"]
