"""Run one system (a baseline or a trained model) on a benchmark split and build its report.

The report is the scoring module's (``score_documents`` plus its ``flatten`` keys, as the
training recipe writes it) with what a reader needs to reproduce and interpret the number:
corpus, split, label set, system, data folder, the entity types that were scored and, for
BC5CDR and BioRED, the official document-level relation scores.

With ``label_set="odin"`` predictions are limited to the odin types the corpus annotates
(BC5CDR has no Symptom, Procedure or Lab_Test annotation, so such predictions could be neither
right nor wrong there); the report lists the scored types.

ADE's negative sentences (``ADE-NEG.txt``) are left out of training and scoring unless
``include_negatives``: they were selected for *not* reporting an adverse effect and their drugs
and conditions were never marked, so a correct drug mention there would count as spurious and a
tagger trained on them learns to stay silent. The published ADE figures use the 4,272
annotated sentences; the dataset keeps the negatives for sentence classification.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..schema import Document
from ..scoring import RELATION_MODES, flatten, format_report, score_documents
from . import get_corpus, label_names, load_benchmark_documents
from .baselines import CooccurrenceRelations, CrfTagger, DictionaryMatcher
from .corpus import resolve_corpus_dir
from .labels import odin_entity_types, odin_relation_types
from .pairs import document_pairs, predicted_document_pairs, score_document_pairs

SYSTEMS: tuple[str, ...] = ("dictionary", "crf")
DEFAULT_LABEL_SET: dict[str, str] = {"dictionary": "odin", "crf": "native", "model": "odin"}


def scored_types(corpus_name: str, label_set: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(entity types, relation types) a corpus can judge in ``label_set``."""
    if label_set == "odin":
        return odin_entity_types(corpus_name), odin_relation_types(corpus_name)
    return label_names(corpus_name, label_set)


def _restrict(
    predictions: list[dict[str, Any]], types: Sequence[str], relation_types: Sequence[str]
) -> list[dict[str, Any]]:
    wanted, wanted_relations = set(types), set(relation_types)
    out = []
    for pred in predictions:
        entities = [e for e in pred.get("entities") or [] if e.get("type") in wanted]
        kept = {e["id"] for e in entities}
        relations = [
            r
            for r in pred.get("relations") or []
            if r["head"] in kept and r["tail"] in kept and r.get("type") in wanted_relations
        ]
        out.append({**pred, "entities": entities, "relations": relations})
    return out


def without_negatives(splits: dict[str, list[Document]]) -> dict[str, list[Document]]:
    """``splits`` without ADE's negative sentences (why: see the module docstring); other corpora unchanged."""
    return {part: [d for d in docs if not d.metadata.get("negative")] for part, docs in splits.items()}


def require_split(corpus_name: str, splits: dict[str, list[Document]], split: str) -> None:
    """Raise the user-facing error for a split the corpus folder does not hold."""
    if split in splits:
        return
    hint = (
        " (BioRED's Test.PubTator is not distributed here: put it beside the others)"
        if corpus_name == "biored"
        else ""
    )
    raise UserInputError(f"split {split!r} of {corpus_name} not found; available: {', '.join(splits)}{hint}")


def score_predictions(
    corpus_name: str, label_set: str, predictions: list[dict[str, Any]], gold: Sequence[Document]
) -> dict[str, Any]:
    """The scoring report (plus its flat keys) of ``predictions`` against ``gold``.

    Predictions are first limited to the types the corpus can judge in ``label_set``
    (:func:`scored_types`); relation modes are scored only when it judges a relation type.
    Every front door that scores on a corpus (``benchmark``, ``transfer``) goes through here,
    so their numbers are comparable.
    """
    entity_types, relation_types = label_names(corpus_name, label_set)
    judged_entities, judged_relations = scored_types(corpus_name, label_set)
    report = score_documents(
        _restrict(predictions, judged_entities, judged_relations),
        [doc.to_dict() for doc in gold],
        entity_labels=entity_types,
        relation_labels=relation_types,
        relation_modes=RELATION_MODES if judged_relations else (),
    )
    report.update(flatten(report))
    return report


def _model_predictions(
    model_dir: str, documents: list[Document], labels: tuple[Sequence[str], Sequence[str]], batch_size: int = 32
) -> list[dict[str, Any]]:
    try:
        from ..inference import predict_documents
    except ImportError as err:
        raise UserInputError(
            f"--model needs odin_medical_ner_re.inference.predict_documents, which is not available ({err}); "
            "use --baseline dictionary or --baseline crf"
        ) from None
    inputs = [{"id": d.id, "text": d.text, "entities": [], "relations": []} for d in documents]
    labels = (list(labels[0]), list(labels[1]))
    return list(predict_documents(model_dir, inputs, labels, batch_size=batch_size, show_progress=True))


def predict(
    system: str,
    splits: dict[str, list[Document]],
    split: str,
    corpus_name: str,
    label_set: str,
    model_dir: str | None = None,
    batch_size: int = 32,
) -> list[dict[str, Any]]:
    """Predictions of ``system`` for ``splits[split]`` (the CRF trains on ``splits["train"]``)."""
    entity_types, relation_types = label_names(corpus_name, label_set)
    documents = splits[split]
    if system == "dictionary":
        if label_set != "odin":
            raise UserInputError("the dictionary baseline predicts odin types: use --label-set odin")
        from ..knowledge import load_knowledge_base

        matcher = DictionaryMatcher.from_knowledge_base(load_knowledge_base(), odin_entity_types(corpus_name))
        return matcher.predict(documents, odin_relation_types(corpus_name))
    if system == "crf":
        if "train" not in splits:
            raise UserInputError(
                f"the CRF baseline trains on the train split, which {corpus_name} lacks here"
            )
        train = splits["train"]
        predictions = CrfTagger().fit(train).predict(documents)
        if relation_types and any(d.relations for d in train):
            CooccurrenceRelations().fit(train).add_to(predictions)
        return predictions
    if system == "model":
        if model_dir is None:
            raise UserInputError("system 'model' needs a model folder")
        return _model_predictions(model_dir, documents, (entity_types, relation_types), batch_size)
    raise UserInputError(f"unknown system {system!r}; valid: {', '.join((*SYSTEMS, 'model'))}")


def run_benchmark(
    name: str,
    *,
    split: str = "test",
    system: str = "dictionary",
    label_set: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    model_dir: str | None = None,
    include_negatives: bool = False,
    batch_size: int = 32,
    allow_subset: bool = False,
) -> dict[str, Any]:
    """Load, predict, score; returns the JSON-ready report (``batch_size``: documents per decoding batch).

    ``allow_subset`` scores corpus files whose counts differ from the originals (a sample on purpose).
    """
    if batch_size < 1:  # checked before the corpus is read, not after
        raise UserInputError(f"batch size must be at least 1, got {batch_size}")
    corpus = get_corpus(name)
    label_set = label_set or DEFAULT_LABEL_SET[system]
    started = time.perf_counter()
    splits = load_benchmark_documents(corpus.name, data_dir, label_set, allow_subset=allow_subset)
    excluded = 0
    if not include_negatives:
        kept = without_negatives(splits)
        excluded = len(splits.get(split, [])) - len(kept.get(split, []))  # in the scored split
        splits = kept
    require_split(corpus.name, splits, split)
    loaded = time.perf_counter()
    predictions = predict(system, splits, split, corpus.name, label_set, model_dir, batch_size)
    predicted = time.perf_counter()
    judged_entities, judged_relations = scored_types(corpus.name, label_set)
    predictions = _restrict(predictions, judged_entities, judged_relations)  # the document pairs too
    report: dict[str, Any] = {
        "benchmark": corpus.name,
        "split": split,
        "label_set": label_set,
        "system": system if system != "model" else f"model:{model_dir}",
        "data_dir": str(resolve_corpus_dir(corpus, data_dir)),
        "negative_documents_excluded": excluded,
        "scored_entity_types": list(judged_entities),
        "relation_types": list(judged_relations),
    }
    report.update(score_predictions(corpus.name, label_set, predictions, splits[split]))
    if corpus.document_level_relations and judged_relations:
        report["document_level_re"] = score_document_pairs(
            document_pairs(splits[split]), predicted_document_pairs(predictions, splits[split])
        )
    report["seconds"] = {
        "load": round(loaded - started, 2),
        "predict": round(predicted - loaded, 2),
        "score": round(time.perf_counter() - predicted, 2),
    }
    return report


def format_benchmark_report(report: dict[str, Any]) -> str:
    """Header, the scoring table and the document-level relation line when there is one."""
    scope = f"scored entity types: {', '.join(report['scored_entity_types'])}"
    if report.get("negative_documents_excluded"):
        scope += f"   negative sentences left out: {report['negative_documents_excluded']}"
    head = (
        f"{report['benchmark']} / {report['split']} / {report['label_set']} labels / {report['system']}\n"
        f"{scope}\nNER strict micro-F1 {report['ner']['strict']['micro']['f1']:.4f}"
    )
    if report.get("relation_types"):
        head += f"   RE strict micro-F1 (mention level) {report['re']['strict']['micro']['f1']:.4f}"
    lines = [head]
    if "document_level_re" in report:
        micro = report["document_level_re"]["micro"]
        lines.append(
            f"RE document level (official protocol): P {micro['precision']:.4f}  R {micro['recall']:.4f}  "
            f"F1 {micro['f1']:.4f}  support {micro['support']}"
        )
    lines += ["", format_report(report)]
    return "\n".join(lines)


def write_json(report: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    import json

    from ..files import atomic_write_text, check_output_file

    target = check_output_file(path)
    atomic_write_text(target, json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    return target
