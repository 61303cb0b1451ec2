"""Training tokens/s of the tiny model: plain padding vs padding-free vs packing (TRL), in one run.

    python perf/bench_train.py                          # the tiny-cpu recipe's model shape, 20 steps each
    python perf/bench_train.py --hidden 64 --layers 1 --heads 2 --intermediate 128 --vocab 600 --docs 120

What is measured. The same notes, tokenized exactly as ``recipes/train.py`` tokenizes them
for the tiny model (``tokenized_tag_examples``: words as inputs, loss on the tags), cut to
``--max-length``, train a freshly initialised model (same seed) for ``--steps`` optimizer
steps of ``--batch-size`` rows with TRL's ``SFTTrainer`` in four modes:

- padding: ``packing=False``; each batch is right-padded to its longest note;
- group-by-length: the same, with ``train_sampling_strategy="group_by_length"`` (batches of
  similar lengths, so less padding; the order of the notes is no longer random). It sorts
  within mega-batches of ``min(notes // (4 * batch), 50)`` batches, so below 8 batches of
  notes (128 at batch 16) it groups nothing: give ``--docs`` a few hundred;
- padding-free: ``padding_free=True``; a batch's notes are concatenated into one row with
  restarting ``position_ids`` (no pad tokens at all);
- packing: ``packing=True`` (TRL's default best-fit-decreasing strategy, which is
  padding-free too); each row holds several notes up to ``--max-length`` tokens, so a step
  sees more tokens than in the other modes.

Padding-free and packing flatten the whole batch into *one* row. With a flash-attention
varlen kernel (a GPU, ``attn_implementation="flash_attention_2"``) each note attends only
within itself; SDPA on CPU has no such kernel and computes the full (rows x tokens)^2
attention of the flattened row before masking it, so its cost grows with the square of
the batch's total tokens. The run answers whether that eats the saving on padding.

The figure is *real* tokens per second (pad tokens excluded), from the end of the first
step (warm-up) to the end of the last; supervised (loss-bearing) tokens/s is printed too.
Steps are the same in number, not in tokens, so compare tokens/s, not run times.

Do notes attend to each other? Not with these versions: with no attention mask and no KV
cache (TRL calls the model with ``use_cache=False`` in training), transformers derives a
block-diagonal causal mask from the restarting ``position_ids``, on CPU with SDPA too, so
no flash-attention kernel is needed. The script checks it instead of assuming it: the
logits of three notes packed in one row are compared with the notes run one by one, as
TRL calls the model and, for contrast, with a KV cache (where the mask is *not* derived
and the notes do see each other). The recipe should use ``padding_free: true`` or
``packing: true`` only where the check is ~0 *and* the ratio is above 1: see
``perf/RESULTS.md`` for the measured figures (on CPU: it is not).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from odin_medical_ner_re.formats import build_completion, build_prompt, tag_vocabulary
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.training.data import tokenized_tag_examples
from odin_medical_ner_re.training.tiny import TinyModelSpec, build_tiny_model, train_tokenizer

MODES: dict[str, dict[str, Any]] = {
    "padding": {"packing": False, "padding_free": False},
    "group-by-length": {
        "packing": False,
        "padding_free": False,
        "train_sampling_strategy": "group_by_length",
    },
    "padding-free": {"packing": False, "padding_free": True},
    "packing": {"packing": True},
}


@dataclass
class BatchLog:
    """What each collated batch held, in the order the trainer consumed them."""

    real: list[int] = field(default_factory=list)
    supervised: list[int] = field(default_factory=list)
    shaped: list[int] = field(default_factory=list)


def counting(collator: Any, log: BatchLog) -> Any:
    """Wrap a collator to record real (non-pad), supervised and total (with padding) tokens per batch."""

    def collate(examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = collator(examples)
        ids = batch["input_ids"]
        log.shaped.append(int(ids.numel()))
        log.real.append(int(batch["attention_mask"].sum()) if "attention_mask" in batch else int(ids.numel()))
        log.supervised.append(int((batch["labels"] != -100).sum()))
        return batch

    return collate


def train_once(
    mode: str,
    records: list[dict[str, list[int]]],
    tokenizer: Any,
    spec: TinyModelSpec,
    args: argparse.Namespace,
) -> dict[str, float]:
    """Train ``args.steps`` steps in ``mode``; tokens/s over steps 2..N."""
    import datasets
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, *_: Any, **__: Any) -> None:
            stamps.append(time.perf_counter())

    model = build_tiny_model(tokenizer, spec, seed=args.seed)
    with tempfile.TemporaryDirectory() as output:
        config = SFTConfig(
            output_dir=output,
            max_steps=args.steps,
            per_device_train_batch_size=args.batch_size,
            learning_rate=2e-3,
            lr_scheduler_type="constant",
            logging_steps=10_000,
            save_strategy="no",
            eval_strategy="no",
            report_to="none",
            disable_tqdm=True,
            bf16=False,
            use_cpu=True,
            seed=args.seed,
            completion_only_loss=True,
            dataloader_pin_memory=False,
            max_length=None if MODES[mode].get("padding_free") else args.max_length,
            **MODES[mode],
        )
        trainer = SFTTrainer(
            model=model,
            args=config,
            train_dataset=datasets.Dataset.from_list(records),
            processing_class=tokenizer,
            callbacks=[Clock()],
        )
        log = BatchLog()
        trainer.data_collator = counting(trainer.data_collator, log)
        trainer.train()
    steps = len(stamps)
    seconds = stamps[-1] - stamps[0]
    return {
        "steps": steps,
        "seconds": seconds,
        "real_tps": sum(log.real[1:steps]) / seconds,
        "supervised_tps": sum(log.supervised[1:steps]) / seconds,
        "padding_share": 1 - sum(log.real[:steps]) / sum(log.shaped[:steps]),
        "tokens_per_step": statistics.mean(log.real[:steps]),
    }


def cross_attention_check(
    records: list[dict[str, list[int]]], tokenizer: Any, spec: TinyModelSpec, seed: int
) -> tuple[float, float]:
    """Max |logit difference| between three notes packed in one row and run one by one.

    First as TRL's trainer calls the model (no attention mask, ``use_cache=False``), then
    with a KV cache, where transformers does not derive the block-diagonal mask.
    """
    model = build_tiny_model(tokenizer, spec, seed=seed).eval()
    notes = [torch.tensor(r["input_ids"][:200]) for r in records[:3]]
    packed = torch.cat(notes)[None]
    positions = torch.cat([torch.arange(len(n)) for n in notes])[None]
    with torch.no_grad():
        separate = torch.cat([model(input_ids=n[None], use_cache=False).logits[0] for n in notes])
        as_trl = model(input_ids=packed, position_ids=positions, use_cache=False).logits[0]
        with_cache = model(input_ids=packed, position_ids=positions, use_cache=True).logits[0]
    return float((as_trl - separate).abs().max()), float((with_cache - separate).abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=400, help="generated notes to train on")
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per mode")
    parser.add_argument("--batch-size", type=int, default=16, help="rows per step (tiny-cpu.yaml: 16)")
    parser.add_argument("--max-length", type=int, default=1024, help="token cap per note / packed row")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--intermediate", type=int, default=1024)
    parser.add_argument("--vocab", type=int, default=2048)
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat all modes (alternating order); median kept"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)

    docs = MedicalTextGenerator(seed=args.seed).generate_dataset(args.docs)
    texts = [build_prompt(d.text, with_text=False) + build_completion(d) for d in docs]
    tokenizer = train_tokenizer(texts, args.vocab, tag_vocabulary())
    records = [
        {key: values[: args.max_length] for key, values in record.items()}
        for record in tokenized_tag_examples(docs, tokenizer)
    ]
    spec = TinyModelSpec(
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=args.intermediate,
        max_position_embeddings=max(args.max_length, 512),
        vocab_size=args.vocab,
    )
    lengths = [len(r["input_ids"]) for r in records]
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads"
    )
    print(
        f"{len(records)} notes, tokens per note: mean {statistics.mean(lengths):.0f}, max {max(lengths)}; "
        f"model {args.hidden}x{args.layers} layers; {args.steps} steps of {args.batch_size} rows per mode"
    )

    modes = ["padding", *(m for m in args.modes if m != "padding")]  # the baseline always runs
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    for round_index in range(args.rounds):
        order = modes if round_index % 2 == 0 else modes[::-1]
        for mode in order:
            runs[mode].append(train_once(mode, records, tokenizer, spec, args))

    print(f"\n{'mode':<14}{'steps/s':>9}{'real tok/s':>12}{'loss tok/s':>12}{'tok/step':>10}{'padding':>9}{'seconds':>9}")
    median: dict[str, float] = {}
    for mode, results in runs.items():
        median[mode] = statistics.median(r["real_tps"] for r in results)
        last = results[-1]
        steps_per_second = statistics.median((r["steps"] - 1) / r["seconds"] for r in results)
        print(
            f"{mode:<14}{steps_per_second:>9.3f}{median[mode]:>12.0f}{statistics.median(r['supervised_tps'] for r in results):>12.0f}"
            f"{last['tokens_per_step']:>10.0f}{last['padding_share']:>9.1%}{last['seconds']:>9.2f}"
        )
    print()
    for mode in modes[1:]:
        print(f"ratio {mode} / padding: {median[mode] / median['padding']:.2f}x (real tokens/s)")
    as_trl, with_cache = cross_attention_check(records, tokenizer, spec, args.seed)
    print(
        f"cross-note attention check, max |logit(packed) - logit(alone)|: {as_trl:.2e} as TRL trains "
        f"(use_cache=False), {with_cache:.2e} with a KV cache"
    )


if __name__ == "__main__":
    main()
