"""``odin-ner-re augment``: offset-safe augmentation (see :mod:`odin_medical_ner_re.augment`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..files import (
    check_output_file,
    check_output_parent,
    dir_mode,
    refuse_replacing_inputs,
    staging_dir,
    swap_into_place,
)

#: Copies per document at most (see the --factor error for why).
MAX_FACTOR = 100
#: Documents written at most in one run (the output is held in memory).
MAX_OUTPUT_DOCUMENTS = 5_000_000

_EPILOG = """\
IN: a JSON/JSONL file of documents, a folder written by datasets.save_to_disk or a builder
config (1k, 10k, complex, literature). OUT: a .json/.jsonl file, or a folder (written with
datasets.save_to_disk, one split per input split).

Surface forms held out for test_unseen are never introduced (the builder's rule, with the
seed found in the documents' metadata, else --unseen-seed): augmenting train must not leak
the unseen vocabulary. --allow-unseen-forms lifts this for data that has no such split.

example:
  odin-ner-re augment 1k data/1k-aug.jsonl --strategies paraphrase,substitute,reword,expand --factor 2 --seed 0
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "augment",
        help="augment documents (paraphrase, substitute, reword, expand) keeping offsets and facts exact",
        description="Write the input documents followed by augmented copies; every copy passes validate() "
        "and every relation stays a knowledge-base edge.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="IN")
    parser.add_argument("output", metavar="OUT")
    parser.add_argument(
        "--strategies",
        default="paraphrase,substitute,reword,expand",
        help="comma-separated, applied in this order to each copy (default: all four)",
    )
    parser.add_argument(
        "--factor",
        type=int,
        default=1,
        metavar="K",
        help=f"augmented copies per document (default: 1, at most {MAX_FACTOR})",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed (default: 0)")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.5,
        help="share of eligible sentences/entities each strategy changes (default: 0.5)",
    )
    parser.add_argument("--split", help="split of IN to augment (default: train when IN has one, else all)")
    parser.add_argument("--no-originals", action="store_true", help="write only the augmented copies")
    parser.add_argument(
        "--unseen-seed", type=int, help="seed of the test_unseen hold-out (default: from metadata, else 42)"
    )
    parser.add_argument(
        "--unseen-share", type=float, default=0.2, help="share held out for test_unseen (default: 0.2)"
    )
    parser.add_argument(
        "--allow-unseen-forms", action="store_true", help="do not filter held-out surface forms"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..augment import augment_documents, parse_strategies, unseen_form_filter
    from ..knowledge import load_knowledge_base
    from ..quality import load_split_documents

    strategies = parse_strategies(args.strategies)
    if args.factor < 1:
        raise UserInputError(f"--factor must be at least 1, got {args.factor}")
    if args.factor > MAX_FACTOR:
        raise UserInputError(
            f"--factor must be at most {MAX_FACTOR}, got {args.factor}: the strategies draw from a finite "
            "set of rewordings and substitutions, so more copies of a note mostly repeat earlier ones"
        )
    if not args.allow_unseen_forms and not 0.0 < args.unseen_share < 1.0:  # the share only filters forms
        raise UserInputError(f"--unseen-share must be in (0, 1), got {args.unseen_share}")
    _check_output(args.input, args.output, args.overwrite)
    corpus = load_split_documents(args.input)
    split = args.split or ("train" if "train" in corpus.splits else None)
    if split and split not in corpus.splits:
        raise UserInputError(f"{args.input}: no split {split!r}; available: {', '.join(corpus.splits)}")
    splits = {split: corpus.splits[split]} if split else corpus.splits
    _check_inputs(args.input, splits, args.factor)
    kb = load_knowledge_base()
    results = {}
    for name, documents in splits.items():
        keep = None if args.allow_unseen_forms else unseen_form_filter(documents, args.unseen_seed, args.unseen_share)
        output, stats = augment_documents(
            documents,
            strategies,
            factor=args.factor,
            seed=args.seed,
            knowledge_base=kb,
            keep_form=keep,
            include_originals=not args.no_originals,
            rate=args.rate,
            show_progress=True,
        )
        print(f"{name}: {stats.summary()}")
        results[name] = (output, stats)
    _write(results, args.output, overwrite=args.overwrite)
    print(f"wrote {sum(len(o) for o, _ in results.values())} documents to {args.output}")
    invalid = sum(s.invalid for _, s in results.values())
    if invalid:
        print(f"warning: {invalid} augmented documents failed validation and were left out", file=sys.stderr)
        return 1
    return 0


def _check_output(source: str, output: str, overwrite: bool) -> None:
    """Before any work: OUT is not IN, its folder is writable, a dataset folder is not replaced unasked."""
    target = Path(output)
    if target.suffix in (".json", ".jsonl"):
        check_output_file(target, inputs=(source,))
        return
    refuse_replacing_inputs(target, (source,))
    if target.exists() and any(target.iterdir() if target.is_dir() else [target]) and not overwrite:
        raise UserInputError(f"{target} exists; pass --overwrite to replace it")
    check_output_parent(target)


def _check_inputs(source: str, splits: dict[str, list[Any]], factor: int) -> None:
    """Invalid input documents would be copied into OUT as originals: refuse them, as ``stats`` does.

    The output is held in memory until written, so its size is bounded too.
    """
    from ..schema import validate

    total = sum(len(documents) for documents in splits.values()) * (factor + 1)
    if total > MAX_OUTPUT_DOCUMENTS:
        raise UserInputError(
            f"{source} x (--factor {factor} + 1) makes {total:,} documents, more than {MAX_OUTPUT_DOCUMENTS:,}: "
            "the output is held in memory until it is written; augment a split or a part of it at a time"
        )
    for name, documents in splits.items():
        for index, doc in enumerate(documents):
            problems = validate(doc)
            if problems:
                raise UserInputError(
                    f"{source}: {name} document {index} ({doc.id}) is invalid: {'; '.join(problems)}"
                )


def _write(results: dict[str, tuple[list[Any], Any]], output: str, overwrite: bool) -> None:
    from ..schema import save_documents

    target = Path(output)
    if target.suffix in (".json", ".jsonl"):
        documents = [doc for docs, _ in results.values() for doc in docs]
        save_documents(documents, target)
        return
    _save_dataset({name: docs for name, (docs, _) in results.items()}, target, overwrite)


def _save_dataset(splits: dict[str, list[Any]], target: Path, overwrite: bool) -> None:
    """``save_to_disk`` into a temporary folder, then swap it in: never a half-written dataset."""
    import datasets

    from ..builder import document_to_example, features

    if target.exists() and any(target.iterdir() if target.is_dir() else [target]) and not overwrite:
        raise UserInputError(f"{target} exists; pass --overwrite to replace it")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UserInputError(f"output directory {parent} does not exist")
    data = datasets.DatasetDict(
        {
            name: datasets.Dataset.from_list(
                [
                    document_to_example(
                        d,
                        str(d.metadata.get("config", "")),
                        name,
                        int(d.metadata.get("seed", 0) or 0),
                        int(d.metadata.get("shard", 0) or 0),
                    )
                    for d in docs
                ],
                features=features(),
            )
            for name, docs in splits.items()
        }
    )
    with staging_dir(parent, target.name) as staging:
        data.save_to_disk(str(staging / "data"))
        os.chmod(staging / "data", dir_mode())
        swap_into_place(staging / "data", target)
