"""``python -m odin_medical_ner_re`` is the same as ``odin-ner-re``."""

import sys

from .cli import main

sys.exit(main())
