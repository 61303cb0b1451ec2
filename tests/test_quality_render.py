"""Reading values out of a quality report by dotted path (the report tables and the cards)."""

from __future__ import annotations

from odin_medical_ner_re.quality import report_value

REPORT = {"documents": 4, "diversity": {"self_bleu": 0.25, "templates": {"distinct": 3}}, "leakage": None}


def test_report_value_follows_dotted_paths_and_blanks_what_is_missing():
    assert report_value(REPORT, "documents") == 4
    assert report_value(REPORT, "diversity.self_bleu") == 0.25
    assert report_value(REPORT, "diversity.templates") == {"distinct": 3}
    assert report_value(REPORT, "diversity.distinct_2") is None
    assert report_value(REPORT, "leakage.test.surface_overlap_share") is None


def test_scalar_report_values_leave_tables_out():
    assert report_value(REPORT, "diversity.templates", scalar=True) is None
    assert report_value(REPORT, "diversity.templates.distinct", scalar=True) == 3
