"""Train, then evaluate by generating and scoring: the logic behind ``recipes/*.py``.

Kept in the package (not in the scripts) so ``SLMTrainer``, the tests and the recipes
share one implementation; the recipes stay as short as TRL's ``sft.py``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..files import atomic_write_text
from ..formats import build_completion, build_prompt, tag_vocabulary
from ..inference import LOOKAHEAD_ATTRIBUTE, predict
from ..schema import Document
from ..scoring import flatten, format_report, score_documents
from .backends import TINY, ModelArguments, load_model_and_tokenizer, peft_config, select_backend
from .data import (
    Corpus,
    DataArguments,
    load_corpus,
    sft_examples,
    tokenized_tag_examples,
    with_renamed_copies,
)

logger = logging.getLogger("odin_medical_ner_re.training")


def _trainer_class():
    from trl import SFTTrainer

    class ExtractionSFTTrainer(SFTTrainer):
        """SFTTrainer whose evaluation also generates answers and logs NER/RE F1, not just loss."""

        def __init__(self, *args: Any, generation_eval: dict[str, Any] | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.generation_eval = generation_eval

        def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
            metrics = super().evaluate(*args, **kwargs)
            if self.generation_eval and self.accelerator.is_main_process:
                spec = self.generation_eval
                model = self.accelerator.unwrap_model(self.model)
                report = evaluate_documents(
                    model,
                    self.processing_class,
                    spec["documents"],
                    spec["entity_types"],
                    spec["relation_types"],
                    batch_size=spec["batch_size"],
                    max_new_tokens=spec["max_new_tokens"],
                )
                extra = {f"eval_{k}": v for k, v in flatten(report).items() if k in _LOGGED}
                self.log(extra)
                metrics.update(extra)
            self.accelerator.wait_for_everyone()
            return metrics

    return ExtractionSFTTrainer


_LOGGED = {"ner_strict_f1", "ner_partial_f1", "re_strict_f1", "re_boundaries_f1"}


def evaluate_documents(
    model: Any,
    tokenizer: Any,
    documents: Sequence[Document],
    entity_types: Sequence[str],
    relation_types: Sequence[str],
    *,
    batch_size: int = 16,
    max_new_tokens: int = 320,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Generate, parse and score; the report carries the metric's flat keys and parse counts."""
    predictions, parsed = predict(
        model,
        tokenizer,
        documents,
        entity_types=entity_types,
        relation_types=relation_types,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        show_progress=show_progress,
    )
    report = score_documents(
        [p.to_dict() for p in predictions],
        [d.to_dict() for d in documents],
        entity_labels=entity_types,
        relation_labels=relation_types,
    )
    report["parse"] = (
        {key: sum(p.counts()[key] for p in parsed) for key in parsed[0].counts()} if parsed else {}
    )
    report.update(flatten(report))
    return report


def run_training(data_args: DataArguments, training_args: Any, model_args: ModelArguments) -> dict[str, Any]:
    """Train per the three argument groups, save to ``output_dir``, evaluate the asked splits."""
    started = time.time()
    backend, reason = select_backend(model_args.backend)
    logger.warning("backend: %s (%s)", backend, reason)
    if backend == "unsloth":  # Unsloth must patch transformers before the trainer is imported
        import unsloth  # noqa: F401
    tiny = model_args.model_name_or_path == TINY
    if tiny and model_args.use_peft:
        raise UserInputError("use_peft applies to pretrained models; the tiny model is trained from scratch in full")
    lookahead = data_args.tag_lookahead
    if lookahead < 0:
        raise UserInputError(f"tag_lookahead must be 0 or more, got {lookahead}")
    if not tiny:  # a missing download or extra fails now, not after the corpus is built
        model, tokenizer = load_model_and_tokenizer(model_args, backend)
    corpus = load_corpus(data_args)
    missing = [name for name in data_args.evaluate_splits or [] if name not in corpus.splits]
    if missing:  # found now, not after an hour of training
        raise UserInputError(
            f"evaluate_splits names {', '.join(missing)}, which the training data does not have "
            f"(it has: {', '.join(corpus.splits)}); set evaluate_splits to [] in the config and score the model "
            "afterwards with recipes/evaluate_model.py"
        )
    train_docs = with_renamed_copies(corpus.split(data_args.train_split), data_args, training_args.seed)
    import datasets

    if tiny:
        # From scratch: tag tokens are single tokens, words are forced at decoding time.
        tags = tag_vocabulary(corpus.entity_types, corpus.relation_types)
        texts = (build_prompt(d.text, corpus.entity_types, corpus.relation_types, with_text=False, lookahead=lookahead)
                 + build_completion(d, lookahead) for d in train_docs)
        model, tokenizer = load_model_and_tokenizer(model_args, backend, tokenizer_texts=texts, extra_tokens=tags)
        records = tokenized_tag_examples(
            train_docs, tokenizer, corpus.entity_types, corpus.relation_types, lookahead=lookahead
        )
    else:
        records = sft_examples(
            train_docs, corpus.entity_types, corpus.relation_types, conversational=True, lookahead=lookahead
        )
    setattr(model.config, LOOKAHEAD_ATTRIBUTE, lookahead)  # saved with the model; predict() reads it back
    train_dataset = datasets.Dataset.from_list(records)
    eval_dataset = None
    generation_eval = None
    if training_args.eval_strategy != "no" and data_args.eval_split in corpus.splits:
        eval_docs = corpus.split(data_args.eval_split)
        eval_records = (
            tokenized_tag_examples(
                eval_docs[:32], tokenizer, corpus.entity_types, corpus.relation_types, lookahead=lookahead
            )
            if tiny
            else sft_examples(
                eval_docs[:32], corpus.entity_types, corpus.relation_types, conversational=True, lookahead=lookahead
            )
        )
        eval_dataset = datasets.Dataset.from_list(eval_records)
        if data_args.generation_eval_samples > 0:
            generation_eval = {
                "documents": eval_docs[: data_args.generation_eval_samples],
                "entity_types": corpus.entity_types,
                "relation_types": corpus.relation_types,
                "batch_size": data_args.eval_batch_size,
                "max_new_tokens": data_args.max_new_tokens,
            }
    trainer = _trainer_class()(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=peft_config(model_args, backend),
        generation_eval=generation_eval,
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(training_args.output_dir)
        _write_json(
            Path(training_args.output_dir) / "odin_training.json",
            {
                "backend": backend,
                "backend_reason": reason,
                "data": {k: v for k, v in vars(data_args).items()},
                "model": {k: v for k, v in vars(model_args).items()},
                "entity_types": corpus.entity_types,
                "relation_types": corpus.relation_types,
                "train_examples": len(records),
            "format": "forced-word tags" if tiny else "free generation",
                "train_seconds": round(time.time() - started, 1),
            },
        )
    results: dict[str, Any] = {}
    if data_args.evaluate_splits and trainer.accelerator.is_main_process:
        model = trainer.accelerator.unwrap_model(trainer.model)
        results = evaluate_splits(model, tokenizer, corpus, data_args, Path(training_args.output_dir))
    trainer.accelerator.wait_for_everyone()
    return results


def evaluate_splits(
    model: Any, tokenizer: Any, corpus: Corpus, data_args: DataArguments, output_dir: Path,
    report_name: str = "report.json",
) -> dict[str, Any]:
    """Score each split of ``data_args.evaluate_splits``; write ``report.json`` and print tables."""
    reports: dict[str, Any] = {}
    for split in data_args.evaluate_splits or []:
        documents = corpus.split(split)[: data_args.max_eval_samples]
        report = evaluate_documents(
            model,
            tokenizer,
            documents,
            corpus.entity_types,
            corpus.relation_types,
            batch_size=data_args.eval_batch_size,
            max_new_tokens=data_args.max_new_tokens,
            show_progress=True,
        )
        reports[split] = report
        print(f"\n=== {split} ({len(documents)} documents) ===\n{format_report(report)}")
        print(f"parse problems: {report['parse']}")
    write_report(output_dir / report_name, reports, data_args)
    return reports


def write_report(path: Path, reports: dict[str, Any], data_args: DataArguments) -> None:
    payload = {
        "dataset": data_args.benchmark or data_args.dataset_path or data_args.dataset_config,
        "splits": reports,
    }
    _write_json(path, payload)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(payload, indent=2, default=str) + "\n")
