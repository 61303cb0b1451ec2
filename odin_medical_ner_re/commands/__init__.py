"""Sub-commands of ``odin-ner-re``; each module has ``register(subparsers)``."""
