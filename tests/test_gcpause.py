"""The collector pause: off inside, the caller's state restored after, frozen objects untouched."""

from __future__ import annotations

import gc

import pytest

from odin_medical_ner_re.gcpause import gc_paused


@pytest.mark.parametrize("freeze_survivors", [False, True])
def test_pauses_and_restores(freeze_survivors: bool) -> None:
    assert gc.isenabled()
    with gc_paused(freeze_survivors):
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused(freeze_survivors=True):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_restored_after_an_error() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_the_callers_frozen_objects_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused(freeze_survivors=True):
            pass
        # unfreeze would empty the permanent generation; a few frozen objects may die meanwhile
        # (other threads drop references), so "stayed frozen" is "nearly all still there"
        assert gc.get_freeze_count() > 0.99 * frozen
    finally:
        gc.unfreeze()
