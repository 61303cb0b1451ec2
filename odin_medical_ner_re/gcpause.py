"""One way to pause Python's cyclic garbage collector around allocation-heavy work.

The generator, the builder and the scorer allocate hundreds of thousands of small acyclic
objects; collector passes over them free nothing and walk every long-lived object of the
process (knowledge base, indexes, documents kept so far) again and again, which cost a third to a
half of each of those runs.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused(freeze_survivors: bool = False) -> Iterator[None]:
    """Pause the collector; restore its previous state afterwards.

    ``freeze_survivors``: re-enabling the collector is a trap of its own when the work keeps what
    it made (the generator's documents): the first allocation after it would trigger a pass over
    all of them at once. So the objects alive at the end are filed straight into the oldest
    generation (``gc.freeze`` then ``gc.unfreeze``), where full collections still see them. Skipped
    when the caller froze objects of their own, which ``unfreeze`` would release.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            freeze = freeze_survivors and gc.get_freeze_count() == 0
            if freeze:
                gc.freeze()
            gc.enable()
            if freeze:
                gc.unfreeze()
