"""Exceptions that mean "the user gave us something wrong", as opposed to a bug.

The CLI turns these into a one-line ``error: ...`` message and exit code 2, so every
message must name the file, line, field or document that is at fault.
"""

from __future__ import annotations


class UserInputError(ValueError):
    """Bad input from a user (file, argument, document): reported without a traceback."""
