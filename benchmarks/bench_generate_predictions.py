"""Prediction documents/s: batched vs one document at a time, same model, same notes, one run.

    python benchmarks/bench_generate_predictions.py                     # random tiny-cpu-shaped model
    python benchmarks/bench_generate_predictions.py --model outputs/tiny-cpu-1k
    python benchmarks/bench_generate_predictions.py --hidden 32 --layers 1 --heads 2 --intermediate 64 --vocab 400

What is measured:

- forced-word tagging (``inference.predict`` with a tokenizer that has one token per tag,
  the tiny default): the same ``--docs`` generated notes at ``--batch-size`` (32) and at
  batch 1, after one untimed warm-up call; documents/s of each and their ratio, and whether
  the two runs predicted exactly the same annotations (they should: batching is an
  implementation detail, left padding is masked);
- free generation (``inference.generate_completions``, the path of Hub models whose
  tokenizers split the tags): ``--free-docs`` prompts, ``--free-tokens`` new tokens each,
  batched vs one at a time, with a tokenizer trained without the tag tokens.

Without ``--model`` the model is randomly initialised. The decoder's work per note then
depends on what a random model tags (it opens many entities and writes relations up to the
cap), so absolute documents/s differ from a trained model's; the batched/one-at-a-time
ratio is the figure to read. ``--model DIR`` measures a trained folder instead.
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

from odin_medical_ner_re.formats import build_completion, build_prompt, tag_vocabulary
from odin_medical_ner_re.generator import MedicalTextGenerator
from odin_medical_ner_re.inference import generate_completions, load_model, predict, tag_token_ids
from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES, Document
from odin_medical_ner_re.training.tiny import TinyModelSpec, build_tiny_model, train_tokenizer


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def random_model(texts: list[str], spec: TinyModelSpec, tags: bool) -> tuple[Any, Any]:
    """A tokenizer trained on ``texts`` (with the tags as single tokens or not) and a fresh model."""
    tokenizer = train_tokenizer(texts, spec.vocab_size, tag_vocabulary() if tags else ())
    return build_tiny_model(tokenizer, spec).eval(), tokenizer


def bench_tagging(model: Any, tokenizer: Any, docs: list[Document], batch_size: int) -> None:
    if tag_token_ids(tokenizer, ENTITY_TYPES, RELATION_TYPES) is None:
        print("forced-word tagging: skipped (this tokenizer has no single-token tags)")
        return
    predict(model, tokenizer, docs[:2], batch_size=2)  # warm-up: allocator, kernels
    (batched, _), batched_s = timed(lambda: predict(model, tokenizer, docs, batch_size=batch_size))
    (single, _), single_s = timed(lambda: predict(model, tokenizer, docs, batch_size=1))
    same = [d.to_dict() for d in batched] == [d.to_dict() for d in single]
    entities = sum(len(d.entities) for d in batched)
    relations = sum(len(d.relations) for d in batched)
    print(f"forced-word tagging, {len(docs)} notes ({entities} entities, {relations} relations predicted):")
    print(f"  batch {batch_size:<3} {len(docs) / batched_s:8.2f} docs/s  ({batched_s:.1f} s)")
    print(f"  batch 1   {len(docs) / single_s:8.2f} docs/s  ({single_s:.1f} s)")
    print(f"  ratio batched / one at a time: {single_s / batched_s:.2f}x; identical predictions: {same}")


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
    docs = MedicalTextGenerator(seed=args.seed + 1000).generate_dataset(args.docs)
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
    bench_tagging(model, tokenizer, docs, args.batch_size)
    if args.free_docs > 0:
        bench_free(docs, texts, spec, min(args.free_docs, len(docs)), args.free_tokens)


if __name__ == "__main__":
    main()
