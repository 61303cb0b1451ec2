"""Dataset quality report: the seed's checklist turned into measured, plotted numbers.

Why these measures:

* **Distributions** (entity/relation types, entities, relations and tokens per document)
  show whether a model will see enough of every label and whether notes are realistic
  in length; side by side with a real corpus they show the domain gap.
* **Diversity**: distinct-n (distinct n-grams / all n-grams) is what collapsed to ~0.01
  in the seed generator; zlib compression ratio and self-BLEU catch template repetition
  that distinct-n misses. Template usage counts show which templates dominate.
* **Coverage**: distinct mentions per type and the share of knowledge-base concepts used
  say how much of the vocabulary a model can learn from the data.
* **Factual consistency**: the share of relations that are knowledge-base edges (the
  promise of DESIGN §3), schema violations (``validate``) and offset errors.
* **Leakage**: exact text and surface-form overlap between ``train`` and the other
  splits; ``test_unseen`` must have zero surface-form overlap by construction.

Everything here is pure Python over :class:`~odin_medical_ner_re.schema.Document` lists,
so synthetic files, saved datasets, builder configs and real benchmarks go through the
same code. Plots use matplotlib's headless ``Agg`` backend.

The package follows the report's path: :mod:`.loading` (any dataset as documents by split),
:mod:`.text` and :mod:`.measures` (the numbers), :mod:`.plots`, :mod:`.render` (Markdown and
HTML) and :mod:`.report` (measure and write the folder).
"""

from .loading import BENCHMARK_NAMES, SplitDocuments, dataset_documents, load_kb_or_none, load_split_documents
from .measures import (
    compute_report,
    diversity,
    factual_consistency,
    per_document,
    schema_and_offsets,
    split_leakage,
    surface_coverage,
    template_family,
    template_usage,
    type_distribution,
)
from .plots import (
    plot_coverage,
    plot_diversity,
    plot_leakage,
    plot_per_document,
    plot_templates,
    plot_types,
    write_plots,
)
from .render import render_html, render_markdown, report_blocks, report_value
from .report import REPORT_FILES, run_report, write_report
from .text import DEFAULT_BLEU_SAMPLE, compression_ratio, distinct_n, self_bleu, sentence_bleu, word_tokens

__all__ = [
    "BENCHMARK_NAMES",
    "DEFAULT_BLEU_SAMPLE",
    "REPORT_FILES",
    "SplitDocuments",
    "compression_ratio",
    "compute_report",
    "dataset_documents",
    "distinct_n",
    "diversity",
    "factual_consistency",
    "load_kb_or_none",
    "load_split_documents",
    "per_document",
    "plot_coverage",
    "plot_diversity",
    "plot_leakage",
    "plot_per_document",
    "plot_templates",
    "plot_types",
    "render_html",
    "render_markdown",
    "report_blocks",
    "report_value",
    "run_report",
    "schema_and_offsets",
    "self_bleu",
    "sentence_bleu",
    "split_leakage",
    "surface_coverage",
    "template_family",
    "template_usage",
    "type_distribution",
    "word_tokens",
    "write_plots",
    "write_report",
]
