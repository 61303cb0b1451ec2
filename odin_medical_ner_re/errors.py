"""Exceptions that mean "the user gave us something wrong", as opposed to a bug.

The CLI turns these into a one-line ``error: ...`` message and exit code 2, so every
message must name the file, line, field or document that is at fault.
"""

from __future__ import annotations


class UserInputError(ValueError):
    """Bad input from a user (file, argument, document): reported without a traceback."""


class EngineConnectionError(RuntimeError):
    """A cluster address that does not answer: reported in one line with exit code 1, not 2.

    Not the user's input being wrong but the world (a head node down, a firewall), so scripts
    can tell "fix your command" (2) from "try again later" (1).
    """


class Terminated(BaseException):
    """SIGTERM/SIGHUP turned into an exception, so writers unwind and remove their temporaries.

    A ``BaseException`` like ``KeyboardInterrupt``: ``except Exception`` must not swallow it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, what a shell reports for a process killed by it."""
        return 128 + self.signum
