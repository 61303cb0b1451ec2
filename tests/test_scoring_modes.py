"""The scoring modes: one registered class each, so adding a mode is one class."""

from __future__ import annotations

import pytest

from odin_medical_ner_re.errors import UserInputError
from odin_medical_ner_re.scoring import ENTITY_MODES, RELATION_MODES, score_documents
from odin_medical_ner_re.scoring.modes import ENTITY_MODE_TABLE, RELATION_MODE_TABLE, EntityMode, RelationMode


def _doc(*entities: tuple[int, int, str], relations: tuple = ()) -> dict:
    text = "Aspirin relieves headache and fever."
    return {
        "text": text,
        "entities": [
            {"id": f"T{i + 1}", "start": s, "end": e, "type": t, "text": text[s:e]}
            for i, (s, e, t) in enumerate(entities)
        ],
        "relations": [{"type": t, "head": h, "tail": tl} for t, h, tl in relations],
    }


def test_the_tables_list_the_documented_modes_in_report_order():
    assert ENTITY_MODES == ("strict", "exact", "partial", "ent_type", "type")
    assert RELATION_MODES == ("strict", "boundaries", "relaxed")
    report = score_documents([_doc((0, 7, "Drug"))], [_doc((0, 7, "Drug"))])
    assert tuple(report["ner"]) == ENTITY_MODES and tuple(report["re"]) == RELATION_MODES


def test_every_mode_documents_its_rule():
    for mode in [*ENTITY_MODE_TABLE.values(), *RELATION_MODE_TABLE.values()]:
        assert type(mode).__doc__ and len(type(mode).__doc__.split()) >= 8, mode.name


def test_a_new_mode_is_one_class():
    """A subclass is registered by being defined and is scored like the built-in modes."""
    try:

        class SpanAnyType(EntityMode, name="test_span_any_type"):
            """Same span counts, whatever the type; overlaps count for nothing."""

            def micro(self, tally):
                return tally.same_span, 0, 0

            def per_type(self, tally, kind):
                return tally.same_span_type[kind], 0, 0

        class HeadOnly(RelationMode, name="test_head_only"):
            """Same type and the same head span; the tail is ignored."""

            loose = staticmethod(lambda key: (key[0], key[2], key[3]))

            def keys(self, relations):
                return [(d, kind, head[1], head[2]) for d, kind, head, _ in relations if head[1] is not None]

        gold = _doc((0, 7, "Drug"), (17, 25, "Symptom"), relations=[("treats", "T1", "T2")])
        pred = _doc((0, 7, "Symptom"), (17, 21, "Symptom"), relations=[("treats", "T1", "T2")])
        report = score_documents(
            [pred], [gold], entity_modes=["test_span_any_type"], relation_modes=["test_head_only"]
        )
        ner = report["ner"]["test_span_any_type"]["micro"]
        assert (ner["correct"], ner["missed"], ner["spurious"]) == (1, 1, 1)
        assert report["re"]["test_head_only"]["micro"]["correct"] == 1
        assert report["re"]["test_head_only"]["micro"]["correct"] != score_documents(
            [pred], [gold], relation_modes=["boundaries"]
        )["re"]["boundaries"]["micro"]["correct"]
    finally:
        ENTITY_MODE_TABLE.pop("test_span_any_type", None)
        RELATION_MODE_TABLE.pop("test_head_only", None)


def test_an_unknown_mode_is_a_user_error_naming_the_valid_ones():
    with pytest.raises(UserInputError, match="unknown entity mode 'strictest'.*strict, exact"):
        score_documents([_doc()], [_doc()], entity_modes=["strictest"])
    with pytest.raises(UserInputError, match="unknown relation mode 'loose'.*boundaries"):
        score_documents([_doc()], [_doc()], relation_modes="loose")
