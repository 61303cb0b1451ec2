"""Documents to dataset rows as one Arrow table per batch: the builder's fast path.

``datasets`` turns a Python dict per example into Arrow by walking every nested value through
``Features.encode_example`` (a ``ClassLabel`` lookup per BIO tag, a dict per entity), which
cost the builder several times the price of writing the note. Here a batch of documents
becomes flat Python lists, one per leaf column, that ``pyarrow`` converts in C; labels are
turned into ``ClassLabel`` indices by one dict lookup each. The rows are exactly those of
:func:`~odin_medical_ner_re.builder.document_to_example` encoded with the same features
(``tests/test_arrow_rows.py`` holds the two together).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate, chain
from operator import attrgetter

import datasets
import pyarrow as pa

from .schema import Document
from .tokenize import tokens_and_tags

_ENTITY_FIELDS = ("id", "text", "type", "start", "end", "negated")
_RELATION_FIELDS = ("id", "type", "head", "tail")


class RowEncoder:
    """Encodes batches of documents for one ``features`` schema (label indices computed once)."""

    def __init__(self, features: datasets.Features) -> None:
        self.schema = features.arrow_schema
        self.entity_index = _label_index(features["entities"].feature["type"])
        self.relation_index = _label_index(features["relations"].feature["type"])
        tag_index = _label_index(features["ner_tags"].feature)
        self.outside = tag_index["O"]
        #: entity type -> (B- index, I- index), for every type with both tags
        self.tag_codes = {
            name[2:]: (index, tag_index["I-" + name[2:]])
            for name, index in tag_index.items()
            if name.startswith("B-") and "I-" + name[2:] in tag_index
        }
        self._entities_type = self.schema.field("entities").type
        self._relations_type = self.schema.field("relations").type
        self._tokens_type = self.schema.field("tokens").type
        self._tags_type = self.schema.field("ner_tags").type
        self._metadata_type = self.schema.field("metadata").type

    def table(
        self, documents: Sequence[Document], config: str, split: str, seed: int, shard: int
    ) -> pa.Table:
        """One table holding ``documents`` in order, with the builder's columns."""
        entities = [doc.entities for doc in documents]
        relations = [doc.relations for doc in documents]
        tokens, tags = [], []
        for doc in documents:
            doc_tokens, doc_tags = tokens_and_tags(
                doc.text, [(e.start, e.end, e.type) for e in doc.entities], self.tag_codes, self.outside
            )
            tokens.append(doc_tokens)
            tags.append(doc_tags)
        n = len(documents)
        templates = [doc.metadata.get("templates", []) for doc in documents]
        metadata = pa.StructArray.from_arrays(
            [
                pa.array([config] * n, pa.string()),
                pa.array([split] * n, pa.string()),
                pa.array([seed] * n, pa.int64()),
                pa.array([shard] * n, pa.int32()),
                pa.array(templates, self._metadata_type.field(4).type),
            ],
            fields=list(self._metadata_type),
        )
        columns = [
            pa.array([doc.id for doc in documents], pa.string()),
            pa.array([doc.text for doc in documents], pa.string()),
            _struct_list(entities, _ENTITY_FIELDS, {"type": self.entity_index}, self._entities_type),
            _struct_list(relations, _RELATION_FIELDS, {"type": self.relation_index}, self._relations_type),
            pa.array(tokens, self._tokens_type),
            pa.array(tags, self._tags_type),
            metadata,
        ]
        return pa.Table.from_arrays(columns, schema=self.schema)


def _label_index(label: datasets.ClassLabel) -> dict[str, int]:
    return {name: index for index, name in enumerate(label.names)}


def _offsets(lists: Sequence[Sequence[object]]) -> pa.Array:
    return pa.array(list(accumulate(map(len, lists), initial=0)), pa.int32())


def _struct_list(
    rows: Sequence[Sequence[object]],
    names: tuple[str, ...],
    labels: dict[str, dict[str, int]],
    list_type: pa.ListType,
) -> pa.Array:
    """A list-of-structs column from per-row lists of objects with attributes ``names``."""
    item_type: pa.StructType = list_type.value_type
    flat = list(chain.from_iterable(rows))
    children = []
    for index, name in enumerate(names):
        values = list(map(attrgetter(name), flat))
        if name in labels:
            values = list(map(labels[name].__getitem__, values))
        children.append(pa.array(values, item_type.field(index).type))
    items = pa.StructArray.from_arrays(children, fields=list(item_type))
    return pa.ListArray.from_arrays(_offsets(rows), items, type=list_type)
