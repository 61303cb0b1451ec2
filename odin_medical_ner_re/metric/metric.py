"""NER/RE metric for medical documents: entity and relation scores under every matching mode.

``evaluate`` copies this file into its module cache and imports it on its own, so it imports
the scorer from the installed package (an absolute import) rather than from a sibling file.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import datasets
import evaluate

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.score_checks import check_scoring_inputs
from odin_medical_ner_re.scoring import ENTITY_MODES, RELATION_MODES, flatten, score_documents

_CITATION = """\
@inproceedings{segura-bedmar-etal-2013-semeval,
    title = "{S}em{E}val-2013 Task 9 : Extraction of Drug-Drug Interactions from Biomedical Texts ({DDIE}xtraction 2013)",
    author = "Segura-Bedmar, Isabel and Mart{\\'\\i}nez, Paloma and Herrero-Zazo, Mar{\\'\\i}a",
    booktitle = "Second Joint Conference on Lexical and Computational Semantics (*SEM), Volume 2: Proceedings of the Seventh International Workshop on Semantic Evaluation (SemEval 2013)",
    year = "2013",
    url = "https://aclanthology.org/S13-2056",
    pages = "341--350",
}
@misc{nervaluate,
    title = {{nervaluate}: Full named-entity (i.e., not tag/token) evaluation metrics based on SemEval'13},
    author = {Batista, David S. and Upson, Matthew},
    url = {https://github.com/MantisAI/nervaluate},
}
"""

_DESCRIPTION = """\
Scores predicted medical documents against reference documents: named entities (NER) and the
directed relations between them (RE), paired document by document, with one-to-one matching
inside each document (a duplicate prediction is spurious).

Entity modes: `strict` (same span and type), `exact` (same span), `partial` (overlap earns 0.5,
type ignored), `ent_type` (overlap and same type), `type` (bag of (type, normalized text) per
document, offsets ignored). Relation modes: `strict` (type and both argument spans and types),
`boundaries` (type and both argument spans), `relaxed` (type and both normalized argument texts).
Each mode reports micro and macro precision/recall/F1, per-type results with support and the
SemEval'13 counts (correct, incorrect, partial, missed, spurious). When nothing is expected and
nothing is predicted, scores are 1.0; no score is ever NaN. The definitions are in
`odin_medical_ner_re.scoring`.
"""

_KWARGS_DESCRIPTION = """
Computes entity and relation scores.
Args:
    predictions: list of predicted documents. A document is a dict
        `{"id"?, "text"?, "entities": [{"id", "start", "end", "type", "text"}], "relations":
        [{"type", "head", "tail"}]}` (head and tail are entity ids), an
        `odin_medical_ner_re.Document`, or a row of the dataset itself (integer types are
        `ClassLabel` indices). A prediction without "text" uses its reference's text; with
        `align_text=True` an entity may carry only "text" and "type".
    references: list of reference documents, same shapes, same order and length.
    align_text: give predicted entities without offsets the first unused occurrence of their text
        in the document (for generative models); default False.
    entity_labels: names of the entity `ClassLabel` indices; default the dataset's.
    relation_labels: names of the relation `ClassLabel` indices; default the dataset's.
    lenient: skip and count (in `skipped`) entities whose text is not `text[start:end]`, unknown
        types and repeated document ids; by default the first one raises a `ValueError` naming it.
        Known types are the labels given, else the dataset's plus those the references use.
    entity_modes: the entity modes to compute; default all of them.
    relation_modes: the relation modes to compute; default all of them (`[]`: entities only).
Returns:
    For every entity mode m in strict, exact, partial, ent_type, type: `ner_<m>_precision`,
    `ner_<m>_recall`, `ner_<m>_f1`, `ner_<m>_macro_precision`, `ner_<m>_macro_recall`,
    `ner_<m>_macro_f1`; for every relation mode m in strict, boundaries, relaxed the same keys
    with the `re_` prefix; `unaligned`: predicted entities left without offsets (no span mode
    can match them); `aligned`: entities placed by `align_text`; `documents`; and `ner`, `re`:
    the nested results per mode (`micro`, `macro`, `per_type` with support and counts).
Examples:

    >>> import evaluate
    >>> from odin_medical_ner_re.metric import METRIC_PATH
    >>> metric = evaluate.load(METRIC_PATH)
    >>> references = [{
    ...     "id": "note-1",
    ...     "text": "Metformin treats type 2 diabetes.",
    ...     "entities": [
    ...         {"id": "T1", "start": 0, "end": 9, "type": "Drug", "text": "Metformin"},
    ...         {"id": "T2", "start": 17, "end": 32, "type": "Disease", "text": "type 2 diabetes"},
    ...     ],
    ...     "relations": [{"type": "treats", "head": "T1", "tail": "T2"}],
    ... }]
    >>> predictions = [{
    ...     "id": "note-1",
    ...     "entities": [
    ...         {"id": "T1", "start": 0, "end": 9, "type": "Drug", "text": "Metformin"},
    ...         {"id": "T2", "start": 24, "end": 32, "type": "Disease", "text": "diabetes"},
    ...     ],
    ...     "relations": [{"type": "treats", "head": "T1", "tail": "T2"}],
    ... }]
    >>> results = metric.compute(predictions=predictions, references=references)
    >>> results["ner_strict_f1"], results["ner_partial_f1"], results["re_strict_f1"]
    (0.5, 0.75, 0.0)
    >>> results["ner"]["strict"]["per_type"]["Disease"]["incorrect"]
    1

    A generative model's mentions without offsets:

    >>> predictions = [{
    ...     "id": "note-1",
    ...     "entities": [
    ...         {"id": "T1", "type": "Drug", "text": "Metformin"},
    ...         {"id": "T2", "type": "Disease", "text": "type 2 diabetes"},
    ...     ],
    ...     "relations": [{"type": "treats", "head": "T1", "tail": "T2"}],
    ... }]
    >>> results = metric.compute(predictions=predictions, references=references, align_text=True)
    >>> results["ner_strict_f1"], results["re_strict_f1"], results["unaligned"]
    (1.0, 1.0, 0)
"""


def _jsonable(value: Any) -> Any:
    """JSON form of what dataset rows and the package's objects may hold (numpy, dataclasses)."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    raise TypeError(f"cannot score a value of type {type(value).__name__} inside a document")


def _encode(document: Any) -> str | None:
    """One document as a JSON string, the column type that ``evaluate``'s Arrow cache stores.

    Nested features would reject documents without offsets, Document objects and ``ClassLabel``
    integers, and encode slower; a string per document carries every shape unchanged.
    """
    if document is None or isinstance(document, str):
        return document
    if hasattr(document, "to_dict"):
        document = document.to_dict()
    return json.dumps(document, ensure_ascii=False, default=_jsonable)


def _decode(document: Any, side: str, index: int) -> Any:
    """A document from the Arrow cache (a JSON string) or, on the direct path, as given."""
    if not isinstance(document, str):
        return document
    try:
        return json.loads(document)
    except (ValueError, RecursionError) as err:
        raise UserInputError(
            f"{side} {index}: a string must be a JSON document, got {document[:40]!r} ({err})"
        ) from None


def _encode_all(documents: Any) -> list[str | None] | None:
    return None if documents is None else [_encode(document) for document in documents]


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class OdinNerRe(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            codebase_urls=["https://github.com/MantisAI/nervaluate"],
            reference_urls=["https://aclanthology.org/S13-2056"],
        )

    def compute(
        self, *, predictions: Any = None, references: Any = None, **kwargs: Any
    ) -> dict[str, Any] | None:
        """Score directly when nothing is cached and this is the only process.

        ``evaluate`` normally writes every input to an Arrow cache and reads it back, which lets
        batches accumulate and processes gather; for one in-memory call that round trip costs
        more than the scoring itself, so it is skipped. Anything else takes the cached path.
        """
        if (
            predictions is not None
            and references is not None
            and self.num_process == 1
            and self.writer is None
        ):
            return self._compute(predictions, references, **kwargs)
        return super().compute(predictions=predictions, references=references, **kwargs)

    def add_batch(self, *, predictions: Any = None, references: Any = None, **kwargs: Any) -> None:
        """Documents are encoded as JSON strings before ``evaluate`` caches them."""
        super().add_batch(predictions=_encode_all(predictions), references=_encode_all(references), **kwargs)

    def add(self, *, prediction: Any = None, reference: Any = None, **kwargs: Any) -> None:
        """One document pair, encoded like :meth:`add_batch`."""
        super().add(prediction=_encode(prediction), reference=_encode(reference), **kwargs)

    def _compute(
        self,
        predictions: list[Any],
        references: list[Any],
        align_text: bool = False,
        entity_labels: list[str] | None = None,
        relation_labels: list[str] | None = None,
        lenient: bool = False,
        entity_modes: list[str] | tuple[str, ...] = ENTITY_MODES,
        relation_modes: list[str] | tuple[str, ...] = RELATION_MODES,
    ) -> dict[str, Any]:
        checked_predictions, checked_references, skipped = check_scoring_inputs(
            [_decode(document, "prediction", i) for i, document in enumerate(predictions)],
            [_decode(document, "reference", i) for i, document in enumerate(references)],
            entity_labels=entity_labels,
            relation_labels=relation_labels,
            lenient=lenient,
        )
        report = score_documents(
            checked_predictions,
            checked_references,
            align_text=align_text,
            entity_labels=entity_labels,
            relation_labels=relation_labels,
            entity_modes=entity_modes,
            relation_modes=relation_modes,
        )
        return {
            **flatten(report),
            "aligned": report["aligned"],
            "documents": report["documents"],
            "ner": report["ner"],
            "re": report["re"],
            **({"skipped": skipped} if lenient else {}),
        }
