"""The recipes' arguments: TRL's own classes plus this project's fields, and a parser that never tracebacks.

``DataArguments`` extends :class:`trl.ScriptArguments` and ``ModelArguments`` extends
:class:`trl.ModelConfig`, so TRL's flags (``--dataset_name``, ``--dataset_config``,
``--dataset_train_split``, ``--dtype``, ``--attn_implementation``, ``--lora_*``...) mean here
what they mean in ``trl/scripts/sft.py``. The few defaults changed from TRL's say why in
their help. Importing this module imports TRL (and transformers): a recipe imports it only
after :func:`~odin_medical_ner_re.training.launch.prepare` has imported Unsloth when needed.

The parser is TRL's ``TrlParser`` with every mistake turned into one
:class:`~odin_medical_ner_re.errors.UserInputError` naming the file, field or flag:
a missing or malformed config, a YAML that is not a mapping, an unknown field or flag,
a value of the wrong type, ``--max_steps`` below -1.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trl import ModelConfig, ScriptArguments, SFTConfig, TrlParser

from ..errors import UserInputError
from ..formats import LINE_BREAKS, LOOKAHEAD
from .launch import TINY, config_from_argv
from .tiny import TinyModelSpec

#: ``--dataset_name`` values that mean the synthetic notes of this package's builder.
BUILDER_NAMES = ("odin_medical_ner_re", "odin-medical-ner-re")
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _help(text: str, **extra: Any) -> dict[str, Any]:
    return {"help": text, **extra}


@dataclass
class DataArguments(ScriptArguments):
    """Where the training and evaluation documents come from, and how the model is scored.

    ``--dataset_name`` is TRL's flag: ``odin_medical_ner_re`` (or unset) is the builder,
    with ``--dataset_config`` 1k, 10k or complex; a builder config name alone works too; a
    ``.json``/``.jsonl`` documents file trains on that file; a benchmark name (bc5cdr,
    biored, ade, ncbi_disease) trains on that corpus with its native labels.
    """

    dataset_name: str | None = field(
        default=None,
        metadata=_help(
            "odin_medical_ner_re (the default: the synthetic-notes builder, see --dataset_config), a builder "
            "config (1k, 10k, complex, literature), a JSON/JSONL documents file, or a benchmark (bc5cdr, biored, ade, "
            "ncbi_disease; see --benchmark_data_dir)"
        ),
    )
    dataset_config: str | None = field(
        default="1k", metadata=_help("builder config: 1k, 10k, complex or literature (the builder's default: 1k)")
    )
    dataset_test_split: str = field(
        default="validation",
        metadata=_help("split evaluated during training (TRL's default is 'test'; here 'test' is kept for scoring)"),
    )
    dataset_path: str | None = field(
        default=None, metadata=_help("a JSON/JSONL documents file (same as --dataset_name FILE; kept for old configs)")
    )
    benchmark: str | None = field(
        default=None, metadata=_help("a real corpus with native labels (same as --dataset_name NAME)")
    )
    benchmark_data_dir: str | None = field(default=None, metadata=_help("folder holding the benchmark's files"))
    num_train: int | None = field(default=None, metadata=_help("builder: training notes (overrides the config)"))
    num_validation: int | None = field(default=None, metadata=_help("builder: validation notes"))
    num_test: int | None = field(default=None, metadata=_help("builder: test notes"))
    num_test_unseen: int | None = field(default=None, metadata=_help("builder: test_unseen notes"))
    dataset_seed: int | None = field(default=None, metadata=_help("builder: generation seed (overrides the config)"))
    build_num_proc: int | None = field(default=None, metadata=_help("builder: processes that generate the notes"))
    pseudo_name_rate: float = field(
        default=0.0, metadata=_help("share of mentions replaced by invented names in the extra training copies")
    )
    pseudo_name_copies: int = field(
        default=0, metadata=_help("renamed copies of each training note (teaches context over vocabulary)")
    )
    augment_factor: int = field(
        default=0,
        metadata=_help(
            "augmented variants of each training note (odin_medical_ner_re.augment; surface forms held out "
            "for test_unseen are never introduced); 0 = none"
        ),
    )
    augment_strategies: str = field(
        default="paraphrase,substitute,reword,expand",
        metadata=_help("comma-separated augmentation strategies: paraphrase, substitute, reword, expand"),
    )
    generation_eval_samples: int = field(
        default=32, metadata=_help("validation notes generated and scored (F1) at each evaluation; 0 = loss only")
    )
    evaluate_splits: list[str] | None = field(
        default=None,
        metadata=_help("splits scored after training, e.g. --evaluate_splits test test_unseen, or '[]' for none"),
    )
    max_eval_samples: int | None = field(default=None, metadata=_help("score only the first N documents per split"))
    max_new_tokens: int = field(default=320, metadata=_help("generation budget per document (free generation)"))
    eval_batch_size: int = field(default=16, metadata=_help("documents generated at once when scoring"))
    tag_lookahead: int = field(
        default=LOOKAHEAD, metadata=_help("words between a word and its tags in the completion (0 = right after)")
    )
    tag_line_breaks: bool = field(
        default=LINE_BREAKS,
        metadata=_help("write the note's line breaks into the completion, so the model sees where a line ends"),
    )

    def overrides(self) -> dict[str, Any]:
        """The builder options set here (size and seed), for ``load_dataset``."""
        values = {
            "num_train": self.num_train,
            "num_validation": self.num_validation,
            "num_test": self.num_test,
            "num_test_unseen": self.num_test_unseen,
            "seed": self.dataset_seed,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class ModelArguments(ModelConfig):
    """The model to train and how; TRL's ``ModelConfig`` plus the backend and the tiny model's shape."""

    model_name_or_path: str | None = field(
        default=TINY,
        metadata=_help("'tiny' (a small Llama trained from scratch, no download), a Hub id or a local folder"),
    )
    dtype: str | None = field(
        default=None,
        metadata=_help(
            "dtype the pretrained model is loaded in; unset: bfloat16 on a GPU, float32 on CPU "
            "(TRL's default is float32 everywhere)",
            choices=["auto", "bfloat16", "float16", "float32"],
        ),
    )
    lora_dropout: float = field(
        default=0.0, metadata=_help("LoRA dropout (0, as Unsloth recommends; TRL's default is 0.05)")
    )
    lora_target_modules: list[str] | None = field(
        default_factory=lambda: list(LORA_TARGETS),
        metadata=_help("LoRA target modules (default: every attention and MLP projection, or 'all-linear')"),
    )
    backend: str = field(
        default="auto",
        metadata=_help("auto (Unsloth when installed and a CUDA GPU is present), unsloth or transformers",
                       choices=["auto", "unsloth", "transformers"]),
    )
    max_seq_length: int = field(
        default=2048, metadata=_help("longest sequence the model is set up for (Unsloth, tiny model positions)")
    )
    tiny_hidden_size: int = field(default=256, metadata=_help("tiny model: hidden size"))
    tiny_num_layers: int = field(default=4, metadata=_help("tiny model: layers"))
    tiny_num_heads: int = field(default=4, metadata=_help("tiny model: attention heads"))
    tiny_intermediate_size: int = field(default=1024, metadata=_help("tiny model: MLP size"))
    tiny_vocab_size: int = field(default=2048, metadata=_help("tiny model: BPE vocabulary trained on the notes"))

    def tiny_spec(self) -> TinyModelSpec:
        return TinyModelSpec(
            hidden_size=self.tiny_hidden_size,
            num_hidden_layers=self.tiny_num_layers,
            num_attention_heads=self.tiny_num_heads,
            intermediate_size=self.tiny_intermediate_size,
            max_position_embeddings=max(self.max_seq_length, 512),
            vocab_size=self.tiny_vocab_size,
        )


@dataclass
class EvaluationArguments:
    """``recipes/evaluate_model.py`` only: which trained folder to score and where the report goes."""

    model_path: str | None = field(
        default=None,
        metadata=_help("trained output folder (full model or LoRA adapter); default: --output_dir", aliases=["--model"]),
    )
    report_path: str | None = field(
        default=None, metadata=_help("report file (default: MODEL/report.json)", aliases=["--output"])
    )


class RecipeParser(TrlParser):
    """``TrlParser`` whose mistakes are :class:`UserInputError` lines, not usage dumps or tracebacks."""

    def error(self, message: str) -> None:  # argparse calls this for a bad value or a missing argument
        raise UserInputError(message)


def training_parser() -> RecipeParser:
    """The parser of ``recipes/train.py``: (DataArguments, SFTConfig, ModelArguments), as TRL's sft.py."""
    return RecipeParser((DataArguments, SFTConfig, ModelArguments))


def evaluation_parser() -> RecipeParser:
    """The same parser plus the folder to score: one config file serves training and evaluation."""
    return RecipeParser((DataArguments, SFTConfig, ModelArguments, EvaluationArguments))


def parse_recipe_args(parser: RecipeParser, argv: Sequence[str]) -> tuple[Any, ...]:
    """Parse ``--config FILE`` plus command-line overrides as ``TrlParser.parse_args_and_config`` does.

    The config file is read and checked here (so its errors name the file and line), then
    given to the parser as defaults; the command line wins. List fields given as one
    JSON/YAML list (``--evaluate_splits '[]'``) are parsed as lists, the way TRL and
    transformers parse ``'{...}'`` for dict fields.
    """
    args = list(argv)
    path, config = config_from_argv(args)
    if path is not None:
        while "--config" in args:
            index = args.index("--config")
            del args[index : index + 2]
        args = [a for a in args if not a.startswith("--config=")]
        env = config.pop("env", {})
        if not isinstance(env, dict):
            raise UserInputError(f"config file {path}: `env` must be a mapping of VARIABLE: value")
        _check_fields(parser, config, path)
        for key, value in env.items():
            os.environ[str(key)] = str(value)
        parser.set_defaults_with_config(**config)
    _check_flags(parser, args)
    try:
        outputs = parser.parse_args_into_dataclasses(args=args, return_remaining_strings=True)
    except UserInputError:
        raise
    except (ValueError, TypeError) as err:  # a dataclass's own check (__post_init__) refused a value
        where = f"config file {path} or the command line" if path else "the command line"
        raise UserInputError(f"invalid setting in {where}: {_first_line(err)}") from None
    *groups, remaining = outputs
    if remaining:
        raise UserInputError(f"unexpected argument(s) {' '.join(remaining)}: every setting is a --flag value pair")
    for group in groups:
        _parse_list_fields(group)
        _check_values(group)
    return tuple(groups)


def _known_fields(parser: RecipeParser) -> set[str]:
    return {f.name for dtype in parser.dataclass_types for f in dataclasses.fields(dtype) if f.init}


def _check_fields(parser: RecipeParser, config: dict[str, Any], path: str) -> None:
    known = _known_fields(parser)
    for key in config:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserInputError(f"config file {path}: unknown field {key!r}{hint}")


def _check_flags(parser: RecipeParser, args: Sequence[str]) -> None:
    """Refuse an unknown ``--flag`` by name (argparse would otherwise take a prefix or ignore it)."""
    options = {option for action in parser._actions for option in action.option_strings}
    for item in args:
        if not item.startswith("--"):
            continue
        flag = item.split("=", 1)[0]
        if flag not in options:
            names = [o for o in options if o.startswith("--")]
            close = difflib.get_close_matches(flag, names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UserInputError(f"unknown flag {flag}{hint}; see --help for the settings")


def _parse_list_fields(group: Any) -> None:
    """``['[a, b]']`` -> ``['a', 'b']`` and ``['[]']`` -> ``[]`` for list fields set on the command line."""
    import yaml

    if not isinstance(group, (DataArguments, ModelArguments, EvaluationArguments)):
        return  # SFTConfig parses its own dict fields (JSON strings) in __post_init__
    for f in dataclasses.fields(group):
        value = getattr(group, f.name, None)
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and value[0].startswith("["):
            try:
                parsed = yaml.safe_load(value[0])
            except yaml.YAMLError:
                raise UserInputError(f"--{f.name}: {value[0]!r} is not a list") from None
            if not isinstance(parsed, list):
                raise UserInputError(f"--{f.name}: {value[0]!r} is not a list")
            setattr(group, f.name, [str(item) for item in parsed])


def _check_values(group: Any) -> None:
    """The checks TRL leaves until later (or never: a negative ``max_steps`` silently trains whole epochs)."""
    if isinstance(group, SFTConfig) and group.max_steps < -1:
        raise UserInputError(
            f"max_steps must be -1 (train for num_train_epochs) or a positive number of steps, got {group.max_steps}"
        )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
