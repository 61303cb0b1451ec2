"""Seeds derived from names: the same integer in every process, distinct names apart."""

from __future__ import annotations

import os
import subprocess
import sys

from odin_medical_ner_re.seeds import stable_int


def test_the_same_parts_give_the_same_integer_in_any_process() -> None:
    """``hash`` would differ between these two processes (each salts it with its own seed)."""
    code = "from odin_medical_ner_re.seeds import stable_int; print(stable_int('augment', 3, 'doc-1', 0))"
    printed = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(salt)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for salt in (1, 2)
    }
    assert printed == {f"{stable_int('augment', 3, 'doc-1', 0)}\n"}


def test_parts_are_kept_apart_and_the_result_fits_64_bits() -> None:
    assert stable_int("ab", "c") != stable_int("a", "bc")
    assert stable_int("unseen", 42, "fever") != stable_int("unseen", 43, "fever")
    assert all(0 <= stable_int(i) < 2**64 for i in range(100))
