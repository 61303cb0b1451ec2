"""Deprecated name of :mod:`odin_medical_ner_re.corpora`, kept so that code written against it still runs.

"benchmarks" named three things (the speed scripts, now ``perf/``; this package of real-corpus
adapters, now ``corpora``; the ``benchmark`` command, which keeps its name). Importing this name
warns once and gives the very same objects: every submodule of ``corpora`` is also registered under
``odin_medical_ner_re.benchmarks.<name>`` in ``sys.modules``, so ``from
odin_medical_ner_re.benchmarks.transfer import run_transfer`` still works without loading a second
copy of any module (a second copy would make two ``Corpus`` classes that ``isinstance`` tells apart).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings

from .. import corpora as _corpora
from ..corpora import *  # noqa: F403 (the alias re-exports the package's public names)
from ..corpora import __all__, __getattr__  # noqa: F401 (run_transfer/write_transfer load on first use)

warnings.warn(
    "odin_medical_ner_re.benchmarks is deprecated: import odin_medical_ner_re.corpora instead",
    DeprecationWarning,
    stacklevel=2,
)

for _info in pkgutil.iter_modules(_corpora.__path__):
    _module = importlib.import_module(f"{_corpora.__name__}.{_info.name}")
    sys.modules[f"{__name__}.{_info.name}"] = _module
    globals()[_info.name] = _module
