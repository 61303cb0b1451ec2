"""Seeds derived from names, the same in every process.

The builder seeds each shard and draws the held-out vocabulary from ``stable_int``, and
augmentation seeds each copy of a document from it; Python's ``hash`` is salted per
process, so it cannot serve.
"""

from __future__ import annotations

import hashlib
from typing import Any


def stable_int(*parts: Any) -> int:
    """A process-independent 64-bit integer from ``parts`` (joined by their ``str``)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")
