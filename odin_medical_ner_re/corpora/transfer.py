"""Does the synthetic data help on real text? Learning curves with and without it, per corpus.

For each corpus and each k in ``real`` the same system is trained twice: on k real training
documents alone, and on those k documents (repeated ``real_repeat`` times) plus the synthetic
documents; both are scored on one split of the corpus. The gap between the two curves is what the
synthetic data are worth to someone who has k annotated abstracts; k = 0 is the synthetic-only
(zero real data) point and has no real-only run. A zero-shot dictionary row (the knowledge base's
surface forms, no training) gives the floor that any training should beat.

Choices that keep the numbers honest and comparable:

* **Scoring** is ``benchmark``'s (:func:`.runner.score_predictions`): odin labels, predictions
  limited to the types the corpus annotates, strict micro-F1 as the headline.
* **Synthetic documents** are projected onto what each corpus scores
  (:func:`.labels.project_for_corpus`), so they never teach a type the corpus counts as spurious.
* **Real samples are nested and deterministic**: the train split, sorted by id, is shuffled once
  with ``random.Random(seed)`` and the first k taken, so the 25 documents of k = 25 are among the
  100 of k = 100 and a curve measures more data, not different data.
* ADE's negative sentences are left out, as ``benchmark`` does (:func:`.runner.without_negatives`).

Systems: ``crf`` (:class:`.baselines.CrfTagger`, seconds to minutes per run on a CPU) and ``model``
(the tiny recipe of ``recipes/configs/tiny-cpu.yaml`` trained from scratch on the documents, then
decoded with :func:`odin_medical_ner_re.inference.predict_documents`; slow on a CPU, see README).
"""

from __future__ import annotations

import io
import json
import os
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from ..files import atomic_write_bytes, atomic_write_text, prepare_output_dir
from ..schema import Document, load_documents
from . import get_corpus, load_benchmark_documents
from .corpus import resolve_corpus_dir, source_checkout
from .labels import odin_entity_types, odin_relation_types, project_for_corpus
from .runner import predict, require_split, score_predictions, without_negatives

SYSTEMS: tuple[str, ...] = ("crf", "model")
#: k values when none are given: the model trains for minutes per run on a CPU, so it gets fewer.
DEFAULT_REAL: dict[str, tuple[int | str, ...]] = {"crf": (0, 25, 100, "all"), "model": (0, 25)}
ALL = "all"
ARMS: tuple[str, ...] = ("real", "real+synthetic")
#: How the crf system combines the two sources: ``domain`` (default) marks each document's features
#: with its source (real or synthetic; Daume III 2007), in both arms, so the two arms are the same
#: system and differ only by the data; ``concat`` trains on the plain concatenation.
MIXES: tuple[str, ...] = ("domain", "concat")
OUTPUT_FILES: tuple[str, ...] = ("transfer.json", "transfer.md", "transfer.png")
#: Where the ``model`` system's default recipe config lies in a source checkout.
RECIPE_CONFIG = Path("recipes") / "configs" / "tiny-cpu.yaml"
#: That config in the checkout holding this package; None in an installed wheel, which ships no
#: recipes (``--model-config`` names one there).
_CHECKOUT = source_checkout(Path(__file__).resolve().parents[1])
DEFAULT_MODEL_CONFIG: Path | None = None if _CHECKOUT is None else _CHECKOUT / RECIPE_CONFIG

K = int | str


# --------------------------------------------------------------------------- inputs


def parse_real(value: str | Sequence[K]) -> tuple[K, ...]:
    """``"0,25,100,all"`` (or a sequence) -> ``(0, 25, 100, "all")``: sorted, without repeats."""
    items = [part.strip() for part in value.split(",")] if isinstance(value, str) else list(value)
    if not items or any(item == "" for item in items):
        raise UserInputError(f"--real must be a comma-separated list of integers >= 0 or 'all', got {value!r}")
    numbers: set[int] = set()
    has_all = False
    for item in items:
        if isinstance(item, str) and item.lower() == ALL:
            has_all = True
            continue
        try:
            if isinstance(item, (bool, float)):
                raise ValueError
            number = int(item)
        except (TypeError, ValueError):
            raise UserInputError(f"--real: {item!r} is not an integer >= 0 or 'all' (in {value!r})") from None
        if number < 0:
            raise UserInputError(f"--real: {number} is negative (in {value!r}); k counts real training documents")
        numbers.add(number)
    return (*sorted(numbers), *((ALL,) if has_all else ()))


def sample_real(documents: Sequence[Document], k: K, seed: int) -> list[Document]:
    """The first k documents of ``documents`` sorted by id and shuffled once with ``seed``.

    One shuffle for every k makes the samples nested (k = 25 is a prefix of k = 100); sorting
    first makes them independent of file order. ``k = "all"`` is every document.
    """
    ordered = sorted(documents, key=lambda d: (d.id, d.text))
    random.Random(seed).shuffle(ordered)
    if k == ALL:
        return ordered
    assert isinstance(k, int)
    if k > len(ordered):
        raise UserInputError(f"--real {k}: only {len(ordered)} training documents")
    return ordered[:k]


def require_config(name: str) -> None:
    """Raise unless ``name`` is in the builder's config table (read there, so new configs count)."""
    from ..builder import config_names

    if name not in config_names():
        raise UserInputError(
            f"--synthetic {name!r}: no such file, and not a builder config; valid configs: {', '.join(config_names())}"
        )


def synthetic_from_config(name: str, seed: int, num_documents: int | None = None) -> list[Document]:
    """The train split of builder config ``name`` (seed ``seed``, ``num_documents`` notes) as Documents.

    The builder's own split plan and per-shard document stream are used, so the documents are
    exactly the config's training rows (its style and complexity, held-out surface forms excluded),
    without building the evaluation splits or an Arrow cache.
    """
    from ..builder import make_builder

    require_config(name)
    overrides: dict[str, Any] = {"seed": seed}
    if num_documents is not None:
        overrides["num_train"] = num_documents
    with tempfile.TemporaryDirectory(prefix="odin-transfer-cache-") as cache:
        builder = make_builder(name, cache_dir=cache, **overrides)
        (train,) = [g for g in builder._split_generators(None) if str(g.name) == "train"]
        return [doc for shard in train.gen_kwargs["shards"] for doc in builder._shard_documents(shard)]


def load_synthetic(
    source: str | os.PathLike[str] | Sequence[Document], seed: int, num_documents: int | None = None
) -> tuple[list[Document], dict[str, Any]]:
    """(documents, description) from a documents file, a builder config name or a list of Documents."""
    if num_documents is not None and (isinstance(num_documents, bool) or num_documents < 1):
        raise UserInputError(f"--num-synthetic must be a positive integer, got {num_documents}")
    if not isinstance(source, (str, os.PathLike)):
        docs, info = list(source), {"source": "documents", "kind": "documents"}
    elif Path(source).exists():
        path = Path(source)
        if path.is_dir():
            raise UserInputError(f"--synthetic {path}: is a directory; give a JSON/JSONL documents file")
        try:
            docs = load_documents(path)
        except OSError as err:
            raise UserInputError(f"--synthetic {path}: cannot read it ({err.strerror or err})") from None
        info = {"source": str(path), "kind": "file"}
    else:
        docs = synthetic_from_config(str(source), seed, num_documents)
        info = {"source": str(source), "kind": "config", "seed": seed}
    if not docs:
        raise UserInputError(f"--synthetic {info['source']}: no documents")
    if num_documents is not None and info["kind"] != "config":
        if num_documents > len(docs):
            raise UserInputError(
                f"--num-synthetic {num_documents}: {info['source']} holds only {len(docs)} documents"
            )
        docs = docs[:num_documents]
    info["documents"] = len(docs)
    return docs, info


# --------------------------------------------------------------------------- systems


def _train_and_predict(
    system: str,
    train: list[Document],
    documents: list[Document],
    model_config: Path | None,
    model_options: dict[str, Any],
    batch_size: int,
    domains: list[str] | None = None,
) -> tuple[list[dict[str, Any]], float]:
    """(predictions for ``documents``, seconds spent training) of ``system`` trained on ``train``.

    ``domains`` (one source label per training document) makes the crf domain-aware; it tags the
    scored documents as "real". The model system trains on the plain mix with ``model_config``
    (checked by :func:`run_transfer`; the crf has none).
    """
    started = time.perf_counter()
    if system == "crf":
        from .baselines import CrfTagger

        tagger = CrfTagger().fit(train, domains=domains, target_domain="real")
        trained = time.perf_counter() - started
        return tagger.predict(documents), trained
    from ..schema import ENTITY_TYPES, RELATION_TYPES, save_documents
    from ..training import SLMTrainer
    from .runner import _model_predictions

    with tempfile.TemporaryDirectory(prefix="odin-transfer-model-") as work:
        path = save_documents(train, Path(work) / "train.jsonl", "jsonl")
        options = {"save_strategy": "no", **model_options, "output_dir": Path(work) / "model"}
        SLMTrainer(model_config, **options).train(path)
        trained = time.perf_counter() - started
        labels = (ENTITY_TYPES, RELATION_TYPES)  # what a documents file trains; scoring restricts them
        return _model_predictions(str(Path(work) / "model"), documents, labels, batch_size), trained


def _scores(report: dict[str, Any], types: Sequence[str], relations: bool) -> dict[str, Any]:
    strict = report["ner"]["strict"]
    scores: dict[str, Any] = {
        "ner_strict_f1": strict["micro"]["f1"],
        "ner_strict_precision": strict["micro"]["precision"],
        "ner_strict_recall": strict["micro"]["recall"],
        "ner_strict_per_type": {
            t: {k: strict["per_type"].get(t, {}).get(k, 0.0) for k in ("precision", "recall", "f1", "support")}
            for t in types
        },
    }
    if relations and "re" in report and "strict" in report["re"]:
        scores["re_strict_f1"] = report["re"]["strict"]["micro"]["f1"]
    return scores


# --------------------------------------------------------------------------- the benchmark


def _load_corpus(
    name: str, data_dir: Any, split: str, real: tuple[K, ...], allow_subset: bool = False
) -> dict[str, Any]:
    """The odin-labelled train and scored splits of a corpus, checked against the k values."""
    splits = load_benchmark_documents(name, data_dir, "odin", allow_subset=allow_subset)
    kept = without_negatives(splits)
    require_split(name, kept, split)
    require_split(name, kept, "train")
    largest = max((k for k in real if k != ALL), default=0)
    if largest > len(kept["train"]):
        raise UserInputError(
            f"--real {largest}: {name} has only {len(kept['train'])} training documents "
            f"(give at most {len(kept['train'])}, or 'all')"
        )
    return {
        "splits": kept,
        "excluded": sum(len(docs) for docs in splits.values()) - sum(len(docs) for docs in kept.values()),
    }


def _run_corpus(
    name: str,
    loaded: dict[str, Any],
    synthetic_docs: list[Document],
    split: str,
    ks: tuple[K, ...],
    seed: int,
    real_repeat: int,
    max_eval_docs: int | None,
    system: str,
    mix: str,
    train_and_predict: Any,
    progress: Any,
    data_dir: Any,
) -> dict[str, Any]:
    """The dictionary row and every (k, arm) run of one corpus: its entry in the report."""
    splits = loaded["splits"]
    gold = splits[split][:max_eval_docs]
    types, relation_types = odin_entity_types(name), odin_relation_types(name)
    keep_relations = system == "model"
    projected = [project_for_corpus(d, name, keep_relations=keep_relations) for d in synthetic_docs]
    entry: dict[str, Any] = {
        "data_dir": str(resolve_corpus_dir(get_corpus(name), data_dir)),
        "train_documents": len(splits["train"]),
        "scored_documents": len(gold),
        "split_documents": len(splits[split]),
        "negative_documents_excluded": loaded["excluded"],
        "scored_entity_types": list(types),
        "relation_types": list(relation_types) if keep_relations else [],
        "synthetic_mentions": sum(len(d.entities) for d in projected),
        "synthetic_mentions_before_projection": sum(len(d.entities) for d in synthetic_docs),
    }
    progress.set_postfix_str(f"{name} dictionary")
    tick = time.perf_counter()
    matched = predict("dictionary", {split: gold}, split, name, "odin")
    dictionary = score_predictions(name, "odin", matched, gold)
    entry["dictionary"] = {"scores": _scores(dictionary, types, False), "seconds": round(time.perf_counter() - tick, 2)}
    progress.update()
    runs = []
    entry["real_sample_ids"] = {}  # what each k trained on, so a run can be checked and repeated
    for k in ks:
        sample = sample_real(splits["train"], k, seed)
        if k != ALL:
            entry["real_sample_ids"][str(k)] = [d.id for d in sample]
        for arm in ARMS:
            run: dict[str, Any] = {"k": k, "n_real": len(sample), "arm": arm}
            if k == 0 and arm == "real":
                runs.append({**run, "n_train_docs": 0, "scores": None, "seconds": None, "train_seconds": None})
                continue
            real_part = sample if arm == "real" else sample * real_repeat
            synthetic_part = [] if arm == "real" else projected
            train = real_part + synthetic_part
            domains = None
            if mix == "domain" and system == "crf" and sample:
                domains = ["real"] * len(real_part) + ["synthetic"] * len(synthetic_part)
            progress.set_postfix_str(f"{name} k={k} {arm}")
            tick = time.perf_counter()
            predictions, train_seconds = train_and_predict(train, gold, domains)
            scored = score_predictions(name, "odin", predictions, gold)
            runs.append(
                {
                    **run,
                    "n_train_docs": len(train),
                    "scores": _scores(scored, types, keep_relations and bool(relation_types)),
                    "seconds": round(time.perf_counter() - tick, 2),
                    "train_seconds": round(train_seconds, 2),
                }
            )
            progress.update()
    entry["runs"] = runs
    return entry


def run_transfer(
    synthetic: str | os.PathLike[str] | Sequence[Document],
    corpora: Sequence[str] | str,
    system: str = "crf",
    real: str | Sequence[K] | None = None,
    seed: int = 0,
    split: str = "validation",
    *,
    num_synthetic: int | None = None,
    real_repeat: int = 1,
    data_dir: str | os.PathLike[str] | None = None,
    model_config: str | os.PathLike[str] | None = None,
    model_options: dict[str, Any] | None = None,
    batch_size: int = 32,
    max_eval_docs: int | None = None,
    mix: str = "domain",
    allow_subset: bool = False,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Train ``system`` on k real vs k real + synthetic documents per corpus; the JSON-ready report.

    ``synthetic``: a JSON/JSONL documents file, a builder config name (``1k``, ``10k``, ...:
    its train split generated with ``seed``) or Documents. ``real``: the k values (default
    :data:`DEFAULT_REAL` of the system). ``model_options`` override the model recipe's fields
    (``max_steps``, ``tiny_hidden_size``, ...). ``max_eval_docs`` scores only the first N documents
    of the split (file order), every system and the dictionary alike, for a quick look. ``mix``: see :data:`MIXES`. ``allow_subset``: accept corpus
    files whose counts differ from the originals (as ``benchmark --allow-subset``). Every input is
    checked before anything trains.
    """
    from tqdm.auto import tqdm

    if system not in SYSTEMS:
        raise UserInputError(f"unknown system {system!r}; valid: {', '.join(SYSTEMS)}")
    ks = parse_real(real if real is not None else DEFAULT_REAL[system])
    if mix not in MIXES:
        raise UserInputError(f"unknown mix {mix!r}; valid: {', '.join(MIXES)}")
    if isinstance(real_repeat, bool) or not isinstance(real_repeat, int) or real_repeat < 1:
        raise UserInputError(f"--real-repeat must be a positive integer, got {real_repeat!r}")
    if max_eval_docs is not None and (isinstance(max_eval_docs, bool) or max_eval_docs < 1):
        raise UserInputError(f"--max-eval-docs must be a positive integer, got {max_eval_docs!r}")
    names = [corpora] if isinstance(corpora, str) else list(corpora)
    if not names:
        raise UserInputError("give at least one corpus (--corpus NAME)")
    names = list(dict.fromkeys(get_corpus(n).name for n in names))
    config_path = Path(model_config) if model_config else DEFAULT_MODEL_CONFIG
    if system == "model" and config_path is None:
        raise UserInputError(
            f"--system model: no recipe config given, and {RECIPE_CONFIG} is only in a source checkout "
            "(this package is installed); give --model-config FILE"
        )
    if system == "model" and not config_path.is_file():
        raise UserInputError(f"model recipe config {config_path} not found; give --model-config FILE")
    if isinstance(synthetic, (str, os.PathLike)) and not Path(synthetic).exists():
        require_config(str(synthetic))  # a typo is reported before the corpora are read
    loaded = {name: _load_corpus(name, data_dir, split, ks, allow_subset) for name in names}
    synthetic_docs, synthetic_info = load_synthetic(synthetic, seed, num_synthetic)

    started = time.perf_counter()
    report: dict[str, Any] = {
        "synthetic": synthetic_info,
        "system": system,
        "seed": seed,
        "split": split,
        "real": list(ks),
        "real_repeat": real_repeat,
        "mix": mix if system == "crf" else "concat",
        "max_eval_docs": max_eval_docs,
        "allow_subset": allow_subset,
        "label_set": "odin",
        "metric": "NER strict micro-F1",
        "corpora": {},
    }
    if system == "model":
        report["model"] = {"config": str(config_path), "options": {k: str(v) for k, v in (model_options or {}).items()}}
    plan = [(name, k, arm) for name in names for k in ks for arm in ARMS if not (k == 0 and arm == "real")]
    progress = tqdm(total=len(plan) + len(names), desc="transfer", unit="run", disable=not show_progress)
    for name in names:
        report["corpora"][name] = _run_corpus(
            name, loaded[name], synthetic_docs, split, ks, seed, real_repeat, max_eval_docs, system, mix,
            lambda train, gold, domains: _train_and_predict(
                system, train, gold, config_path, model_options or {}, batch_size, domains
            ),
            progress, data_dir,
        )
    progress.close()
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


# --------------------------------------------------------------------------- outputs


def _f1(run: dict[str, Any] | None) -> float | None:
    return None if run is None or run["scores"] is None else run["scores"]["ner_strict_f1"]


def _cell(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def curve(entry: dict[str, Any]) -> list[tuple[K, int, float | None, float | None]]:
    """(k, real documents, real-only F1, real + synthetic F1) per k, in run order."""
    rows: dict[Any, dict[str, Any]] = {}
    for run in entry["runs"]:
        rows.setdefault(run["k"], {"n_real": run["n_real"]})[run["arm"]] = run
    return [(k, r["n_real"], _f1(r.get("real")), _f1(r.get("real+synthetic"))) for k, r in rows.items()]


def _scored(entry: dict[str, Any]) -> str:
    scored, total = entry["scored_documents"], entry.get("split_documents", entry["scored_documents"])
    return f"{scored:,}" if scored == total else f"the first {scored:,} of {total:,}"


def format_transfer_markdown(report: dict[str, Any]) -> str:
    """One table per corpus: k, real only, real + synthetic, their difference, and the dictionary row."""
    synthetic = report["synthetic"]
    source = f"{synthetic['source']} ({synthetic['kind']}, {synthetic['documents']:,} documents"
    source += f", seed {synthetic['seed']})" if "seed" in synthetic else ")"
    lines = [
        "# Transfer to real text",
        "",
        f"System **{report['system']}** trained on k real training documents (sampled with seed {report['seed']}, "
        f"nested) alone, and on the same k (x{report['real_repeat']}) plus the synthetic documents "
        f"{source}, mix '{report.get('mix', 'concat')}'; scored on the **{report['split']}** split with odin labels "
        f"({report['metric']}, only the types each corpus annotates). k = 0 is synthetic only. "
        "The dictionary row is the knowledge base's names matched in the text, with no training.",
    ]
    for name, entry in report["corpora"].items():
        lines += [
            "",
            f"## {name}",
            "",
            f"{_scored(entry)} {report['split']} documents scored; types: "
            f"{', '.join(entry['scored_entity_types'])}; {entry['train_documents']:,} real training documents.",
            "",
            "| real training documents (k) | real only | real + synthetic | delta |",
            "|---|---|---|---|",
        ]
        for k, n_real, alone, mixed in curve(entry):
            label = f"all ({n_real:,})" if k == ALL else f"{k:,}"
            delta = mixed - alone if alone is not None and mixed is not None else None
            lines.append(f"| {label} | {_cell(alone)} | {_cell(mixed)} | {_cell(delta, signed=True)} |")
        dictionary = entry["dictionary"]["scores"]["ner_strict_f1"]
        lines.append(f"| dictionary (zero-shot, no training) | {_cell(dictionary)} | — | — |")
    return "\n".join(lines) + "\n"


def plot_transfer(report: dict[str, Any]) -> bytes:
    """The learning curves as PNG bytes: one panel per corpus, k on a categorical axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    corpora = report["corpora"]
    fig, axes = plt.subplots(1, len(corpora), figsize=(4.2 * len(corpora), 3.6), squeeze=False)
    for ax, (name, entry) in zip(axes[0], corpora.items(), strict=True):
        points = curve(entry)
        xs = list(range(len(points)))
        labels = [f"all\n({n:,})" if k == ALL else str(k) for k, n, _, _ in points]
        for column, label, style in ((2, "real only", "o-"), (3, "real + synthetic", "s-")):
            pairs = [(x, p[column]) for x, p in zip(xs, points, strict=True) if p[column] is not None]
            if pairs:
                ax.plot(*zip(*pairs, strict=True), style, label=label)
        ax.axhline(entry["dictionary"]["scores"]["ner_strict_f1"], color="grey", linestyle="--", label="dictionary")
        ax.set_xticks(xs, labels)
        ax.set_ylim(0, 1)
        ax.set_title(f"{name} ({report['split']})")
        ax.set_xlabel("real training documents (k)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("NER strict micro-F1")
    axes[0][0].legend(loc="lower right", fontsize="small")
    fig.suptitle(f"{report['system']}: synthetic = {report['synthetic']['source']}", fontsize="medium")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def check_output_dir(
    output_dir: str | os.PathLike[str],
    overwrite: bool = False,
    inputs: Sequence[str | os.PathLike[str]] = (),
    *,
    create: bool = True,
) -> Path:
    """Refuse an output folder that would clobber a previous report or one of the inputs; create it."""
    directory = Path(output_dir)
    if directory.exists() and not directory.is_dir():
        raise UserInputError(f"output {directory} exists and is not a directory")
    for source in inputs:
        path = Path(source)
        if path.exists() and (
            path.resolve() == directory.resolve()
            or any(path.resolve() == (directory / name).resolve() for name in OUTPUT_FILES)
        ):
            raise UserInputError(f"--output {directory} would overwrite the input {path}; choose another folder")
    if (directory / "transfer.json").exists() and not overwrite:
        raise UserInputError(f"{directory / 'transfer.json'} already exists; pass --overwrite to replace it")
    return prepare_output_dir(directory) if create else directory


def write_transfer(
    report: dict[str, Any], output_dir: str | os.PathLike[str], overwrite: bool = False
) -> list[Path]:
    """``transfer.json``, ``transfer.md`` and ``transfer.png`` in ``output_dir``, each written atomically."""
    inputs = [report["synthetic"]["source"]] if report["synthetic"]["kind"] == "file" else []
    directory = check_output_dir(output_dir, overwrite, inputs)
    return [
        atomic_write_text(directory / "transfer.json", json.dumps(report, indent=1, ensure_ascii=False) + "\n"),
        atomic_write_text(directory / "transfer.md", format_transfer_markdown(report)),
        atomic_write_bytes(directory / "transfer.png", plot_transfer(report)),
    ]
