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
from typing import TYPE_CHECKING, Any

from ..errors import UserInputError
from ..files import atomic_write_text
from ..formats import build_completion, build_prompt, tag_vocabulary
from ..inference import LINE_BREAKS_ATTRIBUTE, LOOKAHEAD_ATTRIBUTE, predict
from ..schema import Document
from ..scoring import flatten, format_report, score_documents
from .backends import (
    TINY,
    for_inference,
    for_training,
    load_model_and_tokenizer,
    peft_config,
    unsloth_gradient_checkpointing,
)
from .data import (
    TrainingData,
    load_training_data,
    sft_examples,
    tokenized_tag_examples,
    with_augmented_copies,
    with_renamed_copies,
)
from .launch import choose_backend

if TYPE_CHECKING:
    from .arguments import DataArguments, ModelArguments

logger = logging.getLogger("odin_medical_ner_re.training")


def _trainer_class():
    from trl import SFTTrainer

    class ExtractionSFTTrainer(SFTTrainer):
        """SFTTrainer whose evaluation also generates answers: NER/RE F1 logged beside ``eval_loss``."""

        def __init__(
            self,
            *args: Any,
            generation_eval: dict[str, Any] | None = None,
            backend: str = "transformers",
            card_note: str | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(*args, **kwargs)
            self.generation_eval = generation_eval
            self.backend = backend
            self.card_note = card_note
            self._generating = False

        def evaluate(self, *args: Any, **kwargs: Any) -> dict[str, float]:
            self._generating = bool(self.generation_eval)  # only evaluate() generates, not predict()
            try:
                return super().evaluate(*args, **kwargs)
            finally:
                self._generating = False

        def evaluation_loop(self, *args: Any, **kwargs: Any) -> Any:
            """The loss loop, then F1 from generated answers merged into the same metrics (one log entry)."""
            output = super().evaluation_loop(*args, **kwargs)
            if self._generating:
                prefix = kwargs.get("metric_key_prefix", "eval")
                if self.accelerator.is_main_process:
                    output.metrics.update(
                        {f"{prefix}_{k}": v for k, v in self.generation_scores().items() if k in _LOGGED}
                    )
                self.accelerator.wait_for_everyone()
            return output

        def generation_scores(self) -> dict[str, Any]:
            spec = self.generation_eval or {}
            model = self.accelerator.unwrap_model(self.model)
            for_inference(model, self.backend)
            try:
                report = evaluate_documents(
                    model,
                    self.processing_class,
                    spec["documents"],
                    spec["entity_types"],
                    spec["relation_types"],
                    batch_size=spec["batch_size"],
                    max_new_tokens=spec["max_new_tokens"],
                )
            finally:
                for_training(model, self.backend)
            return flatten(report)

        def create_model_card(self, *args: Any, **kwargs: Any) -> None:
            """TRL's card, with its base-model sentence replaced when there is no Hub base model."""
            super().create_model_card(*args, **kwargs)
            card = Path(self.args.output_dir) / "README.md"
            if self.card_note and self.is_world_process_zero() and card.is_file():
                text = card.read_text(encoding="utf-8")
                start = text.find("This model is a fine-tuned version of [None]")
                if start >= 0:
                    end = text.find("\n", start)
                    text = text[:start] + self.card_note + text[end if end >= 0 else len(text) :]
                    atomic_write_text(card, text)

    return ExtractionSFTTrainer


_LOGGED = {"ner_strict_f1", "ner_partial_f1", "re_strict_f1", "re_boundaries_f1"}


def card_note(model_name_or_path: str) -> str | None:
    """What the model card says in place of TRL's "fine-tuned version of [None]", or None to keep TRL's."""
    if model_name_or_path == TINY:
        return (
            "This model was trained from scratch (a small Llama with a BPE tokenizer trained on the notes; "
            "no base model) by odin-medical-ner-re's `recipes/train.py`; `odin_training.json` holds the full "
            "configuration."
        )
    if Path(model_name_or_path).expanduser().is_dir():
        return f"This model is a fine-tuned version of the local model `{model_name_or_path}`."
    return None  # a Hub id: TRL names and links it


def result_metrics(split: str, report: dict[str, Any]) -> dict[str, float]:
    """A split's micro scores as ``all_results.json`` keys (``test_ner_strict_f1``, ...), as Trainer prefixes them."""
    flat = flatten(report)
    return {f"{split}_{k}": v for k, v in flat.items() if "macro" not in k and k != "unaligned"}


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
    choice = choose_backend(model_args.backend, str(model_args.model_name_or_path))
    backend, reason = choice.name, choice.reason
    logger.warning("backend: %s (%s)", backend, reason)
    tiny = model_args.model_name_or_path == TINY
    if tiny and model_args.use_peft:
        raise UserInputError("use_peft applies to pretrained models; the tiny model is trained from scratch in full")
    lookahead = data_args.tag_lookahead
    if lookahead < 0:
        raise UserInputError(f"tag_lookahead must be 0 or more, got {lookahead}")
    line_breaks = data_args.tag_line_breaks
    load = {
        "seed": training_args.seed,
        "trust_remote_code": training_args.trust_remote_code,
        "gradient_checkpointing": (
            unsloth_gradient_checkpointing(training_args) if backend == "unsloth" else False
        ),
    }
    if not tiny:  # a missing download or extra fails now, not after the corpus is built
        model, tokenizer = load_model_and_tokenizer(model_args, backend, **load)
    corpus = load_training_data(data_args)
    missing = [name for name in data_args.evaluate_splits or [] if name not in corpus.splits]
    if missing:  # found now, not after an hour of training
        raise UserInputError(
            f"evaluate_splits names {', '.join(missing)}, which the training data does not have "
            f"(it has: {', '.join(corpus.splits)}); set evaluate_splits to [] in the config and score the model "
            "afterwards with recipes/evaluate_model.py"
        )
    train_docs = with_renamed_copies(
        with_augmented_copies(corpus.split(data_args.dataset_train_split), data_args, training_args.seed),
        data_args,
        training_args.seed,
    )
    import datasets

    if tiny:
        # From scratch: tag tokens are single tokens, words are forced at decoding time.
        tags = tag_vocabulary(corpus.entity_types, corpus.relation_types)
        texts = (build_prompt(d.text, corpus.entity_types, corpus.relation_types, with_text=False, lookahead=lookahead)
                 + build_completion(d, lookahead, line_breaks) for d in train_docs)
        model, tokenizer = load_model_and_tokenizer(
            model_args, backend, tokenizer_texts=texts, extra_tokens=tags, **load
        )
        records = tokenized_tag_examples(
            train_docs, tokenizer, corpus.entity_types, corpus.relation_types, lookahead=lookahead,
            line_breaks=line_breaks,
        )
    else:
        records = sft_examples(
            train_docs, corpus.entity_types, corpus.relation_types, conversational=True, lookahead=lookahead,
            line_breaks=line_breaks,
        )
    # saved with the model; predict() reads them back
    setattr(model.config, LOOKAHEAD_ATTRIBUTE, lookahead)
    setattr(model.config, LINE_BREAKS_ATTRIBUTE, line_breaks)
    train_dataset = datasets.Dataset.from_list(records)
    eval_dataset = None
    generation_eval = None
    if training_args.eval_strategy != "no" and data_args.dataset_test_split in corpus.splits:
        eval_docs = corpus.split(data_args.dataset_test_split)
        eval_records = (
            tokenized_tag_examples(
                eval_docs[:32], tokenizer, corpus.entity_types, corpus.relation_types, lookahead=lookahead,
                line_breaks=line_breaks,
            )
            if tiny
            else sft_examples(
                eval_docs[:32], corpus.entity_types, corpus.relation_types, conversational=True, lookahead=lookahead,
                line_breaks=line_breaks,
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
        backend=backend,
        card_note=card_note(str(model_args.model_name_or_path)),
    )
    train_result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    output_dir = Path(training_args.output_dir)
    trainer.save_metrics("train", train_result.metrics)  # train_results.json + all_results.json
    trainer.save_state()  # trainer_state.json (the log history) at the top of output_dir
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(training_args.output_dir)
        if (output_dir / "adapter_config.json").is_file():
            # An adapter folder has no config.json of its own: save the base config, which carries
            # odin_tag_lookahead, so inference.load_model reads the answers the way they were trained.
            trainer.accelerator.unwrap_model(trainer.model).config.save_pretrained(output_dir)
        trainer.create_model_card(model_name=output_dir.name)
        _write_json(
            output_dir / "odin_training.json",
            {
                "backend": backend,
                "backend_reason": reason,
                "data": {k: v for k, v in vars(data_args).items()},
                "model": {k: v for k, v in vars(model_args).items()},
                "entity_types": corpus.entity_types,
                "relation_types": corpus.relation_types,
                "train_examples": len(records),
                "format": "forced-word tags" if tiny else "free generation",
                "gradient_checkpointing": load["gradient_checkpointing"] or training_args.gradient_checkpointing,
                "train_seconds": round(time.time() - started, 1),
            },
        )
    results: dict[str, Any] = {}
    if data_args.evaluate_splits and trainer.accelerator.is_main_process:
        model = trainer.accelerator.unwrap_model(trainer.model)
        for_inference(model, backend)
        results = evaluate_splits(model, tokenizer, corpus, data_args, output_dir)
        for split, report in results.items():
            trainer.save_metrics(split, result_metrics(split, report))  # SPLIT_results.json, all_results.json
    trainer.accelerator.wait_for_everyone()
    if hasattr(trainer, "end"):  # transformers >= 5.18: close trackers and the process group, as TRL's sft.py
        trainer.end()
    return results


def evaluate_splits(
    model: Any, tokenizer: Any, corpus: TrainingData, data_args: DataArguments, output_dir: Path,
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
