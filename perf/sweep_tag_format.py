"""Sweep of the tiny model's tag format and recipe, scored on validation only (never a test split).

    python perf/sweep_tag_format.py                      # every variant (a GPU: ~20 s each on an H100)
    python perf/sweep_tag_format.py K0 K1 K0_copies2     # chosen variants
    python perf/sweep_tag_format.py --list

Why a hand-written loop. A format is chosen by how well a model learns it in a fixed number of
optimizer steps, because the step count is what the 30-minute CPU budget of the main job
fixes. The loop here is the recipe's in miniature (AdamW, cosine schedule with warmup,
gradient clipping at 1, completion-only loss on the tags, random batches of 16), which runs
the variants in minutes on a GPU instead of hours on 2 cores; the chosen variant is then
trained with ``recipes/train.py`` itself and only that run's figures are reported.

Data: the ``1k`` config's ``train`` split plus renamed copies (a share of mentions replaced by
invented names, as ``pseudo_name_rate`` does in training), scored on ``validation`` and on
*renamed validation* (every mention renamed): a proxy for unseen surface forms that leaves
``test_unseen`` untouched. One JSON line per variant: final loss, seconds, strict micro-F1.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from typing import Any

VARIANTS: dict[str, dict[str, Any]] = {
    "K0": {"lookahead": 0},
    "K0_seed1": {"lookahead": 0, "seed": 1},
    "K1": {"lookahead": 1},
    "K2": {"lookahead": 2},
    "K3": {"lookahead": 3},
    "K2_900": {"lookahead": 2, "steps": 900},
    "K0_copies0": {"lookahead": 0, "copies": 0},
    "K0_copies2": {"lookahead": 0, "copies": 2},
    "K0_lr3e-3": {"lookahead": 0, "lr": 3e-3},
    "K0_bs8_900": {"lookahead": 0, "batch_size": 8, "steps": 900},
    "K0_192x6": {"lookahead": 0, "hidden": 192, "intermediate": 768, "layers": 6},
    "K0_600": {"lookahead": 0, "steps": 600},
    "K0_600_seed1": {"lookahead": 0, "steps": 600, "seed": 1},
    "K0_600_copies2": {"lookahead": 0, "steps": 600, "copies": 2},
    "K0_600_lr1.5e-3": {"lookahead": 0, "steps": 600, "lr": 1.5e-3},  # the tiny-cpu recipe
}


def load_data(max_copies: int) -> tuple[list[Any], list[list[Any]], list[Any], list[Any]]:
    """Train notes, their renamed copies, validation and renamed validation."""
    from odin_medical_ner_re.builder import load_dataset, row_to_document
    from odin_medical_ner_re.schema import ENTITY_TYPES, RELATION_TYPES
    from odin_medical_ner_re.training.data import with_pseudo_names

    dataset = load_dataset("1k")

    def documents(split: str) -> list[Any]:
        return [row_to_document(row, ENTITY_TYPES, RELATION_TYPES) for row in dataset[split]]

    train, validation = documents("train"), documents("validation")
    copies = [[with_pseudo_names(d, random.Random(42 + k), 0.5) for d in train] for k in range(max_copies)]
    renamed = [with_pseudo_names(d, random.Random(7), 1.0) for d in validation]
    return train, copies, validation, renamed


def run_variant(name: str, data: tuple[Any, ...], device: str, *, lookahead: int = 0, hidden: int = 256,
                layers: int = 4, intermediate: int = 1024, heads: int = 4, steps: int = 450, lr: float = 2e-3,
                batch_size: int = 16, copies: int = 1, warmup: int = 30, seed: int = 0) -> dict[str, Any]:
    import torch

    from odin_medical_ner_re.formats import build_completion, build_prompt, tag_vocabulary
    from odin_medical_ner_re.inference import LINE_BREAKS_ATTRIBUTE, LOOKAHEAD_ATTRIBUTE, predict
    from odin_medical_ner_re.scoring import flatten, score_documents
    from odin_medical_ner_re.training.data import tokenized_tag_examples
    from odin_medical_ner_re.training.tiny import TinyModelSpec, build_tiny_model, train_tokenizer

    started = time.time()
    train, renamed_copies, validation, renamed_validation = data
    docs = train + [d for k in range(copies) for d in renamed_copies[k]]
    texts = (build_prompt(d.text, with_text=False, lookahead=lookahead) + build_completion(d, lookahead) for d in docs)
    tokenizer = train_tokenizer(texts, 2048, tag_vocabulary())
    records = tokenized_tag_examples(docs, tokenizer, lookahead=lookahead)
    spec = TinyModelSpec(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                         intermediate_size=intermediate, max_position_embeddings=1024)
    model = build_tiny_model(tokenizer, spec, seed=seed).to(device)
    setattr(model.config, LOOKAHEAD_ATTRIBUTE, lookahead)
    setattr(model.config, LINE_BREAKS_ATTRIBUTE, True)  # tokenized_tag_examples' default
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )
    rng, order = random.Random(seed), []
    pad = tokenizer.pad_token_id
    model.train()
    for _ in range(steps):
        if len(order) < batch_size:
            order += rng.sample(range(len(records)), len(records))
        batch = [records[order.pop()] for _ in range(batch_size)]
        width = max(len(r["input_ids"]) for r in batch)
        ids = torch.tensor([r["input_ids"] + [pad] * (width - len(r["input_ids"])) for r in batch], device=device)
        labels = torch.tensor(
            [[t if m else -100 for t, m in zip(r["input_ids"], r["completion_mask"], strict=True)]
             + [-100] * (width - len(r["input_ids"])) for r in batch],
            device=device,
        )
        lengths = torch.tensor([len(r["input_ids"]) for r in batch], device=device)
        mask = (torch.arange(width, device=device)[None] < lengths[:, None]).long()
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    result: dict[str, Any] = {"name": name, "final_loss": round(loss.item(), 4), "train_s": round(time.time() - started, 1)}
    for label, documents in (("val", validation), ("renamed_val", renamed_validation)):
        predictions, _ = predict(model, tokenizer, documents, batch_size=200)
        scores = flatten(score_documents([p.to_dict() for p in predictions], [d.to_dict() for d in documents]))
        result[f"{label}_ner"] = round(scores["ner_strict_f1"], 3)
        result[f"{label}_re"] = round(scores["re_strict_f1"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", help="names from --list (default: all)")
    parser.add_argument("--list", action="store_true", help="print the variants and exit")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    args = parser.parse_args()
    if args.list:
        for name, settings in VARIANTS.items():
            print(name, settings)
        return
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; see --list")
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    chosen = args.variants or list(VARIANTS)
    data = load_data(max(VARIANTS[v].get("copies", 1) for v in chosen))
    for name in chosen:
        print(json.dumps(run_variant(name, data, device, **VARIANTS[name])), flush=True)


if __name__ == "__main__":
    main()
