"""Errors raised by planner.

Every error a planner can cause with their own input subclasses :class:`PlannerError`
and a built-in, so it can be caught either way. Messages name the file, row, column
and value, and say what to do. The CLI catches :class:`PlannerError` once, prints the
message and exits with a non-zero code.
"""

from __future__ import annotations


class PlannerError(Exception):
    """Base class of every error planner raises on purpose."""


class InputError(ValueError, PlannerError):
    """An input file, column or value cannot be used as it is."""


class MissingColumnError(InputError):
    """An input table lacks a required column."""


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or inconsistent."""


class UnknownProfileError(InputError):
    """No standards profile has that name or path."""


class NetworkError(PlannerError, RuntimeError):
    """The walking network cannot be built or used (empty, no roads in the area...)."""
