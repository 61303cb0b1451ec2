"""MedicalTextGenerator: knowledge-base facts + hand-written templates -> annotated notes.

Why it is built this way:

* Every relation comes from a knowledge-base edge, and only where a template states it,
  so factual consistency is 100% by construction (and tested).
* Text is assembled piece by piece and offsets are summed once at the end, so they are
  exact without searching the text afterwards.
* All randomness flows from one local :class:`random.Random`; the global RNG is never
  touched, so the same seed gives byte-identical output in any process.
* A surface-form filter lets the builder hold some names out of training and build a
  ``test_unseen`` split from them.
* Patients are coherent: sex- and age-specific concepts only appear for a patient they fit,
  exam findings are written as findings (never "denies splenomegaly"), and a vitals line
  shows a fever or a tachycardia only when the note asserts it.
* Speed matters (millions of notes for large configs): whatever depends only on the
  knowledge base, the options or the patient's sex and age band is computed once and
  cached; templates are compiled when the file is read (pronouns resolved per sex,
  literals and ``[a|b]`` alternatives folded into one drawn text before each slot);
  sentences are planned as plain tuples into per-section lists; the cyclic garbage
  collector is paused while a dataset is generated.
* Diversity comes from the template file (``templates/clinical_notes.yaml``): a line may
  hold ``[a|b|c]`` alternatives and shared word pools (``{known}``, ``{end_rx}``, ...), so
  one line of YAML yields many phrasings of one statement; the generator draws a line,
  then one alternative per group. Layout varies too (inline or headed sections, a merged
  "A/P", one item per line), as it does between real records.

Where each part lives (read top-down): :mod:`.options` (how rich a note is),
:mod:`.templates` and :mod:`.steps` (reading, checking and compiling the template file),
:mod:`.terms` and :mod:`.index` (what the knowledge base offers a note), :mod:`.planning`
(which facts a note states, in which sections), :mod:`.writing` (surface forms, layout,
offsets) and :mod:`.notes` (the generator that ties them to one random stream).
"""

from .notes import MedicalTextGenerator
from .options import COMPLEXITY_PRESETS, NoteOptions
from .templates import (
    FACT_RELATION,
    SECTION_ORDER,
    TEMPLATES_PATH,
    TemplateBank,
    count_phrasings,
    expand_alternatives,
    load_templates,
)
from .terms import capitalize

__all__ = [
    "COMPLEXITY_PRESETS",
    "FACT_RELATION",
    "SECTION_ORDER",
    "TEMPLATES_PATH",
    "MedicalTextGenerator",
    "NoteOptions",
    "TemplateBank",
    "capitalize",
    "count_phrasings",
    "expand_alternatives",
    "load_templates",
]
