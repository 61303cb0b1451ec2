"""``python -m odin_medical_ner_re.knowledge [--only DOMAIN ...]``: check the files, print counts."""

from __future__ import annotations

import argparse
import sys

from .loader import DATA_DIR, KnowledgeBaseError, coverage_problems, load_knowledge_base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m odin_medical_ner_re.knowledge", description=__doc__)
    parser.add_argument("--only", nargs="+", help="check only these domain files (names without .yaml)")
    parser.add_argument("--data-dir", default=str(DATA_DIR))
    args = parser.parse_args(argv)
    try:
        kb = load_knowledge_base(args.data_dir, only=args.only)
    except KnowledgeBaseError as err:
        print(err, file=sys.stderr)
        return 1
    for key, value in kb.counts().items():
        print(f"{key:>22}: {value}")
    gaps = coverage_problems(kb)
    for gap in gaps:
        print(f"warning: {gap}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
