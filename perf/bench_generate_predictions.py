"""Prediction documents/s: the fast forced-word decoder against the token-by-token one, same notes, one run.

    python perf/bench_generate_predictions.py                     # random tiny-cpu-shaped model
    python perf/bench_generate_predictions.py --model outputs/tiny-cpu-1k --notes 1k-test --docs 200
    python perf/bench_generate_predictions.py --model outputs/tiny-cpu-1k --notes biored-dev --docs 16
    python perf/bench_generate_predictions.py --hidden 32 --layers 1 --heads 2 --intermediate 64 --vocab 400

What is measured:

- forced-word tagging (the tiny default, a tokenizer with one token per tag): the same
  ``--docs`` notes at ``--batch-size`` (32), decoded by ``tag_decoding.decode_tags_fast``
  (what ``inference.predict`` uses for a plain Llama: a static cache, words fed in runs,
  tags guessed ahead and checked, slots refilled as documents finish) and by ``inference.decode_tags_stepwise``
  (the previous decoder, kept as the reference and for other models: one token per
  forward pass through ``model(...)``), after one untimed warm-up call each; documents/s
  of each, their ratio, and whether the completions (hence the predictions) are identical.
  ``--notes`` picks the notes: ``generated`` (fresh notes, seed ``--seed`` + 1000),
  ``1k-test`` (the ``1k`` config's ``test`` split) or ``biored-dev`` (BioRED's
  ``Dev.PubTator`` abstracts from ``--biored-dir``, odin label set);
  ``--single`` also times the fast decoder one document at a time;
- free generation (``inference.generate_completions``, the path of Hub models whose
  tokenizers split the tags): ``--free-docs`` prompts, ``--free-tokens`` new tokens each,
  batched vs one at a time, with a tokenizer trained without the tag tokens.

Without ``--model`` the model is randomly initialised. The decoder's work per note then
depends on what a random model tags (it opens many entities and writes relations up to the
cap), so absolute documents/s differ from a trained model's; the ratio is the figure to read.
``--model DIR`` measures a trained folder instead.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch

from odin_medical_ner_re.formats import build_completion, build_prompt, parse_completion, tag_vocabulary
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.inference import (
    decode_tags_stepwise,
    generate_completions,
    load_model,
    model_line_breaks,
    model_lookahead,
    tag_token_ids,
)
from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES, Document
from odin_medical_ner_re.tag_decoding import decode_tags_fast
from odin_medical_ner_re.training.tiny import TinyModelSpec, build_tiny_model, train_tokenizer


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def timed_cpu(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """Result, wall seconds and this process's CPU seconds (steadier than wall on a shared machine)."""
    cpu = time.process_time()
    result, wall = timed(call)
    return result, wall, time.process_time() - cpu


def random_model(texts: list[str], spec: TinyModelSpec, tags: bool) -> tuple[Any, Any]:
    """A tokenizer trained on ``texts`` (with the tags as single tokens or not) and a fresh model."""
    tokenizer = train_tokenizer(texts, spec.vocab_size, tag_vocabulary() if tags else ())
    return build_tiny_model(tokenizer, spec).eval(), tokenizer


def bench_tagging(
    model: Any, tokenizer: Any, docs: list[Document], batch_size: int, single: bool
) -> None:
    ids = tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES)
    if ids is None:
        print("forced-word tagging: skipped (this tokenizer has no single-token tags)")
        return
    lookahead, line_breaks = model_lookahead(model), model_line_breaks(model)

    def run(decoder: Callable[..., list[str]], documents: list[Document], size: int) -> list[str]:
        return decoder(model, tokenizer, documents, ids, ENTITY_TYPES, RELATION_TYPES, batch_size=size,
                       lookahead=lookahead, line_breaks=line_breaks)

    for decoder in (decode_tags_fast, decode_tags_stepwise):  # warm-up: allocator, kernels
        run(decoder, docs[:2], 2)
    fast, fast_s, fast_cpu = timed_cpu(lambda: run(decode_tags_fast, docs, batch_size))
    reference, reference_s, reference_cpu = timed_cpu(lambda: run(decode_tags_stepwise, docs, batch_size))
    predicted = [parse_completion(c, d.text, lookahead=lookahead) for c, d in zip(fast, docs, strict=True)]
    entities = sum(len(p.entities) for p in predicted)
    relations = sum(len(p.relations) for p in predicted)
    words = sum(len(c.split()) for c in fast)
    print(f"forced-word tagging, {len(docs)} notes, {words} words "
          f"({entities} entities, {relations} relations predicted), batch {batch_size}:")
    print(f"  fast (tag_decoding)            {len(docs) / fast_s:8.2f} docs/s  ({fast_s:.2f} s, CPU {fast_cpu:.2f} s)")
    print(f"  stepwise (reference, previous) {len(docs) / reference_s:8.2f} docs/s  "
          f"({reference_s:.2f} s, CPU {reference_cpu:.2f} s)")
    print(f"  ratio fast / stepwise: {reference_s / fast_s:.1f}x wall, {reference_cpu / fast_cpu:.1f}x CPU; "
          f"identical completions: {fast == reference}")
    if fast != reference:
        differing = sum(a != b for a, b in zip(fast, reference, strict=True))
        print(f"  {differing} of {len(docs)} completions differ")
    if single:
        alone, alone_s = timed(lambda: run(decode_tags_fast, docs, 1))
        print(f"  fast, batch 1 {len(docs) / alone_s:8.2f} docs/s  ({alone_s:.2f} s); "
              f"identical to batched: {alone == fast}")


def load_notes(kind: str, count: int, seed: int, biored_dir: str | None) -> list[Document]:
    """The notes to decode: fresh generated ones, the ``1k`` test split, or BioRED dev abstracts."""
    if kind == "generated":
        return MedicalTextGenerator(seed=seed + 1000).generate_dataset(count)
    if kind == "1k-test":
        from odin_medical_ner_re.builder import load_dataset, row_to_document

        split = load_dataset("1k")["test"]
        return [row_to_document(row) for row in split.select(range(min(count, len(split))))]
    from odin_medical_ner_re.corpora import load_benchmark_documents

    return load_benchmark_documents("biored", biored_dir, label_set="odin")["validation"][:count]


def bench_free(
    docs: list[Document], texts: list[str], spec: TinyModelSpec, count: int, new_tokens: int
) -> None:
    model, tokenizer = random_model(texts, spec, tags=False)
    prompts = [build_prompt(d.text) for d in docs[:count]]
    generate_completions(model, tokenizer, prompts[:2], batch_size=2, max_new_tokens=4)  # warm-up
    batched, batched_s = timed(
        lambda: generate_completions(model, tokenizer, prompts, batch_size=count, max_new_tokens=new_tokens)
    )
    single, single_s = timed(
        lambda: generate_completions(model, tokenizer, prompts, batch_size=1, max_new_tokens=new_tokens)
    )
    print(f"free generation, {count} prompts, up to {new_tokens} new tokens each:")
    print(f"  batch {count:<3} {count / batched_s:8.2f} docs/s  ({batched_s:.1f} s)")
    print(f"  batch 1   {count / single_s:8.2f} docs/s  ({single_s:.1f} s)")
    print(
        f"  ratio batched / one at a time: {single_s / batched_s:.2f}x; identical completions: {batched == single}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--model", help="a trained output folder (default: a random tiny model)")
    parser.add_argument("--notes", choices=("generated", "1k-test", "biored-dev"), default="generated")
    parser.add_argument("--biored-dir", default="/work/shared/benchmarks/biored", help="folder of Dev.PubTator")
    parser.add_argument("--single", action="store_true", help="also time the fast decoder at batch 1")
    parser.add_argument(
        "--train-docs", type=int, default=200, help="notes the random model's tokenizer is trained on"
    )
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--intermediate", type=int, default=1024)
    parser.add_argument("--vocab", type=int, default=2048)
    parser.add_argument(
        "--free-docs", type=int, default=8, help="prompts for the free-generation path (0: skip)"
    )
    parser.add_argument("--free-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)

    train_docs = MedicalTextGenerator(seed=args.seed).generate_dataset(args.train_docs)
    docs = load_notes(args.notes, args.docs, args.seed, args.biored_dir)
    texts = [build_prompt(d.text, with_text=False) + build_completion(d) for d in train_docs]
    spec = TinyModelSpec(
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=args.intermediate,
        vocab_size=args.vocab,
    )
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads"
    )
    if args.model:
        model, tokenizer = load_model(args.model)
        print(f"model: {args.model}")
    else:
        model, tokenizer = random_model(texts, spec, tags=True)
        print(f"model: random, hidden {args.hidden}, {args.layers} layers, vocab {len(tokenizer)}")
    print(f"notes: {args.notes}, {len(docs)}")
    bench_tagging(model, tokenizer, docs, args.batch_size, args.single)
    if args.free_docs > 0:
        bench_free(docs, texts, spec, min(args.free_docs, len(docs)), args.free_tokens)


if __name__ == "__main__":
    main()
