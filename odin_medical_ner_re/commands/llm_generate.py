"""``odin-ner-re llm-generate``: notes from an OpenAI-compatible chat model, validated.

See :mod:`odin_medical_ner_re.llm_generate` for what is checked and why.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

_EPILOG = """\
The endpoint is any OpenAI-compatible server: http://localhost:8000 (vLLM, TGI, llama.cpp,
Ollama at http://localhost:11434), https://api.openai.com, https://router.huggingface.co.
The API key is read from the environment variable named by --api-key-env, never from the
command line. Exit status 0 when --num notes were accepted, 1 when fewer were (the accepted
ones are still written, also when the run is interrupted), 2 on a usage error. --timeout bounds
each request in all, so a server that trickles its answer is cut off.

example:
  HF_TOKEN=... odin-ner-re llm-generate --endpoint https://router.huggingface.co/v1 \\
      --model meta-llama/Llama-3.1-8B-Instruct --api-key-env HF_TOKEN --num 50 --output llm.jsonl
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "llm-generate",
        help="generate notes with an OpenAI-compatible chat model and keep only validated ones",
        description="Ask a chat model for notes that state chosen knowledge-base facts; parse, re-align, "
        "validate and fact-check every answer; count rejections by reason.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--endpoint", required=True, metavar="URL", help="base URL of the chat-completions API"
    )
    parser.add_argument("--model", required=True, metavar="NAME")
    parser.add_argument("--num", type=int, required=True, metavar="N", help="notes wanted (at most 100,000)")
    parser.add_argument("--output", required=True, metavar="PATH", help="accepted notes (.json or .jsonl)")
    parser.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key")
    parser.add_argument("--max-attempts", type=int, metavar="M", help="model calls at most (default: 2 x N)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for fact choice and the request seed (default: 0)"
    )
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--max-tokens", type=int, default=1024)
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds per request, in all: a slow or trickling answer is cut off (default: 120)",
    )
    parser.add_argument(
        "--rejected", metavar="PATH", help="also write rejected answers with their reason (JSONL)"
    )
    parser.set_defaults(func=run)


#: Notes per run at most: each is a paid model call and all are held in memory until written.
MAX_NUM = 100_000


def run(args: argparse.Namespace) -> int:
    from ..errors import UserInputError
    from ..files import check_output_file
    from ..knowledge import load_knowledge_base
    from ..llm_generate import ChatClient, api_key_from_env, chat_url, generate, write_rejected
    from ..schema import save_documents

    if args.num > MAX_NUM:
        raise UserInputError(
            f"--num must be at most {MAX_NUM:,}, got {args.num:,}: every note is a model call (paid, on a "
            "hosted API) and all are held in memory until written; run several times with other --seed values"
        )
    if args.max_attempts is not None and args.max_attempts < 1:
        raise UserInputError(f"--max-attempts must be at least 1, got {args.max_attempts}")
    if not args.timeout > 0:
        raise UserInputError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    chat_url(args.endpoint)  # a bad URL fails before any work
    check_output_file(args.output)
    if args.rejected:
        check_output_file(args.rejected, inputs=(args.output,), what="--rejected")
    client = ChatClient(
        args.endpoint,
        args.model,
        api_key_from_env(args.api_key_env),
        timeout=args.timeout,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
    )
    kb = load_knowledge_base()
    documents: list[Any] = []
    rejected: list[dict[str, Any]] = []
    try:
        _, stats, _ = generate(
            client,
            kb,
            args.num,
            seed=args.seed,
            max_attempts=args.max_attempts,
            show_progress=True,
            accepted=documents,
            rejected=rejected,
        )
    except BaseException:
        if documents:  # what was paid for is kept, whatever stopped the run
            save_documents(documents, args.output)
            print(
                f"wrote the {len(documents)} notes accepted before the run stopped to {args.output}",
                file=sys.stderr,
            )
        raise
    save_documents(documents, args.output)
    if args.rejected:
        write_rejected(rejected, args.rejected)
    print(stats.summary())
    print(f"wrote {len(documents)} notes to {args.output}")
    if len(documents) < args.num:
        print(
            f"error: only {len(documents)} of {args.num} notes passed validation "
            f"(the accepted ones are in {args.output}; reasons above)",
            file=sys.stderr,
        )
        return 1
    return 0
