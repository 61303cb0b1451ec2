#!/usr/bin/env python
"""Publish the dataset or a trained model to the Hugging Face Hub, staging the exact folder first.

Commands (the same as ``odin-ner-re push dataset|model|upload``)::

    python hub/push.py dataset --configs 1k,10k,complex --repo-id USER/odin_medical_ner_re [--dry-run]
    python hub/push.py model outputs/tiny-cpu --repo-id USER/odin-ner-re-tiny [--dry-run]
    python hub/push.py upload hub-staging/odin_medical_ner_re --repo-id USER/odin_medical_ner_re --repo-type dataset

Every command first writes the folder that becomes the repository (``--output-dir``, default
``hub-staging/<repo name>``) and prints its tree; the upload then sends exactly that folder. Without a
token (``HF_TOKEN`` or the ``hf auth login`` cache) or with ``--dry-run`` nothing is sent, and the
token is never printed, logged or written.

Exit codes: 0 staged (and uploaded when there is a token); 1 the Hub could not be reached or refused
the upload (one line on stderr; the staged folder is kept for a retry); 2 bad input or a local
file problem (one ``error:`` line, no traceback).

This file is only the documented entry point, as TRL's ``trl/scripts/*.py``: the parser, the
staging, both cards and the upload live in :mod:`odin_medical_ner_re.hub`.
"""

from __future__ import annotations

import sys

from odin_medical_ner_re.hub.push import main

if __name__ == "__main__":
    sys.exit(main())
