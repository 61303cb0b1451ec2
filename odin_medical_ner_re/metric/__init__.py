"""The ``evaluate`` metric shipped with the package: ``evaluate.load(METRIC_PATH)``.

``evaluate.load`` wants a folder holding ``<folder name>.py``; this folder holds ``metric.py``,
which ``evaluate`` copies into its module cache and imports on its own. Importing this package
stays cheap (no ``evaluate`` import) so that the path can be exported from the top level.
"""

from __future__ import annotations

from pathlib import Path

#: Folder to pass to ``evaluate.load``; works offline, nothing is downloaded.
METRIC_PATH: str = str(Path(__file__).resolve().parent)

__all__ = ["METRIC_PATH"]
