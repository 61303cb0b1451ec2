"""``odin-ner-re push``: publish the dataset or a trained model to the Hub, as ``hub/push.py``.

    odin-ner-re push dataset --configs 1k,10k,complex --repo-id USER/odin_medical_ner_re --dry-run
    odin-ner-re push model outputs/tiny-cpu --repo-id USER/odin-ner-re-tiny --dry-run
    odin-ner-re push upload hub-staging/odin_medical_ner_re --repo-id USER/odin_medical_ner_re --repo-type dataset

The parser, the staging and the exit codes (0 staged or uploaded, 1 the Hub failed, 2 bad input)
are :mod:`odin_medical_ner_re.hub.push`'s, shared with the script.
"""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    from ..hub.push import make_parser

    make_parser(subparsers)
