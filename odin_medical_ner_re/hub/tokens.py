"""The Hugging Face token, and keeping it out of every error text and staged file.

The token is read once (``HF_TOKEN`` or the ``hf auth login`` cache) and never printed, logged
or written: every error line passes through :func:`scrub`, and :func:`check_no_token` refuses a
staged folder that holds it before anything leaves the machine.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from huggingface_hub import get_token

from ..errors import UserInputError

#: Hub tokens are ``hf_`` + ~34 letters/digits; anything that looks like one is masked in error
#: texts even when it is not the token we hold (a second token in an environment variable, say).
_TOKEN_LIKE = re.compile(r"hf_[A-Za-z0-9]{20,}")
_SCAN_CHUNK = 1 << 20


class HubError(Exception):
    """The Hub could not be reached or refused a request: exit code 1, the staged folder is kept."""


def scrub(text: str, token: str | None) -> str:
    """``text`` without the token (or anything shaped like one): every error passes through here."""
    if token:
        text = text.replace(token, "***")
    return _TOKEN_LIKE.sub("hf_***", text)


def one_line(text: str, limit: int = 2000) -> str:
    """Errors are one line so scripts can log them and users see them whole."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def resolve_token() -> str | None:
    """``HF_TOKEN``, else the login cache (``huggingface_hub.get_token``); None means dry run."""
    try:
        return get_token() or None
    except Exception as err:  # e.g. a failed OIDC exchange; its text is not shown, it may hold secrets
        raise HubError(f"could not obtain a Hugging Face token ({type(err).__name__})") from None


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE``, read now: huggingface_hub reads it once at import."""
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE", "").strip().upper()
    return value in {"1", "ON", "YES", "TRUE"} or bool(constants.HF_HUB_OFFLINE)


def check_no_token(folder: Path, token: str | None) -> None:
    """Refuse to stage a file that holds the token (a config or log copied from elsewhere)."""
    if not token:
        return
    needle = token.encode("utf-8")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if _file_contains(path, needle):
            raise UserInputError(
                f"{path.relative_to(folder).as_posix()} holds your Hugging Face token; remove it from the "
                "source and run again (nothing was staged or sent)"
            )


def _file_contains(path: Path, needle: bytes) -> bool:
    """Chunked search with an overlap, so multi-GB weight files are scanned in bounded memory."""
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_CHUNK):
            if needle in tail + chunk:
                return True
            tail = chunk[-(len(needle) - 1) :] if len(needle) > 1 else b""
    return False
