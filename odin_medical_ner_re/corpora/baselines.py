"""Cheap, real baselines so that every benchmark report has a floor to compare a model with.

* :class:`DictionaryMatcher`: the knowledge base's surface forms matched in the text (longest
  match, word boundaries, case-insensitive except abbreviations). Zero-shot: it never sees the
  corpus, so it measures how far the curated vocabulary reaches into real abstracts. Its
  relations are knowledge-base edges between concepts matched in the same document.
* :class:`CrfTagger`: a linear-chain CRF (python-crfsuite) over word features, trained on the
  corpus's own training split, a supervised floor that trains on two CPU cores in minutes.
  :class:`CooccurrenceRelations` adds the classic co-occurrence relation baseline to it.

Predictions are plain document dicts (``{"id", "text", "entities", "relations"}``), the shape
``scoring.score_documents`` reads.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..knowledge import KnowledgeBase
from ..schema import Document
from ..tokenize import bio_tags, spans_from_bio, tokenize

Span = tuple[int, int, str]
Token = tuple[str, int, int]


def _prediction(
    doc: Document, spans: Iterable[Span], relations: Iterable[tuple[str, int, int]] = ()
) -> dict[str, Any]:
    """A prediction dict; ``relations`` are (type, head index, tail index) into ``spans``."""
    entities = [
        {"id": f"P{i + 1}", "start": s, "end": e, "type": t, "text": doc.text[s:e]}
        for i, (s, e, t) in enumerate(spans)
    ]
    rels = [
        {"id": f"PR{i + 1}", "type": kind, "head": f"P{h + 1}", "tail": f"P{t + 1}"}
        for i, (kind, h, t) in enumerate(relations)
    ]
    return {"id": doc.id, "text": doc.text, "entities": entities, "relations": rels}


# --------------------------------------------------------------------------- dictionary


class DictionaryMatcher:
    """Longest-match lookup of surface forms over word tokens.

    Forms and text are cut by the project's tokenizer, so a match always starts and ends on a
    word boundary ("MI" never matches inside "MIC"). Matching ignores case, except for
    abbreviations: "MS" (multiple sclerosis) or "AS" must not fire on "ms" and "as". Overlaps are
    resolved left to right, longest first.
    """

    def __init__(self, entries: Iterable[tuple[str, str, str, bool]]) -> None:
        """``entries``: (surface form, type, concept name, case-sensitive)."""
        self.folded: dict[tuple[str, ...], tuple[str, str]] = {}
        self.exact: dict[tuple[str, ...], tuple[str, str]] = {}
        for form, kind, concept, case_sensitive in entries:
            words = tuple(t for t, _, _ in tokenize(form))
            if not words:
                continue
            if case_sensitive:
                self.exact.setdefault(words, (kind, concept))
            else:
                self.folded.setdefault(tuple(w.casefold() for w in words), (kind, concept))
        self.longest = max((len(k) for k in (*self.folded, *self.exact)), default=0)
        self.edges: set[tuple[str, str, str]] = set()

    @classmethod
    def from_knowledge_base(cls, kb: KnowledgeBase, types: Iterable[str] | None = None) -> DictionaryMatcher:
        wanted = set(types) if types is not None else None
        entries = []
        for concept in kb.concepts.values():
            if wanted is not None and concept.type not in wanted:
                continue
            abbreviations = set(concept.abbreviations)
            entries += [
                (form, concept.type, concept.name, form in abbreviations) for form in concept.surface_forms
            ]
        matcher = cls(entries)
        matcher.edges = {(e.relation, e.head, e.tail) for e in kb.edges}
        return matcher

    def find(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, type, concept name) of every match, left to right, longest first."""
        tokens = tokenize(text)
        words = [t for t, _, _ in tokens]
        folded = [w.casefold() for w in words]
        found: list[tuple[int, int, str, str]] = []
        position = 0
        while position < len(tokens):
            for length in range(min(self.longest, len(tokens) - position), 0, -1):
                end = position + length
                hit = self.exact.get(tuple(words[position:end])) or self.folded.get(
                    tuple(folded[position:end])
                )
                if hit:
                    found.append((tokens[position][1], tokens[end - 1][2], hit[0], hit[1]))
                    position = end
                    break
            else:
                position += 1
        return found

    def predict(
        self, documents: Sequence[Document], relation_types: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """Entities, plus relations of ``relation_types`` that are knowledge-base edges in the document."""
        wanted = set(relation_types)
        predictions = []
        for doc in documents:
            matches = self.find(doc.text)
            relations = [
                (kind, h, t)
                for h, (_, _, _, head) in enumerate(matches)
                for t, (_, _, _, tail) in enumerate(matches)
                for kind in wanted
                if h != t and (kind, head, tail) in self.edges
            ]
            predictions.append(_prediction(doc, [(s, e, k) for s, e, k, _ in matches], relations))
        return predictions


# --------------------------------------------------------------------------- CRF

_DIGITS = re.compile(r"\d")
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")


def _shape(word: str) -> str:
    """Collapsed character classes ("Il-2" -> "Xx-d"): generalizes to unseen names."""
    shape = _LOWER.sub("x", _UPPER.sub("X", _DIGITS.sub("d", word)))
    return re.sub(r"(.)\1+", r"\1", shape)


def _word_features(word: str, prefix: str) -> list[str]:
    lower = word.lower()
    return [
        f"{prefix}w={lower}",
        f"{prefix}shape={_shape(word)}",
        f"{prefix}title={word.istitle()}",
        f"{prefix}upper={word.isupper()}",
    ]


def token_features(tokens: Sequence[Token], text: str) -> list[list[str]]:
    """CRF features: the word, its affixes and shape, and the same for two neighbours each side.

    ``space`` says whether whitespace precedes the token, the only hint the tokenizer keeps of
    "alpha-methyldopa" being one word and "alpha - methyldopa" three.
    """
    out = []
    for i, (word, start, _) in enumerate(tokens):
        lower = word.lower()
        feats = [
            "bias",
            f"p3={lower[:3]}",
            f"s2={lower[-2:]}",
            f"s3={lower[-3:]}",
            f"s4={lower[-4:]}",
            f"len={min(len(word), 8)}",
            f"digit={any(c.isdigit() for c in word)}",
            f"space={start > 0 and text[start - 1].isspace()}",
            *_word_features(word, ""),
        ]
        for offset in (-2, -1, 1, 2):
            j = i + offset
            if 0 <= j < len(tokens):
                feats += _word_features(tokens[j][0], f"{offset}:")
            else:
                feats.append(f"{offset}:{'BOS' if j < 0 else 'EOS'}")
        if i + 1 < len(tokens):
            feats.append(f"+1:glued={tokens[i + 1][1] == tokens[i][2]}")
        out.append(feats)
    return out


def with_domain(features: list[list[str]], domain: str | None) -> list[list[str]]:
    """Each token's features plus a copy marked with its domain ("frustratingly easy" domain
    adaptation, Daume III 2007): shared weights learn what holds in every source, the marked copies
    what holds in one, so synthetic text adds names and contexts without overruling how the target
    corpus draws its boundaries."""
    if domain is None:
        return features
    return [token + [f"{domain}|{f}" for f in token] for token in features]


class CrfTagger:
    """A BIO tagger trained with L-BFGS and elastic-net regularization (crfsuite defaults elsewhere).

    ``fit(documents, domains=...)`` trains on documents from several sources (one domain label per
    document, e.g. "real" and "synthetic"); ``predict`` then tags as ``target_domain``.
    """

    def __init__(self, c1: float = 0.05, c2: float = 0.01, max_iterations: int = 150) -> None:
        self.params = {
            "c1": c1,
            "c2": c2,
            "max_iterations": max_iterations,
            "feature.possible_transitions": True,
        }
        self.model_path: Path | None = None
        self.target_domain: str | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def fit(
        self,
        documents: Sequence[Document],
        model_path: str | Path | None = None,
        domains: Sequence[str] | None = None,
        target_domain: str = "real",
    ) -> CrfTagger:
        import pycrfsuite

        if domains is not None and len(domains) != len(documents):
            raise ValueError(f"{len(domains)} domain labels for {len(documents)} documents")
        self.target_domain = target_domain if domains is not None else None
        trainer = pycrfsuite.Trainer(verbose=False)
        for i, doc in enumerate(documents):
            tokens = tokenize(doc.text)
            if tokens:
                trainer.append(
                    with_domain(token_features(tokens, doc.text), domains[i] if domains is not None else None),
                    bio_tags(tokens, ((e.start, e.end, e.type) for e in doc.entities)),
                )
        trainer.set_params(self.params)
        if model_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="odin-crf-")
            model_path = Path(self._tmp.name) / "model.crfsuite"
        trainer.train(str(model_path))
        self.model_path = Path(model_path)
        return self

    def predict(self, documents: Sequence[Document]) -> list[dict[str, Any]]:
        import pycrfsuite

        if self.model_path is None:
            raise RuntimeError("fit() the tagger before predict()")
        tagger = pycrfsuite.Tagger()
        tagger.open(str(self.model_path))
        predictions = []
        for doc in documents:
            tokens = tokenize(doc.text)
            features = with_domain(token_features(tokens, doc.text), self.target_domain)
            tags = tagger.tag(features) if tokens else []
            predictions.append(_prediction(doc, spans_from_bio(tokens, tags)))
        tagger.close()
        return predictions


# --------------------------------------------------------------------------- co-occurrence relations


class CooccurrenceRelations:
    """Relate every pair of entities whose types were related in training, with the majority type.

    The standard floor for document-level relation extraction (recall near the ceiling,
    precision low): from the training split it learns, for each unordered pair of entity types,
    the most frequent relation type and its most frequent direction.
    """

    def __init__(self) -> None:
        self.rules: dict[frozenset[str] | tuple[str, str], tuple[str, str, str]] = {}

    def fit(self, documents: Sequence[Document]) -> CooccurrenceRelations:
        counts: dict[frozenset[str], Counter[tuple[str, str, str]]] = defaultdict(Counter)
        for doc in documents:
            types = {e.id: e.type for e in doc.entities}
            for r in doc.relations:
                head, tail = types[r.head], types[r.tail]
                counts[frozenset((head, tail))][(r.type, head, tail)] += 1
        self.rules = {key: counter.most_common(1)[0][0] for key, counter in counts.items()}
        return self

    def add_to(self, predictions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``predictions`` with co-occurrence relations added (in place, returned for chaining)."""
        for pred in predictions:
            entities = pred["entities"]
            relations = pred.setdefault("relations", [])
            for head in entities:
                for tail in entities:
                    rule = self.rules.get(frozenset((head["type"], tail["type"])))
                    if head is tail or rule is None or (rule[1], rule[2]) != (head["type"], tail["type"]):
                        continue
                    relations.append(
                        {
                            "id": f"PR{len(relations) + 1}",
                            "type": rule[0],
                            "head": head["id"],
                            "tail": tail["id"],
                        }
                    )
        return predictions
